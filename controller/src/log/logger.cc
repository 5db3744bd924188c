#include <chrono>
#include <ctime>
#include <ostream>

#include "plumbline/core/rfc3339.h"
#include "plumbline/core/utf8.h"
#include "plumbline/log/log.h"

namespace plumbline {
namespace {

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

std::string utc_now() { return rfc3339(std::chrono::system_clock::now(), 3); }

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warn" || text == "warning") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  return std::nullopt;
}

void Logger::log(LogLevel level, std::string_view message, Fields fields) {
  if (!enabled(level)) return;
  json line = {{"ts", utc_now()}, {"level", level_name(level)}, {"msg", message}};
  for (const auto& [key, value] : fields) line[std::string(key)] = value;
  // Replace invalid UTF-8 (a Git error message may carry any bytes) rather than throw.
  std::string text = to_json_text(line);
  std::lock_guard lock(mu_);
  out_ << text << '\n';
  out_.flush();
}

}  // namespace plumbline
