// plumbline/log/log.h — structured logs: one JSON object per line.
//
//   logger.info("reconciled", {{"environment", "prod"}, {"revision", sha}, {"drifts", 3}});
//   {"ts":"2026-11-23T12:00:00.123Z","level":"info","msg":"reconciled","environment":"prod",…}
//
// The controller owns its Logger (no global state); the CLI writes human text instead.
#pragma once

#include <initializer_list>
#include <iosfwd>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "plumbline/core/object.h"

namespace plumbline {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
std::optional<LogLevel> parse_log_level(std::string_view text);  // debug|info|warn|error

class Logger {
 public:
  using Fields = std::initializer_list<std::pair<std::string_view, json>>;

  Logger(std::ostream& out, LogLevel level) : out_(out), level_(level) {}

  bool enabled(LogLevel level) const { return level >= level_; }
  void log(LogLevel level, std::string_view message, Fields fields = {});
  void debug(std::string_view m, Fields f = {}) { log(LogLevel::kDebug, m, f); }
  void info(std::string_view m, Fields f = {}) { log(LogLevel::kInfo, m, f); }
  void warn(std::string_view m, Fields f = {}) { log(LogLevel::kWarn, m, f); }
  void error(std::string_view m, Fields f = {}) { log(LogLevel::kError, m, f); }

 private:
  std::ostream& out_;
  LogLevel level_;
  std::mutex mu_;
};

}  // namespace plumbline
