// Format dispatch and bounding: a report that must fit a limit (etcd object, forge comment)
// keeps its summary and the most severe findings, and says how many were left out.
#include <algorithm>
#include <numeric>
#include <vector>

#include "plumbline/core/utf8.h"
#include "report/internal.h"

namespace plumbline {
namespace report_internal {
namespace {

// Lower rank = more severe: violations, then security drift, then other drift, ignored last.
int drift_rank(const Drift& d) {
  if (d.action == Action::kIgnored) return 3;
  return is_security(d.category) ? 1 : 2;
}

std::string render(const DriftReport& r, const Totals& t, ReportFormat f, const FormatOptions& o) {
  switch (f) {
    case ReportFormat::kJson:
      return to_json_text(drift_json(r, t), 2) + "\n";
    case ReportFormat::kText:
      return drift_text(r, t, o);
    case ReportFormat::kMarkdown:
      return drift_markdown(r, t);
    case ReportFormat::kSarif:
      return drift_sarif(r, o);
  }
  return {};
}

std::string render(const EnvironmentComparison& c, const ComparisonTotals& t, ReportFormat f,
                   const FormatOptions& o) {
  switch (f) {
    case ReportFormat::kJson:
      return to_json_text(comparison_json(c, t), 2) + "\n";
    case ReportFormat::kText:
      return comparison_text(c, t, o);
    case ReportFormat::kMarkdown:
      return comparison_markdown(c, t);
    case ReportFormat::kSarif:
      return comparison_sarif(c, o);
  }
  return {};
}

// The largest k in [0, n] for which fits(k) holds, assuming fits is monotone; 0 if none.
template <typename Fits>
size_t largest_fitting(size_t n, Fits fits) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo + 1) / 2;
    if (fits(mid)) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

}  // namespace
}  // namespace report_internal

std::string format_report(const DriftReport& report, ReportFormat format,
                          const FormatOptions& options) {
  using namespace report_internal;
  const Totals totals = totals_of(report);
  std::string full = render(report, totals, format, options);
  if (options.max_bytes == 0 || full.size() <= options.max_bytes) return full;

  // Severity order over all findings: violations first (index < nv), then drifts by rank.
  const size_t nv = report.violations.size();
  std::vector<size_t> drift_order(report.drifts.size());
  std::iota(drift_order.begin(), drift_order.end(), 0);
  std::stable_sort(drift_order.begin(), drift_order.end(), [&](size_t a, size_t b) {
    return drift_rank(report.drifts[a]) < drift_rank(report.drifts[b]);
  });
  auto cut = [&](size_t keep) {
    DriftReport bounded = report;
    bounded.violations.assign(report.violations.begin(),
                              report.violations.begin() + static_cast<long>(std::min(keep, nv)));
    std::vector<bool> kept(report.drifts.size(), false);
    for (size_t i = 0; i + nv < keep && i < drift_order.size(); ++i) kept[drift_order[i]] = true;
    bounded.drifts.clear();
    for (size_t i = 0; i < report.drifts.size(); ++i) {
      if (kept[i]) bounded.drifts.push_back(report.drifts[i]);  // original order for reading
    }
    Totals t = totals;
    t.omitted_violations += nv - bounded.violations.size();
    t.omitted_drifts += report.drifts.size() - bounded.drifts.size();
    return render(bounded, t, format, options);
  };
  size_t keep = largest_fitting(nv + report.drifts.size(),
                                [&](size_t k) { return cut(k).size() <= options.max_bytes; });
  return cut(keep);
}

std::string format_comparison(const EnvironmentComparison& comparison, ReportFormat format,
                              const FormatOptions& options) {
  using namespace report_internal;
  const ComparisonTotals totals = totals_of(comparison);
  std::string full = render(comparison, totals, format, options);
  if (options.max_bytes == 0 || full.size() <= options.max_bytes) return full;

  const size_t nv = comparison.violations.size();
  std::vector<size_t> order(comparison.differences.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    auto rank = [](const Difference& d) { return d.allowed ? 2 : is_security(d.category) ? 0 : 1; };
    return rank(comparison.differences[a]) < rank(comparison.differences[b]);
  });
  auto cut = [&](size_t keep) {
    EnvironmentComparison bounded = comparison;
    bounded.violations.resize(std::min(keep, nv));
    std::vector<bool> kept(comparison.differences.size(), false);
    for (size_t i = 0; i + nv < keep && i < order.size(); ++i) kept[order[i]] = true;
    bounded.differences.clear();
    for (size_t i = 0; i < comparison.differences.size(); ++i) {
      if (kept[i]) bounded.differences.push_back(comparison.differences[i]);
    }
    ComparisonTotals t = totals;
    t.omitted_violations = nv - bounded.violations.size();
    t.omitted_differences = comparison.differences.size() - bounded.differences.size();
    return render(bounded, t, format, options);
  };
  size_t keep = largest_fitting(nv + comparison.differences.size(),
                                [&](size_t k) { return cut(k).size() <= options.max_bytes; });
  return cut(keep);
}

}  // namespace plumbline
