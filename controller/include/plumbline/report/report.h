// plumbline/report/report.h — reporters: views of a DriftReport / EnvironmentComparison.
//
// JSON is the stable, versioned form (DESIGN.md "Reports"); text, markdown and sarif are
// views of it. Values are already masked in the findings.
//
//   std::cout << format_report(report, ReportFormat::kText, {.color = isatty(1)});
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "plumbline/core/findings.h"

namespace plumbline {

enum class ReportFormat { kText, kJson, kMarkdown, kSarif };
std::optional<ReportFormat> parse_report_format(std::string_view text);

struct FormatOptions {
  bool color = false;             // ANSI colours in text output (on a TTY)
  size_t max_bytes = 0;           // 0 = unbounded; else keep summary + most severe findings
  std::string tool_version = "";  // for SARIF
};

// Exit status for a report: 1 when any drift is not ignored or any violation exists, else 0.
int exit_code(const DriftReport& report);
int exit_code(const EnvironmentComparison& comparison);

json to_json(const DriftReport& report);
json to_json(const EnvironmentComparison& comparison);

std::string format_report(const DriftReport& report, ReportFormat format,
                          const FormatOptions& options);
std::string format_comparison(const EnvironmentComparison& comparison, ReportFormat format,
                              const FormatOptions& options);

}  // namespace plumbline
