// The field table (core/field_table.h) is the one list of compared fields: every field in it
// is kept by the LiveCache's projection, walked by the diff, categorized from its path and
// shown in the report, and nothing outside it is. A field added to the table is covered here
// without touching this test.
#include "plumbline/core/field_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plumbline/cache/live_store.h"
#include "plumbline/diff/drift.h"
#include "plumbline/report/report.h"

namespace plumbline {
namespace {

json deployment() {
  return json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"web","namespace":"shop"},
    "spec":{"template":{"metadata":{},"spec":{"containers":[{"name":"app"}]}}}})");
}

// Where a field of `level` sits in a Deployment, as a JSON pointer and as a canonical path.
struct Place {
  std::string pointer, path;
};

std::vector<Place> places(const ComparedField& f) {
  std::string name(f.name);
  switch (f.level) {
    case FieldLevel::kObjectSpec:
      return {{"/spec/" + name, "spec." + name}};
    case FieldLevel::kMetadata:
      return {{"/metadata/" + name, "metadata." + name},
              {"/spec/template/metadata/" + name, "spec.template.metadata." + name}};
    case FieldLevel::kPod:
      return {{"/spec/template/spec/" + name, "spec.template.spec." + name}};
    case FieldLevel::kPodSecurity:
      return {{"/spec/template/spec/securityContext/" + name,
               "spec.template.spec.securityContext." + name}};
    case FieldLevel::kContainer:
    case FieldLevel::kContainerSecurity: {
      std::string inner = f.level == FieldLevel::kContainer ? name : "securityContext." + name;
      std::string pointer_inner =
          f.level == FieldLevel::kContainer ? name : "securityContext/" + name;
      std::vector<Place> out;
      for (std::string_view list : container_lists()) {
        std::string l(list);
        out.push_back({"/spec/template/spec/" + l + "/0/" + pointer_inner,
                       "spec.template.spec." + l + "[name=app]." + inner});
      }
      return out;
    }
  }
  return {};
}

// A value of the field's shape, different for `side` 0 (Git) and 1 (live).
json value_for(const ComparedField& f, int side) {
  std::string v = side == 0 ? "a" : "b";
  if (f.list.kind == path::ListKind::kKeyed) return json::array({{{f.list.key, "x"}, {"v", v}}});
  if (f.list.kind == path::ListKind::kSet) return json::array({v});
  return v;
}

json with(json object, const std::string& pointer, json value) {
  // Every container list holds the container "app" so that the pointer's /0 exists.
  for (std::string_view list : container_lists()) {
    object["spec"]["template"]["spec"][std::string(list)] = json::array({{{"name", "app"}}});
  }
  object[json::json_pointer(pointer)] = std::move(value);
  return object;
}

Manifest desired_of(json object) {
  Manifest m;
  m.object = std::move(object);
  m.origin = {"web.yaml", 1, 1};
  return m;
}

TEST(FieldTableTest, EveryFieldIsProjectedWalkedCategorizedAndReported) {
  DiffOptions options;
  options.scope = all_categories();
  Projector projector(all_categories());
  size_t checked = 0;
  for (const ComparedField& f : compared_fields()) {
    for (const Place& place : places(f)) {
      SCOPED_TRACE(place.path);
      json git = with(deployment(), place.pointer, value_for(f, 0));
      json live = with(deployment(), place.pointer, value_for(f, 1));
      Result<LiveObject> projected = projector.project(live.dump());
      ASSERT_TRUE(projected.ok()) << projected.error().to_string();
      ManifestSet desired{desired_of(git)};
      // Cache: the projection keeps the field, so drift on it equals drift on the whole object.
      std::vector<Drift> on_whole = compute_drift(desired, {live}, options);
      std::vector<Drift> on_projection = compute_drift(desired, {projected->to_json()}, options);
      ASSERT_FALSE(on_projection.empty());
      ASSERT_EQ(on_projection.size(), on_whole.size());
      for (size_t i = 0; i < on_whole.size(); ++i) {
        EXPECT_EQ(on_projection[i].path, on_whole[i].path);
        EXPECT_EQ(on_projection[i].live, on_whole[i].live);
      }
      DriftReport report;
      report.environment = "prod";
      report.drifts = on_projection;
      json reported = to_json(report);
      for (const Drift& d : on_projection) {
        // Diff: walked under the field's own path, in the field's category.
        EXPECT_EQ(d.path.rfind(place.path, 0), 0u) << d.path;
        EXPECT_EQ(d.category, f.category) << d.path;
        // categorize() agrees from the path alone.
        EXPECT_EQ(categorize("Deployment", d.path), f.category) << d.path;
        // Report: the finding is shown with its path and category.
        EXPECT_NE(reported.dump().find(json(d.path).dump()), std::string::npos) << d.path;
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, compared_fields().size());
}

// A projector whose scope leaves a category out drops the table's fields of that category
// (object labels excepted: always kept), and the diff does not walk them.
TEST(FieldTableTest, AFieldOutsideTheScopeIsNeitherProjectedNorWalked) {
  for (const ComparedField& f : compared_fields()) {
    std::vector<Category> others;
    for (Category c : all_categories()) {
      if (c != f.category) others.push_back(c);
    }
    DiffOptions narrow;
    narrow.scope = others;
    Projector projector(others);
    for (const Place& place : places(f)) {
      SCOPED_TRACE(place.path);
      json git = with(deployment(), place.pointer, value_for(f, 0));
      json live = with(deployment(), place.pointer, value_for(f, 1));
      EXPECT_TRUE(compute_drift({desired_of(git)}, {live}, narrow).empty());
      Result<LiveObject> projected = projector.project(live.dump());
      ASSERT_TRUE(projected.ok()) << projected.error().to_string();
      bool kept = projected->to_json().contains(json::json_pointer(place.pointer));
      EXPECT_EQ(kept, place.path == "metadata.labels");
    }
  }
}

TEST(FieldTableTest, ListRulesOfTheTableAreThePathRules) {
  for (const ComparedField& f : compared_fields()) {
    path::ListRule rule = path::list_rule(level_parent(f.level), f.name);
    if (f.list.kind == path::ListKind::kAtomic) continue;  // scalars and maps have no rule
    EXPECT_EQ(rule.kind, f.list.kind) << f.name;
    EXPECT_EQ(rule.key, f.list.key) << f.name;
  }
  for (std::string_view list : container_lists()) {
    EXPECT_EQ(path::list_rule("spec", list).key, kContainerKey);
  }
}

}  // namespace
}  // namespace plumbline
