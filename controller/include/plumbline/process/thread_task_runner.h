// plumbline/process/thread_task_runner.h — TaskRunner (plumbline/core/task_runner.h) over
// threads: each run() starts up to `concurrency - 1` threads, works on the calling thread too,
// and joins them all before it returns. No pool is kept between runs: a render runs a few
// batches, and an idle controller holds no threads for it.
//
//   ThreadTaskRunner runner(default_task_concurrency());
//   RenderOptions options{.tasks = &runner};
#pragma once

#include <cstddef>

#include "plumbline/core/task_runner.h"

namespace plumbline {

class ThreadTaskRunner final : public TaskRunner {
 public:
  explicit ThreadTaskRunner(size_t concurrency) : concurrency_(concurrency < 1 ? 1 : concurrency) {}
  size_t concurrency() const override { return concurrency_; }
  void run(std::span<const std::function<void()>> tasks) override;

 private:
  size_t concurrency_;
};

// The CPUs this process may use: the cgroup's CPU quota when one is set (a pod's CPU limit,
// rounded up), else the online CPUs; at least 1, at most 8.
size_t default_task_concurrency();

}  // namespace plumbline
