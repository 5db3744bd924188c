// WorkQueue: de-duplication, never twice at once, delayed adds, per-key backoff, shutdown.
#include "plumbline/reconcile/work_queue.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace plumbline {
namespace {

using std::chrono::milliseconds;

TEST(WorkQueueTest, AKeyIsQueuedOnce) {
  WorkQueue queue;
  queue.add("prod");
  queue.add("staging");
  queue.add("prod");
  EXPECT_EQ(queue.depth(), 2u);
  EXPECT_EQ(queue.get(), "prod");
  EXPECT_EQ(queue.get(), "staging");
  EXPECT_EQ(queue.get_for(milliseconds(10)), std::nullopt);
}

// The metrics' view: how long each key waited in the queue (from its add, or from the end of
// its delay), and each retry.
TEST(WorkQueueTest, ReportsHowLongAKeyWaitedAndEachRetry) {
  std::vector<double> waits;  // only the worker thread (this one) calls on_wait here
  int retries = 0;
  WorkQueue queue({.backoff_base = milliseconds(1),
                   .on_wait = [&](std::chrono::duration<double> w) { waits.push_back(w.count()); },
                   .on_retry = [&] { ++retries; }});
  queue.add("prod");
  std::this_thread::sleep_for(milliseconds(30));
  ASSERT_EQ(queue.get(), "prod");
  ASSERT_EQ(waits.size(), 1u);
  EXPECT_GE(waits[0], 0.030);
  EXPECT_LT(waits[0], 5.0);
  queue.add_rate_limited("prod");
  queue.done("prod");
  ASSERT_EQ(queue.get_for(milliseconds(500)), "prod");
  queue.done("prod");
  EXPECT_EQ(retries, 1);
  ASSERT_EQ(waits.size(), 2u);
  EXPECT_LT(waits[1], 0.5);  // counted from the end of the 1 ms delay, not the add
}

TEST(WorkQueueTest, AKeyBeingProcessedIsNotHandedOutUntilDone) {
  WorkQueue queue;
  queue.add("prod");
  ASSERT_EQ(queue.get(), "prod");
  queue.add("prod");  // a change arrives while prod reconciles
  queue.add("prod");
  EXPECT_EQ(queue.get_for(milliseconds(20)), std::nullopt) << "never twice at once";
  queue.done("prod");
  EXPECT_EQ(queue.get_for(milliseconds(20)), "prod") << "the change is not lost";
  queue.done("prod");
  EXPECT_EQ(queue.get_for(milliseconds(20)), std::nullopt) << "and reconciled once";
}

TEST(WorkQueueTest, DelayedAddsAreReleasedInTimeOrder) {
  WorkQueue queue;
  auto start = WorkQueue::Clock::now();
  queue.add_after("late", milliseconds(60));
  queue.add_after("soon", milliseconds(20));
  EXPECT_EQ(queue.depth(), 0u);
  EXPECT_EQ(queue.get(), "soon");
  EXPECT_EQ(queue.get(), "late");
  EXPECT_GE(WorkQueue::Clock::now() - start, milliseconds(60));
}

TEST(WorkQueueTest, FailuresBackOffExponentiallyPerKeyUntilForgotten) {
  WorkQueue queue({.backoff_base = milliseconds(10), .backoff_max = milliseconds(1000)});
  std::vector<long> waits;
  for (int i = 0; i < 4; ++i) {
    auto start = WorkQueue::Clock::now();
    queue.add_rate_limited("prod");
    ASSERT_EQ(queue.get(), "prod");
    queue.done("prod");
    waits.push_back(
        std::chrono::duration_cast<milliseconds>(WorkQueue::Clock::now() - start).count());
  }
  EXPECT_EQ(queue.failures("prod"), 4);
  // 10, 20, 40, 80 ms (timer slack allowed above, never below).
  EXPECT_GE(waits[0], 10);
  EXPECT_GE(waits[1], 20);
  EXPECT_GE(waits[2], 40);
  EXPECT_GE(waits[3], 80);
  EXPECT_LT(waits[3], 500);
  queue.forget("prod");
  EXPECT_EQ(queue.failures("prod"), 0);
  EXPECT_EQ(queue.failures("staging"), 0) << "backoff is per key";
}

TEST(WorkQueueTest, TheTokenBucketBoundsRetriesOfAllKeys) {
  WorkQueue queue({.backoff_base = milliseconds(0), .retry_qps = 50, .retry_burst = 2});
  auto start = WorkQueue::Clock::now();
  for (const char* key : {"a", "b", "c", "d"}) queue.add_rate_limited(key);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(queue.get().has_value());
  }
  // Two tokens in the burst, then 50/s: the fourth waits ~40 ms.
  EXPECT_GE(WorkQueue::Clock::now() - start, milliseconds(35));
}

TEST(WorkQueueTest, ShutDownWakesWaitersAndRefusesNewWork) {
  WorkQueue queue;
  std::optional<std::string> got = "unset";
  std::thread waiter([&] { got = queue.get(); });
  std::this_thread::sleep_for(milliseconds(20));
  queue.shut_down();
  waiter.join();
  EXPECT_EQ(got, std::nullopt);
  queue.add("prod");
  EXPECT_EQ(queue.depth(), 0u);
}

}  // namespace
}  // namespace plumbline
