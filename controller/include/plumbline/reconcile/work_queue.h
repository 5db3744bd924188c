// plumbline/reconcile/work_queue.h — the controller's rate-limited work queue, keyed by
// environment.
//
// client-go's workqueue semantics: a key is queued at most once; a key being processed is
// never handed out again until done() (a re-add meanwhile queues it after done()); failures
// back off per key (exponential) and all retries share a token bucket. Delayed adds are kept
// in a heap and released by get() itself — no timer thread.
//
//   while (auto key = queue.get()) {
//     Status s = reconcile(*key);
//     if (s.ok()) queue.forget(*key); else queue.add_rate_limited(*key);
//     queue.done(*key);
//   }
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <vector>

namespace plumbline {

struct WorkQueueOptions {
  std::chrono::milliseconds backoff_base{5};
  std::chrono::milliseconds backoff_max{300000};
  double retry_qps = 10;  // the token bucket shared by all rate-limited adds
  int retry_burst = 100;
  // Observers (metrics), called without the queue's lock: how long a key waited between being
  // queued (or its delay ending) and get() handing it out; a rate-limited add (a retry).
  std::function<void(std::chrono::duration<double> waited)> on_wait;
  std::function<void()> on_retry;
};

class WorkQueue {
 public:
  using Clock = std::chrono::steady_clock;

  explicit WorkQueue(WorkQueueOptions options = {}) : options_(options) {}

  void add(const std::string& key);
  void add_after(const std::string& key, std::chrono::milliseconds delay);
  // After a failure: per-key exponential backoff, bounded by the shared token bucket.
  void add_rate_limited(const std::string& key);
  // The key succeeded: its backoff starts again from the base.
  void forget(const std::string& key);
  int failures(const std::string& key) const;

  // The next key to process; blocks. nullopt once shut down.
  std::optional<std::string> get();
  // The same, giving up after `timeout` (nullopt).
  std::optional<std::string> get_for(std::chrono::milliseconds timeout);
  void done(const std::string& key);

  void shut_down();
  size_t depth() const;  // queued now (not delayed, not processing)

 private:
  std::optional<std::string> get_until(std::optional<Clock::time_point> deadline);
  void add_locked(const std::string& key);
  void push_locked(const std::string& key);
  void release_due_locked(Clock::time_point now);

  WorkQueueOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;  // queued, or re-added while processing
  std::set<std::string> processing_;
  std::map<std::string, Clock::time_point> queued_at_;  // keys in queue_, since when
  using Delayed = std::pair<Clock::time_point, std::string>;
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<>> delayed_;
  std::map<std::string, int> failures_;
  double tokens_ = 0;  // the bucket; may go negative (debt)
  bool bucket_started_ = false;
  Clock::time_point bucket_time_{};
  bool shut_down_ = false;
};

}  // namespace plumbline
