// plumbline/server/metrics.h — the controller's Prometheus metrics, on prometheus-cpp.
//
// No global state: the controller owns one MetricsRegistry, registers its families once
// (PlumblineMetrics::create) and hands the registry's exposition() to the HTTP server.
//
//   MetricsRegistry registry;
//   PL_ASSIGN_OR_RETURN(auto metrics, PlumblineMetrics::create(registry, "0.1.0"));
//   metrics.drift_fields->with({"prod", "resources"}).set(3);
//   metrics.reconcile_duration_seconds->with({"prod"}).observe(0.42);
//   std::string text = registry.exposition();  // text format 0.0.4
//
// The series are prometheus-cpp's (prometheus::Counter, Gauge, Histogram) and the exposition
// is its TextSerializer; this registry adds what prometheus::Registry and prometheus::Family
// do not give: errors instead of exceptions at registration, series removed by one label (an
// Environment deleted) and handles that stay valid after that (a handle shares its series;
// prometheus::Family::Remove would free it under a handle), and a stable order (families by
// name, series by label values) so a scrape is diffable.
//
// Cost model: family.with(values) takes the family's mutex for one map lookup (insert on
// first use) and returns a handle; a counter's or gauge's inc/set is a lock-free atomic, a
// histogram's observe takes the series' own mutex. Keep handles for hot paths.
//
// Label values are given in the order of the family's label names. Registration validates
// names (metric and label names, reserved `le`, duplicates) and returns an Error; a `with()`
// call with the wrong number of values is a bug: it asserts, and release builds pad missing
// values with "" and drop extra ones.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/error.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
struct MetricFamily;
}  // namespace prometheus

namespace plumbline {

using LabelValues = std::vector<std::string>;

namespace metrics_internal {

// One family: name, help, label names and its series (label values -> cell), sorted.
class FamilyBase {
 public:
  enum class Type { kCounter, kGauge, kHistogram };
  FamilyBase(Type type, std::string name, std::string help, std::vector<std::string> labels)
      : type_(type), name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)) {}
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return labels_; }
  Type type() const { return type_; }
  // Appends the family as prometheus-cpp's MetricFamily; nothing when it has no series.
  virtual void collect(std::vector<prometheus::MetricFamily>& out) const = 0;
  prometheus::MetricFamily family() const;  // name, help (escaped), type; no series yet
  // Labels the last series of `family` with these values.
  void add_labels(prometheus::MetricFamily& family, const LabelValues& values) const;

 protected:
  LabelValues fit(LabelValues values) const;  // asserts the arity, pads/truncates

 private:
  Type type_;
  std::string name_;
  std::string help_;
  std::vector<std::string> labels_;
};

// Series of one cell type, keyed by label values.
template <typename Cell>
class SeriesMap {
 public:
  template <typename... Args>
  std::shared_ptr<Cell> get(LabelValues values, Args&&... args) {
    std::lock_guard lock(mu_);
    auto [it, inserted] = series_.try_emplace(std::move(values));
    if (inserted) it->second = std::make_shared<Cell>(std::forward<Args>(args)...);
    return it->second;
  }
  bool remove(const LabelValues& values) {
    std::lock_guard lock(mu_);
    return series_.erase(values) > 0;
  }
  std::size_t remove_matching(std::size_t index, std::string_view value) {
    std::lock_guard lock(mu_);
    return std::erase_if(series_, [&](const auto& entry) {
      return index < entry.first.size() && entry.first[index] == value;
    });
  }
  void clear() {
    std::lock_guard lock(mu_);
    series_.clear();
  }
  std::size_t size() const {
    std::lock_guard lock(mu_);
    return series_.size();
  }
  // A copy of the (sorted) series under the lock; the cells are read afterwards.
  std::vector<std::pair<LabelValues, std::shared_ptr<Cell>>> snapshot() const {
    std::lock_guard lock(mu_);
    return {series_.begin(), series_.end()};
  }

 private:
  mutable std::mutex mu_;
  std::map<LabelValues, std::shared_ptr<Cell>> series_;
};

}  // namespace metrics_internal

// A monotonically increasing value (requests, errors). Default-constructed handles are inert.
class Counter {
 public:
  Counter() = default;
  // Adds v (>= 0; a negative or NaN v is a bug: it is ignored).
  void inc(double v = 1) const;
  double value() const;

 private:
  friend class CounterFamily;
  explicit Counter(std::shared_ptr<prometheus::Counter> cell) : cell_(std::move(cell)) {}
  std::shared_ptr<prometheus::Counter> cell_;
};

// A value that goes up and down (depths, sizes, 0/1 states).
class Gauge {
 public:
  Gauge() = default;
  void set(double v) const;
  void inc(double v = 1) const;
  void dec(double v = 1) const { inc(-v); }
  double value() const;

 private:
  friend class GaugeFamily;
  explicit Gauge(std::shared_ptr<prometheus::Gauge> cell) : cell_(std::move(cell)) {}
  std::shared_ptr<prometheus::Gauge> cell_;
};

