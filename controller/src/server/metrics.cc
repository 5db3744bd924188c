// The registry of plumbline's metrics on prometheus-cpp: its series types and text serializer;
// the families, validation and order are ours (see metrics.h).
#include "plumbline/server/metrics.h"

#include <prometheus/check_names.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <sstream>
#include <utility>

namespace plumbline {
namespace {

// prometheus-cpp 1.0.1 writes HELP as given; the text format wants backslash and newline
// escaped there.
std::string escape_help(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

// --- handles ----------------------------------------------------------------------------

void Counter::inc(double v) const {
  if (!cell_ || !(v >= 0)) return;  // negative or NaN: a bug, ignored
  cell_->Increment(v);
}
double Counter::value() const { return cell_ ? cell_->Value() : 0; }

void Gauge::set(double v) const {
  if (cell_) cell_->Set(v);
}
void Gauge::inc(double v) const {
  if (cell_) cell_->Increment(v);
}
double Gauge::value() const { return cell_ ? cell_->Value() : 0; }

void Histogram::observe(double v) const {
  if (cell_) cell_->Observe(v);  // inclusive upper bounds; NaN and above the last: +Inf
}

std::vector<std::uint64_t> Histogram::cumulative_counts() const {
  std::vector<std::uint64_t> out;
  if (!cell_) return out;
  for (const auto& bucket : cell_->Collect().histogram.bucket) {
    out.push_back(bucket.cumulative_count);
  }
  return out;
}
double Histogram::sum() const { return cell_ ? cell_->Collect().histogram.sample_sum : 0; }
std::uint64_t Histogram::count() const {
  return cell_ ? cell_->Collect().histogram.sample_count : 0;
}

// --- families ---------------------------------------------------------------------------

namespace metrics_internal {

LabelValues FamilyBase::fit(LabelValues values) const {
  assert(values.size() == labels_.size() && "label values do not match the family's labels");
  values.resize(labels_.size());
  return values;
}

prometheus::MetricFamily FamilyBase::family() const {
  prometheus::MetricFamily family;
  family.name = name_;
  family.help = escape_help(help_);
  switch (type_) {
    case Type::kCounter:
      family.type = prometheus::MetricType::Counter;
      break;
    case Type::kGauge:
      family.type = prometheus::MetricType::Gauge;
      break;
    case Type::kHistogram:
      family.type = prometheus::MetricType::Histogram;
      break;
  }
  return family;
}

void FamilyBase::add_labels(prometheus::MetricFamily& family, const LabelValues& values) const {
  auto& labels = family.metric.back().label;
  for (std::size_t i = 0; i < labels_.size(); ++i) labels.push_back({labels_[i], values[i]});
}

// The series of one family, collected in label order.
template <typename Cell>
void Family<Cell>::collect(std::vector<prometheus::MetricFamily>& out) const {
  const auto cells = series_.snapshot();
  if (cells.empty()) return;
  prometheus::MetricFamily family = FamilyBase::family();
  for (const auto& [values, cell] : cells) {
    family.metric.push_back(cell->Collect());
    add_labels(family, values);
  }
  out.push_back(std::move(family));
}

template class Family<prometheus::Counter>;
template class Family<prometheus::Gauge>;
template class Family<prometheus::Histogram>;

}  // namespace metrics_internal

Counter CounterFamily::with(LabelValues values) {
  return Counter(series_.get(fit(std::move(values))));
}

Gauge GaugeFamily::with(LabelValues values) { return Gauge(series_.get(fit(std::move(values)))); }

Histogram HistogramFamily::with(LabelValues values) {
  return Histogram(
      series_.get(fit(std::move(values)), prometheus::Histogram::BucketBoundaries(bounds_)));
}

// --- registry ---------------------------------------------------------------------------

Status MetricsRegistry::check_new(const std::string& name, const std::vector<std::string>& labels,
                                  bool histogram) const {
  const std::string where = "metric " + name;
  if (!prometheus::CheckMetricName(name)) {
    return invalid_input("invalid metric name (want [a-zA-Z_:][a-zA-Z0-9_:]*)", where);
  }
  // A histogram also owns name_bucket, name_sum and name_count; keep every sample name unique.
  std::vector<std::string> names{name};
  if (histogram) {
    names.insert(names.end(), {name + "_bucket", name + "_sum", name + "_count"});
  }
  for (const auto& [existing, family] : families_) {
    for (const auto& n : names) {
      const bool clash =
          n == existing ||
          (family->type() == metrics_internal::FamilyBase::Type::kHistogram &&
           (n == existing + "_bucket" || n == existing + "_sum" || n == existing + "_count"));
      if (clash) return invalid_input("already registered (as " + existing + ")", where);
    }
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto& label = labels[i];
    if (label.starts_with("__")) {
      return invalid_input("label name '" + label + "' is reserved (starts with __)", where);
    }
    if (!prometheus::CheckLabelName(label)) {
      return invalid_input("invalid label name '" + label + "' (want [a-zA-Z_][a-zA-Z0-9_]*)",
                           where);
    }
    if (histogram && label == "le") {
      return invalid_input("label name 'le' is reserved for histogram buckets", where);
    }
    if (std::find(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(i), label) !=
        labels.begin() + static_cast<std::ptrdiff_t>(i)) {
      return invalid_input("duplicate label name '" + label + "'", where);
    }
  }
  return {};
}

Result<CounterFamily*> MetricsRegistry::counter(std::string name, std::string help,
                                                std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  PL_RETURN_IF_ERROR(check_new(name, label_names, false));
  auto family = std::make_unique<CounterFamily>(name, std::move(help), std::move(label_names));
  CounterFamily* raw = family.get();
  families_.emplace(std::move(name), std::move(family));
  return raw;
}

Result<GaugeFamily*> MetricsRegistry::gauge(std::string name, std::string help,
                                            std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  PL_RETURN_IF_ERROR(check_new(name, label_names, false));
  auto family = std::make_unique<GaugeFamily>(name, std::move(help), std::move(label_names));
  GaugeFamily* raw = family.get();
  families_.emplace(std::move(name), std::move(family));
  return raw;
}

Result<HistogramFamily*> MetricsRegistry::histogram(std::string name, std::string help,
                                                    std::vector<std::string> label_names,
                                                    std::vector<double> buckets) {
  std::lock_guard lock(mu_);
  PL_RETURN_IF_ERROR(check_new(name, label_names, true));
  if (buckets.empty())
    return invalid_input("a histogram needs at least one bucket", "metric " + name);
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    if (!std::isfinite(buckets[i])) {
      return invalid_input("bucket bounds must be finite (+Inf is added)", "metric " + name);
    }
    if (i > 0 && !(buckets[i - 1] < buckets[i])) {
      return invalid_input("bucket bounds must be strictly increasing", "metric " + name);
    }
  }
  auto family = std::make_unique<HistogramFamily>(name, std::move(help), std::move(label_names),
                                                  std::move(buckets));
  HistogramFamily* raw = family.get();
  families_.emplace(std::move(name), std::move(family));
  return raw;
}

std::string MetricsRegistry::exposition() const {
  std::vector<prometheus::MetricFamily> families;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, family] : families_) family->collect(families);
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

// --- plumbline's metrics ----------------------------------------------------------------

Result<PlumblineMetrics> PlumblineMetrics::create(MetricsRegistry& registry,
                                                  std::string_view version) {
  // Reconciles read Git, list from the cache and diff: tens of ms to minutes.
  const std::vector<double> reconcile_buckets{0.01, 0.05, 0.1, 0.25, 0.5, 1,  2.5,
                                              5,    10,   30,  60,   120, 300};
  // A fetch is one round trip (no change) up to a clone of a large repo.
  const std::vector<double> fetch_buckets{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
  PlumblineMetrics m;
  PL_ASSIGN_OR_RETURN(
      m.drift_fields,
      registry.gauge("plumbline_drift_fields",
                     "Fields whose live value differs from Git (not ignored by a policy), by "
                     "environment and drift category, as of the last reconcile.",
                     {"environment", "category"}));
  PL_ASSIGN_OR_RETURN(m.drifted_objects,
                      registry.gauge("plumbline_drifted_objects",
                                     "Objects with at least one drifted field (or missing from "
                                     "the cluster), by environment, as of the last reconcile.",
                                     {"environment"}));
  PL_ASSIGN_OR_RETURN(m.policy_violations,
                      registry.gauge("plumbline_policy_violations",
                                     "Policy rule violations by environment and rule, as of the "
                                     "last reconcile.",
                                     {"environment", "rule"}));
  PL_ASSIGN_OR_RETURN(m.reconcile_duration_seconds,
                      registry.histogram("plumbline_reconcile_duration_seconds",
                                         "Time to reconcile one environment (fetch, render, diff, "
                                         "report, correct), in seconds.",
                                         {"environment"}, reconcile_buckets));
  PL_ASSIGN_OR_RETURN(m.reconcile_total,
                      registry.counter("plumbline_reconcile_total",
                                       "Reconciles by environment and result (consistent, "
                                       "drifted, error).",
                                       {"environment", "result"}));
  PL_ASSIGN_OR_RETURN(m.git_fetch_duration_seconds,
                      registry.histogram("plumbline_git_fetch_duration_seconds",
                                         "Time to fetch an environment's Git source, in seconds.",
                                         {"environment"}, fetch_buckets));
  PL_ASSIGN_OR_RETURN(
      m.git_fetch_errors_total,
      registry.counter("plumbline_git_fetch_errors_total",
                       "Failed fetches of an environment's Git source.", {"environment"}));
  PL_ASSIGN_OR_RETURN(m.api_requests_total,
                      registry.counter("plumbline_api_requests_total",
                                       "Requests to the Kubernetes API server by verb and HTTP "
                                       "status code (code 0: no response).",
                                       {"verb", "code"}));
  PL_ASSIGN_OR_RETURN(m.corrections_total,
                      registry.counter("plumbline_corrections_total",
                                       "Drift corrections applied in enforce mode by environment "
                                       "and result (corrected, failed, would-correct).",
                                       {"environment", "result"}));
  PL_ASSIGN_OR_RETURN(m.objects_evaluated_total,
                      registry.counter("plumbline_objects_evaluated_total",
                                       "Objects diffed against Git by environment and pass "
                                       "(full: every object, after a policy change; scheduled: "
                                       "every object, at spec.validationInterval; desired: the "
                                       "objects a new commit changed; incremental: only objects "
                                       "the watch saw change).",
                                       {"environment", "pass"}));
  PL_ASSIGN_OR_RETURN(m.webhooks_received_total,
                      registry.counter("plumbline_webhooks_received_total",
                                       "Authenticated Git webhooks by provider (github, gitea, "
                                       "gitlab) and event (push, pull_request, other).",
                                       {"provider", "event"}));
  PL_ASSIGN_OR_RETURN(m.webhooks_rejected_total,
                      registry.counter("plumbline_webhooks_rejected_total",
                                       "Git webhooks refused, by reason (unauthenticated: missing "
                                       "or wrong signature; invalid: not a JSON payload plumbline "
                                       "can read).",
                                       {"reason"}));
  PL_ASSIGN_OR_RETURN(
      auto* waited,
      registry.histogram("plumbline_workqueue_queue_duration_seconds",
                         "Time an environment waited in the work queue before a worker took "
                         "it, in seconds.",
                         {}, {0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300}));
  PL_ASSIGN_OR_RETURN(auto* retries,
                      registry.counter("plumbline_workqueue_retries_total",
                                       "Reconciles requeued with backoff after a retryable "
                                       "failure."));
  PL_ASSIGN_OR_RETURN(auto* depth,
                      registry.gauge("plumbline_workqueue_depth",
                                     "Environments waiting in the work queue to be reconciled."));
  PL_ASSIGN_OR_RETURN(auto* objects,
                      registry.gauge("plumbline_live_cache_objects",
                                     "Objects held in the live cache (all watched kinds)."));
  PL_ASSIGN_OR_RETURN(auto* bytes,
                      registry.gauge("plumbline_live_cache_bytes",
                                     "Approximate memory held by the live cache, in bytes."));
  PL_ASSIGN_OR_RETURN(
      auto* leader,
      registry.gauge("plumbline_leader", "1 if this replica holds the leader lease, else 0."));
  PL_ASSIGN_OR_RETURN(
      m.build_info,
      registry.gauge("plumbline_build_info", "Always 1; the version label names the running build.",
                     {"version"}));
  m.workqueue_depth = depth->with();
  m.workqueue_queue_duration_seconds = waited->with();
  m.workqueue_retries_total = retries->with();
  m.live_cache_objects = objects->with();
  m.live_cache_bytes = bytes->with();
  m.leader = leader->with();
  m.build_info->with({std::string(version)}).set(1);
  return m;
}

void PlumblineMetrics::forget_environment(std::string_view environment) const {
  drift_fields->remove_matching(0, environment);
  drifted_objects->remove_matching(0, environment);
  policy_violations->remove_matching(0, environment);
  reconcile_duration_seconds->remove_matching(0, environment);
  reconcile_total->remove_matching(0, environment);
  git_fetch_duration_seconds->remove_matching(0, environment);
  git_fetch_errors_total->remove_matching(0, environment);
  corrections_total->remove_matching(0, environment);
  objects_evaluated_total->remove_matching(0, environment);
}

}  // namespace plumbline
