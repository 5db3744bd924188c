// The Prometheus registry: families, lock-free handles, the text format 0.0.4.
#include "plumbline/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

namespace plumbline {
namespace {

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  return valid_metric_name(name) && name.find(':') == std::string_view::npos;
}

// HELP text escapes backslash and newline; label values also escape the double quote.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (const char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '"':
        out += quote ? "\\\"" : "\"";
        break;
      default:
        out += c;
    }
  }
}

// name{a="x",b="y"[,le="0.5"]} value\n
void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   const std::vector<std::string>& label_names, const LabelValues& values,
                   std::string_view le, double value) {
  out += name;
  out += suffix;
  if (!label_names.empty() || !le.empty()) {
    out += '{';
    bool first = true;
    for (std::size_t i = 0; i < label_names.size(); ++i) {
      if (!first) out += ',';
      first = false;
      out += label_names[i];
      out += "=\"";
      append_escaped(out, values[i], true);
      out += '"';
    }
    if (!le.empty()) {
      if (!first) out += ',';
      out += "le=\"";
      out += le;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += format_metric_value(value);
  out += '\n';
}

// Adds to an atomic double (C++20 fetch_add on atomic<double> is a CAS loop in libstdc++ too).
void atomic_add(std::atomic<double>& cell, double v) {
  cell.fetch_add(v, std::memory_order_relaxed);
}

}  // namespace

std::string format_metric_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip
  if (ec != std::errc()) return "NaN";                             // cannot happen: 32 > 24
  return std::string(buf, end);
}

// --- handles ----------------------------------------------------------------------------

void Counter::inc(double v) const {
  if (!cell_ || !(v >= 0)) return;
  atomic_add(*cell_, v);
}
double Counter::value() const { return cell_ ? cell_->load(std::memory_order_relaxed) : 0; }

void Gauge::set(double v) const {
  if (cell_) cell_->store(v, std::memory_order_relaxed);
}
void Gauge::inc(double v) const {
  if (cell_) atomic_add(*cell_, v);
}
double Gauge::value() const { return cell_ ? cell_->load(std::memory_order_relaxed) : 0; }

void Histogram::observe(double v) const {
  if (!cell_) return;
  // Bounds are inclusive upper limits: v lands in the first bucket with v <= le; NaN and
  // values above the last bound land in +Inf.
  const auto& bounds = *bounds_;
  const std::size_t index =
      std::isnan(v) ? bounds.size()
                    : static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), v) -
                                               bounds.begin());
  cell_->counts[index].fetch_add(1, std::memory_order_relaxed);
  atomic_add(cell_->sum, v);
}

std::vector<std::uint64_t> Histogram::cumulative_counts() const {
  std::vector<std::uint64_t> out;
  if (!cell_) return out;
  std::uint64_t total = 0;
  for (const auto& c : cell_->counts) {
    total += c.load(std::memory_order_relaxed);
    out.push_back(total);
  }
  return out;
}
double Histogram::sum() const { return cell_ ? cell_->sum.load(std::memory_order_relaxed) : 0; }
std::uint64_t Histogram::count() const {
  const auto counts = cumulative_counts();
  return counts.empty() ? 0 : counts.back();
}

// --- families ---------------------------------------------------------------------------

namespace metrics_internal {

LabelValues FamilyBase::fit(LabelValues values) const {
  assert(values.size() == labels_.size() && "label values do not match the family's labels");
  values.resize(labels_.size());
  return values;
}

void FamilyBase::render_header(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  append_escaped(out, help_, false);
  out += "\n# TYPE ";
  out += name_;
  switch (type_) {
    case Type::kCounter:
      out += " counter\n";
      break;
    case Type::kGauge:
      out += " gauge\n";
      break;
    case Type::kHistogram:
      out += " histogram\n";
      break;
  }
}

}  // namespace metrics_internal

Counter CounterFamily::with(LabelValues values) {
  return Counter(series_.get(fit(std::move(values)), 0.0));
}

void CounterFamily::render(std::string& out) const {
  const auto series = series_.snapshot();
  if (series.empty()) return;
  render_header(out);
  for (const auto& [values, cell] : series) {
    append_sample(out, name(), "", label_names(), values, {},
                  cell->load(std::memory_order_relaxed));
  }
}

Gauge GaugeFamily::with(LabelValues values) {
  return Gauge(series_.get(fit(std::move(values)), 0.0));
}

void GaugeFamily::render(std::string& out) const {
  const auto series = series_.snapshot();
  if (series.empty()) return;
  render_header(out);
  for (const auto& [values, cell] : series) {
    append_sample(out, name(), "", label_names(), values, {},
                  cell->load(std::memory_order_relaxed));
  }
}

Histogram HistogramFamily::with(LabelValues values) {
  return Histogram(series_.get(fit(std::move(values)), bounds_->size()), bounds_);
}

void HistogramFamily::render(std::string& out) const {
  const auto series = series_.snapshot();
  if (series.empty()) return;
  render_header(out);
  std::vector<std::string> les;
  les.reserve(bounds_->size() + 1);
  for (double b : *bounds_) les.push_back(format_metric_value(b));
  les.emplace_back("+Inf");
  for (const auto& [values, cell] : series) {
    // _count is the +Inf bucket, so the two always agree even while observe() runs.
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < les.size(); ++i) {
      total += cell->counts[i].load(std::memory_order_relaxed);
      append_sample(out, name(), "_bucket", label_names(), values, les[i],
                    static_cast<double>(total));
    }
    append_sample(out, name(), "_sum", label_names(), values, {},
                  cell->sum.load(std::memory_order_relaxed));
    append_sample(out, name(), "_count", label_names(), values, {}, static_cast<double>(total));
  }
}

// --- registry ---------------------------------------------------------------------------

Status MetricsRegistry::check_new(const std::string& name, const std::vector<std::string>& labels,
                                  bool histogram) const {
  const std::string where = "metric " + name;
  if (!valid_metric_name(name)) {
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
    if (!valid_label_name(label)) {
      return invalid_input("invalid label name '" + label + "' (want [a-zA-Z_][a-zA-Z0-9_]*)",
                           where);
    }
    if (label.starts_with("__")) {
      return invalid_input("label name '" + label + "' is reserved (starts with __)", where);
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
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, family] : families_) family->render(out);
  return out;
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
                                       "Live objects diffed against Git by environment and pass "
                                       "(full: every object, after a new commit or a policy "
                                       "change; incremental: only objects the watch saw change).",
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
