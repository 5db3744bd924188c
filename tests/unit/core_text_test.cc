// The core's small shared helpers: base64 (both the lenient form of Secret data and known_hosts
// and kubeconfig's strict, wrapped form), trim/join, RFC 3339 with fractions and offsets.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "plumbline/core/base64.h"
#include "plumbline/core/digest.h"
#include "plumbline/core/rfc3339.h"
#include "plumbline/core/strings.h"

namespace plumbline {
namespace {

TEST(Base64Test, EncodesAndDecodesEveryPaddingLength) {
  for (const std::string& text :
       std::vector<std::string>{"", "a", "ab", "abc", "hello", std::string("\0\xff\x10", 3)}) {
    const std::string encoded = base64_encode(text);
    EXPECT_EQ(encoded.size() % 4, 0u) << text;
    EXPECT_EQ(base64_decode(encoded), text);
  }
  EXPECT_EQ(base64_encode("hello"), "aGVsbG8=");
  EXPECT_EQ(base64_encode(std::string(200, 'x')).size(), 268u);
}

TEST(Base64Test, PaddingIsOptionalUnlessRequired) {
  const Base64Options strict{.padding = Base64Padding::kRequired, .allow_whitespace = true};
  EXPECT_EQ(base64_decode("aGk"), "hi");
  EXPECT_EQ(base64_decode("aGk="), "hi");
  EXPECT_FALSE(base64_decode("aGk", strict));
  EXPECT_EQ(base64_decode("aGk=", strict), "hi");
  // Whitespace (kubeconfig's wrapped *-data values) only where allowed.
  EXPECT_FALSE(base64_decode("aGVs\nbG8="));
  EXPECT_EQ(base64_decode("aGVs\nbG8=\n", strict), "hello");
}

TEST(Base64Test, RefusesWhatIsNotBase64) {
  for (const char* bad :
       {"a", "a$bc", "ab=", "YQ===", "YQ==YQ==", "-----BEGIN", "a_b-", "aGk=\n"}) {
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
  }
}

TEST(StringsTest, TrimAndJoin) {
  EXPECT_EQ(trim("  a b \r\n"), "a b");
  EXPECT_EQ(trim(" \t "), "");
  EXPECT_EQ(trim("\fx\v"), "x");
  EXPECT_EQ(trim(" x\n", " "), "x\n");
  EXPECT_EQ(trim_right("line\r\n"), "line");
  EXPECT_EQ(trim_right("  "), "");
  EXPECT_EQ(join(std::vector<std::string>{"a", "b", "c"}, ", "), "a, b, c");
  EXPECT_EQ(join(std::set<std::string>{"b", "a"}, ":"), "a:b");
  EXPECT_EQ(join(std::vector<std::string>{}, ", "), "");
}

TEST(Rfc3339Test, FormatsWithTheFractionAsked) {
  using namespace std::chrono;
  const system_clock::time_point t =
      system_clock::from_time_t(1795437541) + microseconds(250123);  // 2026-11-23T12:39:01Z
  EXPECT_EQ(rfc3339(t), "2026-11-23T12:39:01Z");
  EXPECT_EQ(rfc3339(t, 3), "2026-11-23T12:39:01.250Z");
  EXPECT_EQ(rfc3339(t, 6), "2026-11-23T12:39:01.250123Z");
}

TEST(Rfc3339Test, ParsesZonesAndFractionsAndRefusesTheRest) {
  using namespace std::chrono;
  const auto utc = system_clock::from_time_t(1795437541);
  EXPECT_EQ(parse_rfc3339("2026-11-23T12:39:01Z"), utc);
  EXPECT_EQ(parse_rfc3339("2026-11-23T12:39:01.999z"), utc);
  EXPECT_EQ(parse_rfc3339("2026-11-23T13:39:01+01:00"), utc);
  EXPECT_EQ(parse_rfc3339("2026-11-23T10:09:01-02:30"), utc);
  for (const char* bad : {"", "2026-11-23", "2026-11-23T12:39:01", "2026-11-23T12:39:01+0100",
                          "2026-11-23 12:39:01Z", "2026-11-23T12:39:01ZZ"}) {
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
  }
}

TEST(DigestTest, RawBytesAndHexAgree) {
  const std::string bytes = sha256_bytes("abc");
  ASSERT_EQ(bytes.size(), 32u);
  std::string hex;
  for (unsigned char c : bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex += kHex[c >> 4];
    hex += kHex[c & 0xf];
  }
  EXPECT_EQ(hex, sha256_hex("abc"));
  EXPECT_EQ(sha256_hex("abc", 12), "ba7816bf8f01");
}

TEST(StringsTest, ContainsIgnoringCase) {
  EXPECT_TRUE(contains_ignoring_case("db_password", "PASS"));
  EXPECT_TRUE(contains_ignoring_case("DB_PASSWORD", "pass"));
  EXPECT_TRUE(contains_ignoring_case("Token", "TOKEN"));
  EXPECT_FALSE(contains_ignoring_case("LOG_LEVEL", "PASS"));
  EXPECT_FALSE(contains_ignoring_case("PAS", "PASS"));   // shorter than the needle
  EXPECT_FALSE(contains_ignoring_case("anything", ""));  // an empty pattern matches nothing
  EXPECT_FALSE(contains_ignoring_case("", "A"));
  // Bytes that are not ASCII letters compare as they are.
  EXPECT_TRUE(contains_ignoring_case("x\xC3\xA9y", "\xC3\xA9"));
  EXPECT_FALSE(contains_ignoring_case("\xC3\x89", "\xC3\xA9"));
}

// One home for the ASCII case folding of schemes, hosts, header and env var names.
TEST(StringsTest, AsciiCaseFolding) {
  EXPECT_EQ(to_lower_ascii("Content-Type: Application/JSON"), "content-type: application/json");
  EXPECT_EQ(to_lower_ascii("\xC3\x89Z@[`{"), "\xC3\x89z@[`{");  // only A-Z change
  EXPECT_EQ(to_lower_ascii(""), "");
  EXPECT_TRUE(equals_ignoring_case("GitHub.COM", "github.com"));
  EXPECT_FALSE(equals_ignoring_case("github.com", "github.co"));
  EXPECT_FALSE(equals_ignoring_case("a@", "A`"));  // '@' and '`' are not letters
  EXPECT_TRUE(equals_ignoring_case("", ""));
  EXPECT_TRUE(starts_with_ignoring_case("HTTPS://example.com", "https://"));
  EXPECT_TRUE(starts_with_ignoring_case("git::ssh://x", ""));
  EXPECT_FALSE(starts_with_ignoring_case("http", "https"));
  EXPECT_FALSE(starts_with_ignoring_case("ftp://x", "https://"));
}
}  // namespace
}  // namespace plumbline
