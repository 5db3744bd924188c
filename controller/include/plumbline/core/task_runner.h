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

#include <cstddef>
#include <functional>
#include <span>

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

}  // namespace plumbline
