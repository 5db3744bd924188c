// CompactManifest: what the controller holds of a desired object materializes as the object
// the render returned — every value with its type — with the same identity, origin, field
// origins and base name.
#include "plumbline/core/compact_manifest.h"

#include <gtest/gtest.h>

#include <limits>

#include "drift_test_util.h"
#include "plumbline/core/file_tree.h"
#include "plumbline/render/render.h"

namespace plumbline {
namespace {

using testing::manifest;
using testing::yaml;

// Equal as JSON and as text: nlohmann's == takes 1 and 1.0 (and -0.0 and 0.0) as equal, its
// dump does not.
void expect_same(const Manifest& got, const Manifest& want) {
  EXPECT_EQ(got.object, want.object);
  EXPECT_EQ(got.object.dump(), want.object.dump());
  EXPECT_EQ(got.origin.to_string(), want.origin.to_string());
  EXPECT_EQ(got.fields, want.fields);  // shared, not copied
  EXPECT_EQ(got.base_name, want.base_name);
  EXPECT_EQ(got.ref(), want.ref());
  EXPECT_EQ(got.match_name(), want.match_name());
}

TEST(CompactManifest, DemoManifestsMaterializeAsRendered) {
  auto tree = make_directory_tree(std::string(PLUMBLINE_SOURCE_DIR) + "/manifests");
  for (std::string env : {"dev", "staging", "prod"}) {
    SCOPED_TRACE(env);
    auto rendered = render(*tree, "envs/" + env, {});
    ASSERT_TRUE(rendered.ok()) << rendered.error().to_string();
    ASSERT_FALSE(rendered->empty());
    CompactManifestSet held = compact(*rendered);
    ASSERT_EQ(held.size(), rendered->size());
    ManifestSet back = materialize(held);
    for (size_t i = 0; i < rendered->size(); ++i) {
      const Manifest& want = (*rendered)[i];
      SCOPED_TRACE(want.ref().to_string());
      expect_same(held[i].materialize(), want);
      expect_same(back[i], want);
      EXPECT_EQ(held[i].ref(), want.ref());
      EXPECT_EQ(held[i].match_name(), want.match_name());
      for (const char* path :
           {"", "spec.replicas", "spec.template.spec.containers[name=app]", "metadata.labels"}) {
        EXPECT_EQ(held[i].locate(path).to_string(), want.locate(path).to_string()) << path;
      }
    }
  }
}

TEST(CompactManifest, OddValuesKeepTheirValueAndType) {
  Manifest m = manifest(R"(apiVersion: v1
kind: ConfigMap
metadata: {name: odd, namespace: shop, labels: {}, annotations: {a: null}}
data:
  big: 18446744073709551615
  small: -9223372036854775808
  int: 42
  float: 1.0
  third: 0.1
  huge: 1.0e+300
  tiny: 5.0e-324
  negative_zero: -0.0
  single: 3.4028234663852886e+38
  text: "日本語 ✓ 🚀 é"
  quoted_number: "42"
  nothing: null
  tilde: ~
  yes: true
  no: false
  empty_map: {}
  empty_list: []
  nested: [[], {}, [null], {a: []}]
  empty_string: ""
)",
                        "odd-base");
  m.object["data"]["nul"] = std::string("a\0b", 3);
  m.object["data"]["unsigned"] = std::numeric_limits<std::uint64_t>::max();
  m.object["data"]["signed"] = std::numeric_limits<std::int64_t>::min();
  m.object["data"]["small_negative"] = -1;
  m.object["data"]["binary"] = json::binary({1, 0, 255}, 7);
  m.object["data"]["binary_plain"] = json::binary({});
  CompactManifest held(m);
  Manifest back = held.materialize();
  expect_same(back, m);
  EXPECT_TRUE(back.object["data"]["unsigned"].is_number_unsigned());
  EXPECT_TRUE(back.object["data"]["float"].is_number_float());
  EXPECT_TRUE(back.object["data"]["empty_map"].is_object());
  EXPECT_TRUE(back.object["data"]["empty_list"].is_array());
  EXPECT_TRUE(back.object["data"]["nothing"].is_null());
  EXPECT_EQ(back.object["data"]["nul"].get<std::string>().size(), 3u);
  EXPECT_EQ(held.match_name(), "odd-base");
}

TEST(CompactManifest, NonObjectsAndMissingIdentityRoundTrip) {
  for (const json& object : {json(), json::array({1, "two", nullptr}), json("text"), json(7),
                             json::object(), json{{"kind", 3}, {"metadata", "x"}}}) {
    Manifest m{.object = object, .origin = {"odd.yaml", 3, 1}};
    CompactManifest held(m);
    expect_same(held.materialize(), m);
    EXPECT_EQ(held.object().dump(), object.dump());
    EXPECT_EQ(held.locate("spec").to_string(), "odd.yaml:3:1");
  }
}

TEST(CompactManifest, CopiesShareOneEncoding) {
  Manifest m = manifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n");
  CompactManifest held(m);
  CompactManifest copy = held;
  EXPECT_EQ(&copy.ref(), &held.ref());
  EXPECT_EQ(copy.memory_bytes(), held.memory_bytes());
  EXPECT_EQ(held.match_name(), "a");  // no base name: metadata.name
}

// same_as: the same data, or equal bytes, origin, base name and the same field origins.
TEST(CompactManifest, SameAsComparesTheDeclarationNotJustTheObject) {
  Manifest m = manifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shop}\n");
  m.origin = {"env/a.yaml", 1, 1};
  m.fields = std::make_shared<FieldOrigins>(FieldOrigins::Builder().build());
  CompactManifest held(m);
  EXPECT_TRUE(held.same_as(held));
  EXPECT_TRUE(held.same_as(CompactManifest(m)));  // other data, same declaration
  EXPECT_FALSE(held.shares_data(CompactManifest(m)));
  Manifest moved = m;
  moved.origin.line = 3;
  EXPECT_FALSE(held.same_as(CompactManifest(moved)));
  Manifest reparsed = m;
  reparsed.fields = std::make_shared<FieldOrigins>(
      FieldOrigins::Builder().build());  // lines may have moved inside
  EXPECT_FALSE(held.same_as(CompactManifest(reparsed)));
  Manifest renamed = m;
  renamed.base_name = "b";
  EXPECT_FALSE(held.same_as(CompactManifest(renamed)));
  Manifest edited = m;
  edited.object["data"] = {{"k", "v"}};
  EXPECT_FALSE(held.same_as(CompactManifest(edited)));

  // compact(set, known) takes known's data for what is the same, encodes the rest anew.
  CompactManifestSet known = {held};
  CompactManifestSet next = compact({m, edited, reparsed}, known);
  EXPECT_TRUE(next[0].shares_data(held));
  EXPECT_FALSE(next[1].shares_data(held));
  EXPECT_FALSE(next[2].shares_data(held));
  EXPECT_EQ(next[1].object(), edited.object);
}

}  // namespace
}  // namespace plumbline
