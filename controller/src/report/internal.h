// Shared between the reporters: totals (which survive bounding) and the per-format writers.
#pragma once

#include <string>

#include "plumbline/core/findings.h"
#include "plumbline/report/report.h"

namespace plumbline::report_internal {

// Counts for the summary. Computed from the full report before bounding drops findings, so a
// bounded report still states the true totals.
struct Totals {
  size_t objects = 0;
  size_t drifted = 0;  // distinct objects with a non-ignored drift
  size_t drifts = 0;   // non-ignored drifts
  size_t violations = 0;
  size_t ignored = 0;
  size_t omitted_drifts = 0;
  size_t omitted_violations = 0;
};
Totals totals_of(const DriftReport& report);

struct ComparisonTotals {
  size_t differences = 0;
  size_t allowed = 0;
  size_t not_allowed = 0;
  size_t violations = 0;
  size_t omitted_differences = 0;
  size_t omitted_violations = 0;
};
ComparisonTotals totals_of(const EnvironmentComparison& comparison);

json drift_json(const DriftReport& report, const Totals& totals);
json comparison_json(const EnvironmentComparison& comparison, const ComparisonTotals& totals);
json violation_json(const Violation& v);

std::string drift_text(const DriftReport& report, const Totals& totals, const FormatOptions& o);
std::string comparison_text(const EnvironmentComparison& c, const ComparisonTotals& totals,
                            const FormatOptions& o);
std::string drift_markdown(const DriftReport& report, const Totals& totals);
std::string comparison_markdown(const EnvironmentComparison& c, const ComparisonTotals& totals);
std::string drift_sarif(const DriftReport& report, const FormatOptions& o);
std::string comparison_sarif(const EnvironmentComparison& c, const FormatOptions& o);

// Markdown table cells: text in a code span with '|', newlines and backticks neutralized; a
// finding's value ("—" for null); a declaration site ("—" when unknown).
std::string cell(const std::string& text);
std::string value_cell(const json& value);
std::string location_cell(const SourceLocation& at);

// A finding's value as one line of text; "(absent)" for null.
std::string value_text(const json& value);
// Security categories rank above the others when a report must be cut.
bool is_security(Category category);
std::string plural(size_t n, const char* one, const char* many);

}  // namespace plumbline::report_internal
