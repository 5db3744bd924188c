// plumbline/core/task_runner.h — independent pieces of work, run at once where the caller allows.
//
// The core starts no threads: a render that can split its work (the documents of one large
// file, the files of a directory) hands the pieces to the TaskRunner its caller gave, and an
// edge decides how many run at once (plumbline/process/thread_task_runner.h). Without one,
// or with InlineTaskRunner, the pieces run one after the other on the calling thread, with the
// same results.
//
//   std::vector<std::function<void()>> tasks = ...;  // each writes only its own slot
//   runner.run(tasks);                                // returns when every task is done
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <span>
#include <vector>

namespace plumbline {

class TaskRunner {
 public:
  virtual ~TaskRunner() = default;
  // How many tasks may run at once; 1 means one after the other.
  virtual size_t concurrency() const = 0;
  // Runs every task and returns when all are done. Tasks must not throw, and must not share
  // mutable state unless they synchronize it themselves.
  virtual void run(std::span<const std::function<void()>> tasks) = 0;
};

// One after the other, on the calling thread: the default, and the fake of tests.
class InlineTaskRunner final : public TaskRunner {
 public:
  size_t concurrency() const override { return 1; }
  void run(std::span<const std::function<void()>> tasks) override {
    for (const auto& task : tasks) task();
  }
};

// Calls slice(begin, end) over consecutive slices covering [0, count), in as many tasks as
// keep every thread busy (4 per thread, so a slow slice does not leave the others idle). With
// no runner, a runner of concurrency 1, or fewer than `min_count` items: one slice, inline.
inline void run_in_slices(TaskRunner* tasks, size_t count,
                          const std::function<void(size_t begin, size_t end)>& slice,
                          size_t min_count = 64) {
  size_t concurrency = tasks != nullptr ? tasks->concurrency() : 1;
  if (concurrency < 2 || count < min_count) {
    if (count > 0) slice(0, count);
    return;
  }
  size_t slices = std::min(count, concurrency * 4);
  std::vector<std::function<void()>> work;
  work.reserve(slices);
  for (size_t s = 0; s < slices; ++s) {
    work.emplace_back(
        [&slice, count, slices, s] { slice(count * s / slices, count * (s + 1) / slices); });
  }
  tasks->run(work);
}

}  // namespace plumbline