// Observations counted into fixed buckets (upper bounds `le`, inclusive) plus _sum and _count.
class Histogram {
 public:
  Histogram() = default;
  void observe(double v) const;
  // Cumulative bucket counts (one per bound, then +Inf), the sum and the count.
  std::vector<std::uint64_t> cumulative_counts() const;
  double sum() const;
  std::uint64_t count() const;

 private:
  friend class HistogramFamily;
  explicit Histogram(std::shared_ptr<prometheus::Histogram> cell) : cell_(std::move(cell)) {}
  std::shared_ptr<prometheus::Histogram> cell_;
};

namespace metrics_internal {

// What every family does with its series; the concrete families add with().
template <typename Cell>
class Family : public FamilyBase {
 public:
  using FamilyBase::FamilyBase;
  // Drops a series (e.g. the gauges of an environment that was deleted). True if it existed.
  bool remove(const LabelValues& values) { return series_.remove(values); }
  // Drops every series whose label `label_index` equals `value` (all rules of one environment).
  std::size_t remove_matching(std::size_t label_index, std::string_view value) {
    return series_.remove_matching(label_index, value);
  }
  void clear() { series_.clear(); }
  std::size_t size() const { return series_.size(); }
  void collect(std::vector<prometheus::MetricFamily>& out) const override;  // metrics.cc

 protected:
  SeriesMap<Cell> series_;
};

}  // namespace metrics_internal

class CounterFamily final : public metrics_internal::Family<prometheus::Counter> {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> labels)
      : Family(Type::kCounter, std::move(name), std::move(help), std::move(labels)) {}
  Counter with(LabelValues values = {});
};

class GaugeFamily final : public metrics_internal::Family<prometheus::Gauge> {
 public:
  GaugeFamily(std::string name, std::string help, std::vector<std::string> labels)
      : Family(Type::kGauge, std::move(name), std::move(help), std::move(labels)) {}
  Gauge with(LabelValues values = {});
};

class HistogramFamily final : public metrics_internal::Family<prometheus::Histogram> {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> labels,
                  std::vector<double> bounds)
      : Family(Type::kHistogram, std::move(name), std::move(help), std::move(labels)),
        bounds_(std::move(bounds)) {}
  Histogram with(LabelValues values = {});
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
};

// Owns the families. Registration and exposition may run concurrently from any thread.
class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Errors (kInvalidInput): an invalid metric or label name, a duplicate metric name, a
  // reserved label (`le` on histograms, `__` prefix), buckets that are empty, not strictly
  // increasing or not finite (+Inf is always added). The returned pointer lives as long as
  // the registry.
  Result<CounterFamily*> counter(std::string name, std::string help,
                                 std::vector<std::string> label_names = {});
  Result<GaugeFamily*> gauge(std::string name, std::string help,
                             std::vector<std::string> label_names = {});
  Result<HistogramFamily*> histogram(std::string name, std::string help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> buckets);

  // The Prometheus text format 0.0.4 (prometheus::TextSerializer): families sorted by name,
  // series by label values, each family with # HELP and # TYPE; families without series are
  // left out. A histogram's lines come as prometheus-cpp writes them: _count, _sum, then the
  // buckets.
  std::string exposition() const;

  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  Status check_new(const std::string& name, const std::vector<std::string>& labels,
                   bool histogram) const;  // under mu_

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<metrics_internal::FamilyBase>, std::less<>> families_;
};

// Every metric plumbline exports (plumbline_ prefix, base units). Create once per registry.
struct PlumblineMetrics {
  // Drift per environment: fields that differ, by category; objects with any drift.
  GaugeFamily* drift_fields = nullptr;                    // {environment, category}
  GaugeFamily* drifted_objects = nullptr;                 // {environment}
  GaugeFamily* policy_violations = nullptr;               // {environment, rule}
  HistogramFamily* reconcile_duration_seconds = nullptr;  // {environment}
  CounterFamily* reconcile_total = nullptr;               // {environment, result}
  HistogramFamily* git_fetch_duration_seconds = nullptr;  // {environment}
  CounterFamily* git_fetch_errors_total = nullptr;        // {environment}
  CounterFamily* api_requests_total = nullptr;            // {verb, code}
  CounterFamily* corrections_total = nullptr;             // {environment, result}
  CounterFamily* objects_evaluated_total = nullptr;       // {environment, pass}
  CounterFamily* webhooks_received_total = nullptr;       // {provider, event}
  CounterFamily* webhooks_rejected_total = nullptr;       // {reason}
  Gauge workqueue_depth;
  // Seconds an environment waited in the work queue between being queued (or its delay
  // ending) and a worker taking it; and the rate-limited requeues after a failure.
  Histogram workqueue_queue_duration_seconds;
  Counter workqueue_retries_total;
  Gauge live_cache_objects;
  Gauge live_cache_bytes;
  Gauge leader;                       // 0 or 1
  GaugeFamily* build_info = nullptr;  // {version} = 1

  // Registers every family in `registry` and sets build_info{version} to 1. Fails only if one
  // of the names is already registered there.
  static Result<PlumblineMetrics> create(MetricsRegistry& registry, std::string_view version);

  // Drops every series labelled environment=`environment` (the Environment was deleted).
  void forget_environment(std::string_view environment) const;
};

}  // namespace plumbline
