// RFC 6902 edge cases: pointer escapes, array positions, move/copy, test, and every error.
#include <gtest/gtest.h>

#include "render/patch.h"

namespace plumbline::renderer {
namespace {

Result<json> patch(const char* document, const char* operations) {
  return apply_json_patch(json::parse(document), json::parse(operations));
}

TEST(JsonPatchTest, AddReplaceRemove) {
  auto out = patch(R"({"a": {"b": 1}, "l": [1, 2]})",
                   R"([{"op": "add", "path": "/a/c", "value": 2},
                       {"op": "replace", "path": "/a/b", "value": 3},
                       {"op": "add", "path": "/l/0", "value": 0},
                       {"op": "add", "path": "/l/-", "value": 9},
                       {"op": "remove", "path": "/l/1"}])");
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(*out, json::parse(R"({"a": {"b": 3, "c": 2}, "l": [0, 2, 9]})"));
}

TEST(JsonPatchTest, PointerEscapes) {
  auto out =
      patch(R"({"a/b": {"c~d": 1}})", R"([{"op": "replace", "path": "/a~1b/c~0d", "value": 2}])");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, json::parse(R"({"a/b": {"c~d": 2}})"));
  EXPECT_FALSE(patch(R"({})", R"([{"op": "add", "path": "/a~2", "value": 1}])").ok());
}

TEST(JsonPatchTest, MoveCopyTest) {
  auto out = patch(R"({"a": 1, "b": [1]})",
                   R"([{"op": "copy", "from": "/a", "path": "/c"},
                       {"op": "move", "from": "/a", "path": "/b/0"},
                       {"op": "test", "path": "/c", "value": 1}])");
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(*out, json::parse(R"({"b": [1, 1], "c": 1})"));
  EXPECT_FALSE(
      patch(R"({"a": {"b": 1}})", R"([{"op": "move", "from": "/a", "path": "/a/b/c"}])").ok());
  EXPECT_FALSE(patch(R"({"a": 1})", R"([{"op": "test", "path": "/a", "value": 2}])").ok());
}

TEST(JsonPatchTest, WholeDocument) {
  auto out = patch(R"({"a": 1})", R"([{"op": "add", "path": "", "value": [1]}])");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, json::parse("[1]"));
  EXPECT_FALSE(patch(R"({"a": 1})", R"([{"op": "remove", "path": ""}])").ok());
}

TEST(JsonPatchTest, ErrorsNeverThrow) {
  const char* bad[] = {
      R"([{"op": "replace", "path": "/missing", "value": 1}])",
      R"([{"op": "remove", "path": "/l/5"}])",
      R"([{"op": "add", "path": "/l/3", "value": 1}])",
      R"([{"op": "add", "path": "/l/01", "value": 1}])",
      R"([{"op": "add", "path": "/l/x", "value": 1}])",
      R"([{"op": "add", "path": "/a/b/c", "value": 1}])",
      R"([{"op": "add", "path": "no-slash", "value": 1}])",
      R"([{"op": "add", "path": "/x"}])",
      R"([{"op": "move", "path": "/x"}])",
      R"([{"op": "frobnicate", "path": "/x"}])",
      R"([{"path": "/x"}])",
      R"([{"op": "add", "path": 5, "value": 1}])",
      R"([5])",
      R"({"op": "add"})",
      R"([{"op": "remove", "path": "/l/-"}])",
  };
  for (const char* operations : bad) {
    EXPECT_FALSE(patch(R"({"a": 1, "l": [1, 2]})", operations).ok()) << operations;
  }
}

TEST(JsonPatchTest, ErrorNamesTheOperation) {
  auto out = patch(R"({})",
                   R"([{"op": "add", "path": "/a", "value": 1}, {"op": "remove", "path": "/b"}])");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().message(), "[1]: no such path '/b'");
}

}  // namespace
}  // namespace plumbline::renderer
