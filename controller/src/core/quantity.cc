#include "plumbline/core/quantity.h"

#include <cctype>
#include <cmath>
#include <limits>

namespace plumbline {
namespace {

using i128 = Int128;

// Suffix -> multiplier in nano-units (value * 10^9). Binary suffixes are exact integers.
struct Suffix {
  std::string_view text;
  i128 nanos;
};

constexpr i128 kNano = 1'000'000'000;
constexpr i128 pow_i(i128 base, int exp) {
  i128 out = 1;
  for (int i = 0; i < exp; ++i) out *= base;
  return out;
}

constexpr Suffix kSuffixes[] = {
    {"Ki", pow_i(2, 10) * kNano},
    {"Mi", pow_i(2, 20) * kNano},
    {"Gi", pow_i(2, 30) * kNano},
    {"Ti", pow_i(2, 40) * kNano},
    {"Pi", pow_i(2, 50) * kNano},
    {"Ei", pow_i(2, 60) * kNano},
    {"n", 1},
    {"u", 1000},
    {"m", 1'000'000},
    {"", kNano},
    {"k", pow_i(10, 3) * kNano},
    {"M", pow_i(10, 6) * kNano},
    {"G", pow_i(10, 9) * kNano},
    {"T", pow_i(10, 12) * kNano},
    {"P", pow_i(10, 15) * kNano},
    {"E", pow_i(10, 18) * kNano},
};

constexpr i128 kMax = std::numeric_limits<i128>::max();

// a * b, or nothing where it would not fit (both are ≥ 0).
std::optional<i128> checked_multiply(i128 a, i128 b) {
  if (b != 0 && a > kMax / b) return std::nullopt;
  return a * b;
}

}  // namespace

std::optional<Quantity> Quantity::parse(std::string_view text) {
  // <sign><digits>[.<digits>][<suffix> | e<exp> | E<exp>]
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  i128 mantissa = 0;  // all digits, ignoring the dot
  int fraction_digits = 0;
  bool digits = false, dot = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits = true;
      // Every digit of a value that fits is accepted: to_string's text always parses back.
      if (mantissa > (kMax - (c - '0')) / 10) return std::nullopt;
      mantissa = mantissa * 10 + (c - '0');
      if (dot) ++fraction_digits;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (!digits) return std::nullopt;
  std::string_view rest = text.substr(i);
  i128 multiplier = 0;
  int exponent = 0;
  for (const auto& suffix : kSuffixes) {
    if (suffix.text == rest) {
      multiplier = suffix.nanos;
      break;
    }
  }
  if (multiplier == 0) {
    // A decimal exponent ("1e3", "2E-6"), tried after the suffixes: "E" and "Ei" are those.
    if (rest.size() < 2 || (rest[0] != 'e' && rest[0] != 'E')) return std::nullopt;
    size_t j = 1;
    bool exp_negative = false;
    if (rest[j] == '+' || rest[j] == '-') exp_negative = rest[j++] == '-';
    if (j >= rest.size()) return std::nullopt;
    for (; j < rest.size(); ++j) {
      if (!std::isdigit(static_cast<unsigned char>(rest[j])) || exponent > 30) return std::nullopt;
      exponent = exponent * 10 + (rest[j] - '0');
    }
    if (exp_negative) exponent = -exponent;
    multiplier = kNano;
  }
  // value = mantissa * 10^(exponent - fraction_digits) * multiplier, in nanos. Fraction
  // digits first divide the multiplier where it is a multiple of ten, so no intermediate is
  // larger than the value (".5E" is 5 * 10^26, not 5 * 10^27 / 10); what does not fit in 128
  // bits is not a quantity.
  int scale = exponent - fraction_digits;
  for (; scale < 0 && multiplier % 10 == 0; ++scale) multiplier /= 10;
  std::optional<i128> product = checked_multiply(mantissa, multiplier);
  if (!product) return std::nullopt;
  i128 value = *product;
  for (; scale > 0; --scale) {
    if (value > kMax / 10) return std::nullopt;
    value *= 10;
  }
  for (; scale < 0; ++scale) {
    // Below a nano the value cannot be represented exactly; Kubernetes rounds up.
    value = value / 10 + (value % 10 != 0 ? 1 : 0);
  }
  Quantity q;
  q.nanos_ = negative ? -value : value;
  return q;
}

std::optional<Quantity> Quantity::from_json(const json& value) {
  if (value.is_string()) return parse(value.get_ref<const std::string&>());
  if (value.is_number_integer()) return parse(std::to_string(value.get<long long>()));
  if (value.is_number_unsigned()) return parse(std::to_string(value.get<unsigned long long>()));
  if (value.is_number_float()) {
    double d = value.get<double>();
    if (!std::isfinite(d)) return std::nullopt;
    return parse(json(d).dump());  // JSON spelling of a double ("0.5", "1e+20")
  }
  return std::nullopt;
}

Int128 Quantity::millis_ceil() const {
  constexpr i128 kPerMilli = 1'000'000;
  i128 q = nanos_ / kPerMilli;
  if (nanos_ % kPerMilli != 0 && nanos_ > 0) ++q;
  return q;
}

double Quantity::to_double() const { return static_cast<double>(nanos_) / 1e9; }

std::string Quantity::to_string() const {
  // Plain decimal: the shortest exact form ("0.5", "536870912", "0.000000001").
  i128 v = nanos_ < 0 ? -nanos_ : nanos_;
  i128 whole = v / kNano, frac = v % kNano;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(whole % 10)));
    whole /= 10;
  } while (whole > 0);
  if (frac != 0) {
    std::string f(9, '0');
    for (int i = 8; i >= 0; --i, frac /= 10)
      f[i] = static_cast<char>('0' + static_cast<int>(frac % 10));
    while (!f.empty() && f.back() == '0') f.pop_back();
    digits += "." + f;
  } else if (digits.size() > 18) {
    // A whole number of more than 18 digits ("88E" is 88000000000000000000): trailing zeros
    // become a decimal exponent, which reads better and parses back to the same value.
    size_t zeros = 0;
    while (zeros + 1 < digits.size() && digits[digits.size() - 1 - zeros] == '0') ++zeros;
    if (zeros > 0) digits = digits.substr(0, digits.size() - zeros) + "e" + std::to_string(zeros);
  }
  return nanos_ < 0 ? "-" + digits : digits;
}

bool quantities_equal(const json& a, const json& b) {
  auto qa = Quantity::from_json(a);
  auto qb = Quantity::from_json(b);
  return qa && qb && *qa == *qb;
}

}  // namespace plumbline
