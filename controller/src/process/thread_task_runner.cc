// ThreadTaskRunner: tasks taken in order from a shared index by the calling thread and helpers.
#include "plumbline/process/thread_task_runner.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <thread>
#include <vector>

namespace plumbline {

void ThreadTaskRunner::run(std::span<const std::function<void()>> tasks) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < tasks.size(); i = next.fetch_add(1)) tasks[i]();
  };
  size_t helpers = std::min(concurrency_, tasks.size());
  std::vector<std::jthread> threads;
  threads.reserve(helpers > 0 ? helpers - 1 : 0);
  for (size_t i = 1; i < helpers; ++i) threads.emplace_back(work);
  work();
  // The jthreads join as they go out of scope, before the tasks' captures do.
}

namespace {

// cgroup v2's cpu.max: "max 100000" (no limit) or "<quota> <period>" in microseconds.
size_t cgroup_cpus() {
  std::ifstream in("/sys/fs/cgroup/cpu.max");
  std::string quota;
  long long period = 0;
  if (!(in >> quota >> period) || quota == "max" || period <= 0) return 0;
  long long q = 0;
  try {
    q = std::stoll(quota);
  } catch (...) {
    return 0;
  }
  if (q <= 0) return 0;
  return static_cast<size_t>((q + period - 1) / period);
}

}  // namespace

size_t default_task_concurrency() {
  size_t cpus = std::thread::hardware_concurrency();
  if (size_t quota = cgroup_cpus(); quota > 0) cpus = cpus > 0 ? std::min(cpus, quota) : quota;
  return std::clamp<size_t>(cpus, 1, 8);
}

}  // namespace plumbline
