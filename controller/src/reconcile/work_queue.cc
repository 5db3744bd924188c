#include "plumbline/reconcile/work_queue.h"

#include <algorithm>
#include <cmath>

namespace plumbline {

void WorkQueue::push_locked(const std::string& key) {
  queue_.push_back(key);
  queued_at_[key] = Clock::now();
  cv_.notify_one();
}

void WorkQueue::add_locked(const std::string& key) {
  if (shut_down_ || dirty_.count(key)) return;
  dirty_.insert(key);
  if (processing_.count(key)) return;  // queued again by done()
  push_locked(key);
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mu_);
  add_locked(key);
}

void WorkQueue::add_after(const std::string& key, std::chrono::milliseconds delay) {
  std::lock_guard lock(mu_);
  if (shut_down_) return;
  if (delay <= std::chrono::milliseconds::zero()) {
    add_locked(key);
    return;
  }
  delayed_.emplace(Clock::now() + delay, key);
  cv_.notify_one();
}

void WorkQueue::add_rate_limited(const std::string& key) {
  if (options_.on_retry) options_.on_retry();
  std::chrono::milliseconds delay;
  {
    std::lock_guard lock(mu_);
    int n = failures_[key]++;
    double per_key = static_cast<double>(options_.backoff_base.count()) * std::pow(2.0, n);
    per_key = std::min(per_key, static_cast<double>(options_.backoff_max.count()));
    // Token bucket: one token per retry, refilled at retry_qps up to retry_burst.
    Clock::time_point now = Clock::now();
    if (!bucket_started_) {
      bucket_started_ = true;
      tokens_ = options_.retry_burst;
      bucket_time_ = now;
    }
    double elapsed = std::chrono::duration<double>(now - bucket_time_).count();
    tokens_ = std::min<double>(options_.retry_burst, tokens_ + elapsed * options_.retry_qps);
    bucket_time_ = now;
    tokens_ -= 1;
    double bucket_ms = tokens_ >= 0 ? 0 : -tokens_ / options_.retry_qps * 1000.0;
    delay = std::chrono::milliseconds(static_cast<long>(std::max(per_key, bucket_ms)));
  }
  add_after(key, delay);
}

void WorkQueue::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int WorkQueue::failures(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::release_due_locked(Clock::time_point now) {
  while (!delayed_.empty() && delayed_.top().first <= now) {
    std::string key = delayed_.top().second;
    delayed_.pop();
    add_locked(key);
  }
}

std::optional<std::string> WorkQueue::get_until(std::optional<Clock::time_point> deadline) {
  std::unique_lock lock(mu_);
  while (true) {
    if (shut_down_) return std::nullopt;
    Clock::time_point now = Clock::now();
    release_due_locked(now);
    if (!queue_.empty()) {
      std::string key = std::move(queue_.front());
      queue_.pop_front();
      dirty_.erase(key);
      processing_.insert(key);
      auto since = queued_at_.find(key);
      const std::chrono::duration<double> waited =
          since == queued_at_.end() ? Clock::duration::zero() : now - since->second;
      if (since != queued_at_.end()) queued_at_.erase(since);
      lock.unlock();
      if (options_.on_wait) options_.on_wait(waited);
      return key;
    }
    if (deadline && now >= *deadline) return std::nullopt;
    std::optional<Clock::time_point> wake = deadline;
    if (!delayed_.empty() && (!wake || delayed_.top().first < *wake)) wake = delayed_.top().first;
    if (wake) {
      cv_.wait_until(lock, *wake);
    } else {
      cv_.wait(lock);
    }
  }
}

std::optional<std::string> WorkQueue::get() { return get_until(std::nullopt); }

std::optional<std::string> WorkQueue::get_for(std::chrono::milliseconds timeout) {
  return get_until(Clock::now() + timeout);
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mu_);
  processing_.erase(key);
  if (dirty_.count(key) && !shut_down_) push_locked(key);
}

void WorkQueue::shut_down() {
  std::lock_guard lock(mu_);
  shut_down_ = true;
  cv_.notify_all();
}

size_t WorkQueue::depth() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

}  // namespace plumbline
