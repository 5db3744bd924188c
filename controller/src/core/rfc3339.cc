#include "plumbline/core/rfc3339.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

namespace plumbline {

std::string rfc3339(std::chrono::system_clock::time_point time, int fraction_digits) {
  using namespace std::chrono;
  const auto micros = floor<microseconds>(time);
  const auto seconds = floor<std::chrono::seconds>(micros);
  std::time_t tt = system_clock::to_time_t(seconds);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buffer[32];
  size_t n = std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buffer, n);
  fraction_digits = std::clamp(fraction_digits, 0, 6);
  if (fraction_digits > 0) {
    char fraction[8];
    std::snprintf(fraction, sizeof(fraction), "%06lld",
                  static_cast<long long>((micros - seconds).count()));
    out += '.';
    out.append(fraction, static_cast<size_t>(fraction_digits));
  }
  out += 'Z';
  return out;
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view view) {
  const std::string text(view.substr(0, 64));
  if (text.size() != view.size()) return std::nullopt;
  int year, month, day, hour, minute, second, consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  size_t at = 19;
  if (at < text.size() && text[at] == '.') {
    ++at;
    while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) ++at;
  }
  long offset = 0;
  std::string zone = text.substr(at);
  if (zone != "Z" && zone != "z") {
    int hours, minutes;
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') ||
        std::sscanf(zone.c_str() + 1, "%2d:%2d", &hours, &minutes) != 2) {
      return std::nullopt;
    }
    offset = (zone[0] == '+' ? 1 : -1) * (hours * 3600L + minutes * 60L);
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  std::time_t seconds = timegm(&tm);
  if (seconds == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(seconds - offset);
}

}  // namespace plumbline
