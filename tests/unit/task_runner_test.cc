// ThreadTaskRunner: every task runs once, at once where it may, and the calling thread waits.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "plumbline/process/thread_task_runner.h"

namespace plumbline {
namespace {

std::vector<std::function<void()>> counting(std::vector<std::atomic<int>>& runs) {
  std::vector<std::function<void()>> tasks;
  for (size_t i = 0; i < runs.size(); ++i) tasks.emplace_back([&runs, i] { ++runs[i]; });
  return tasks;
}

TEST(ThreadTaskRunner, RunsEveryTaskExactlyOnceBeforeReturning) {
  for (size_t concurrency : {1, 2, 8}) {
    for (size_t count : {0, 1, 3, 1000}) {
      SCOPED_TRACE(std::to_string(concurrency) + " threads, " + std::to_string(count) + " tasks");
      std::vector<std::atomic<int>> runs(count);
      ThreadTaskRunner runner(concurrency);
      runner.run(counting(runs));
      for (size_t i = 0; i < count; ++i) ASSERT_EQ(runs[i].load(), 1) << i;
    }
  }
}

TEST(ThreadTaskRunner, RunsTasksAtOnceUpToItsConcurrency) {
  // Two tasks that each wait for the other finish only if they run at the same time.
  ThreadTaskRunner runner(2);
  EXPECT_EQ(runner.concurrency(), 2U);
  std::atomic<int> arrived{0};
  std::atomic<bool> met{true};
  auto meet = [&] {
    ++arrived;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (arrived.load() < 2) {
      if (std::chrono::steady_clock::now() > deadline) {
        met = false;
        return;
      }
      std::this_thread::yield();
    }
  };
  std::vector<std::function<void()>> tasks{meet, meet};
  runner.run(tasks);
  EXPECT_TRUE(met.load());
}

TEST(ThreadTaskRunner, ConcurrencyIsAtLeastOneAndTheDefaultIsBounded) {
  EXPECT_EQ(ThreadTaskRunner(0).concurrency(), 1U);
  size_t cpus = default_task_concurrency();
  EXPECT_GE(cpus, 1U);
  EXPECT_LE(cpus, 8U);
  InlineTaskRunner inline_runner;
  std::vector<std::atomic<int>> runs(5);
  inline_runner.run(counting(runs));
  for (auto& r : runs) EXPECT_EQ(r.load(), 1);
}

}  // namespace
}  // namespace plumbline

namespace plumbline {
namespace {

TEST(RunInSlices, CoversEveryItemOnceInContiguousSlicesAndRunsInlineWhenSmall) {
  ThreadTaskRunner threads(3);
  for (size_t count : {0, 1, 63, 64, 1000}) {
    SCOPED_TRACE(std::to_string(count) + " items");
    std::vector<std::atomic<int>> seen(count);
    std::atomic<size_t> slices{0};
    run_in_slices(&threads, count, [&](size_t begin, size_t end) {
      ASSERT_LT(begin, end);
      ++slices;
      for (size_t i = begin; i < end; ++i) ++seen[i];
    });
    for (size_t i = 0; i < count; ++i) ASSERT_EQ(seen[i].load(), 1) << i;
    // Below 64 items, or without a runner: one slice; else 4 per thread.
    EXPECT_EQ(slices.load(), count == 0 ? 0U : count < 64 ? 1U : 12U);
  }
  size_t calls = 0;
  run_in_slices(nullptr, 1000, [&](size_t begin, size_t end) {
    EXPECT_EQ(begin, 0U);
    EXPECT_EQ(end, 1000U);
    ++calls;
  });
  EXPECT_EQ(calls, 1U);
}

}  // namespace
}  // namespace plumbline
