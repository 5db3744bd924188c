// Text that leaves plumbline is valid UTF-8: JSON with replacement characters instead of an
// exception, and cuts that never split a character.
#include "plumbline/core/utf8.h"

#include <gtest/gtest.h>

namespace plumbline {
namespace {

TEST(Utf8, JsonTextReplacesInvalidBytesInsteadOfThrowing) {
  nlohmann::json value = {{"file", "env/api-\xff.yaml"}, {"ok", "d\xC3\xA9j\xC3\xA0"}};
  EXPECT_THROW((void)value.dump(), nlohmann::json::type_error);
  std::string text = to_json_text(value);
  EXPECT_EQ(text, "{\"file\":\"env/api-\xEF\xBF\xBD.yaml\",\"ok\":\"d\xC3\xA9j\xC3\xA0\"}");
  EXPECT_EQ(nlohmann::json::parse(text)["ok"], "d\xC3\xA9j\xC3\xA0");
  EXPECT_EQ(to_json_text({{"a", 1}}, 2), "{\n  \"a\": 1\n}");
}

TEST(Utf8, PrefixNeverSplitsACharacter) {
  std::string euro = "\xE2\x82\xAC";  // 3 bytes
  std::string text = "ab" + euro + "c";
  EXPECT_EQ(utf8_prefix(text, 100), text);
  EXPECT_EQ(utf8_prefix(text, 6), text);
  EXPECT_EQ(utf8_prefix(text, 5), "ab" + euro);
  EXPECT_EQ(utf8_prefix(text, 4), "ab");
  EXPECT_EQ(utf8_prefix(text, 3), "ab");
  EXPECT_EQ(utf8_prefix(text, 2), "ab");
  EXPECT_EQ(utf8_prefix(text, 0), "");
  // 1,000 bytes of 2-byte characters cut at an odd limit: 999 -> 998, still valid.
  std::string many;
  for (int i = 0; i < 600; ++i) many += "\xC3\xA9";
  std::string cut = utf8_prefix(many, 999);
  EXPECT_EQ(cut.size(), 998u);
  EXPECT_NO_THROW((void)nlohmann::json(cut).dump());
}

}  // namespace
}  // namespace plumbline
