// The one namespace-defaulting and kind-coverage rule of the CLI and the controller.
#include "plumbline/core/desired_scope.h"

#include <gtest/gtest.h>

#include "plumbline/core/compact_manifest.h"

namespace plumbline {
namespace {

Manifest object(json metadata, std::string kind = "Deployment") {
  Manifest m;
  m.object = {{"apiVersion", "apps/v1"}, {"kind", kind}};
  if (!metadata.is_discarded()) m.object["metadata"] = std::move(metadata);
  return m;
}

TEST(DesiredScope, AnUnsetNamespaceIsMissingNullOrEmpty) {
  EXPECT_TRUE(namespace_unset(object({{"name", "a"}}).object));
  EXPECT_TRUE(namespace_unset(object({{"name", "a"}, {"namespace", nullptr}}).object));
  EXPECT_TRUE(namespace_unset(object({{"name", "a"}, {"namespace", ""}}).object));
  EXPECT_TRUE(namespace_unset(object(json::value_t::discarded).object));
  EXPECT_FALSE(namespace_unset(object({{"name", "a"}, {"namespace", "shop"}}).object));
}

// The controller used to default only a missing namespace and to give one to every kind but
// Namespace; `namespace: ""` stayed empty (never matching its live object) and a ClusterRole
// got one. Both now follow the CLI: unset means missing, null or "", and cluster-scoped kinds
// keep none.
TEST(DesiredScope, ObjectsWithoutANamespaceOfNamespacedKindsGetTheDefault) {
  ManifestSet set{object({{"name", "a"}}), object({{"name", "b"}, {"namespace", ""}}),
                  object({{"name", "c"}, {"namespace", "other"}}),
                  object({{"name", "admin"}}, "ClusterRole"),
                  object({{"name", "shop"}}, "Namespace")};
  default_namespaces(set, "shop-prod", [](const json& o) {
    std::string kind = o.value("kind", "");
    return kind != "ClusterRole" && kind != "Namespace";
  });
  EXPECT_EQ(set[0].ref().ns, "shop-prod");
  EXPECT_EQ(set[1].ref().ns, "shop-prod");
  EXPECT_EQ(set[2].ref().ns, "other");
  EXPECT_FALSE(set[3].object["metadata"].contains("namespace"));
  EXPECT_FALSE(set[4].object["metadata"].contains("namespace"));
}

// The compact overload (the controller's and `diff`'s held form) follows the same rule and
// decodes only the objects it changes: the others keep their shared data.
TEST(DesiredScope, CompactObjectsWithoutANamespaceGetTheDefaultAndTheOthersAreUntouched) {
  CompactManifestSet set = compact(
      {object({{"name", "a"}}), object({{"name", "b"}, {"namespace", ""}}),
       object({{"name", "c"}, {"namespace", "other"}}), object({{"name", "admin"}}, "ClusterRole"),
       object({{"name", "shop"}}, "Namespace")});
  CompactManifestSet before = set;
  default_namespaces(set, "shop-prod", [](const ObjectRef& ref) {
    return ref.kind != "ClusterRole" && ref.kind != "Namespace";
  });
  EXPECT_EQ(set[0].ref().ns, "shop-prod");
  EXPECT_EQ(set[0].object()["metadata"]["namespace"], "shop-prod");
  EXPECT_EQ(set[1].ref().ns, "shop-prod");
  EXPECT_EQ(set[1].object()["metadata"]["namespace"], "shop-prod");
  EXPECT_EQ(set[2].ref().ns, "other");
  EXPECT_FALSE(set[3].object()["metadata"].contains("namespace"));
  EXPECT_FALSE(set[4].object()["metadata"].contains("namespace"));
  EXPECT_FALSE(set[0].shares_data(before[0]));
  for (size_t i : {2, 3, 4}) EXPECT_TRUE(set[i].shares_data(before[i])) << i;
}

TEST(DesiredScope, OnlyTheKindsTheLiveSideShowsAreCompared) {
  KindCoverage coverage{{"Deployment", "CronJob"}};
  EXPECT_TRUE(coverage.covers(object({{"name", "a"}}).object));
  EXPECT_TRUE(coverage.covers(object({{"name", "a"}}, "CronJob").object));
  EXPECT_FALSE(coverage.covers(object({{"name", "a"}}, "ConfigMap").object));
  EXPECT_FALSE(coverage.covers(json{{"kind", 7}}));
  EXPECT_FALSE(coverage.covers(json::array()));
}

}  // namespace
}  // namespace plumbline
