// LiveStore: the cache's objects keyed by ObjectRef; change sets of LIST replaces and WATCH events.
#include "plumbline/cache/live_store.h"

#include <gtest/gtest.h>

#include <string>

#include "plumbline/core/compact_encoding.h"

namespace plumbline {
namespace {

using Type = LiveStore::Change::Type;

LiveObject object(std::string ns, std::string name, std::string rv, std::string uid = "u",
                  std::string kind = "Deployment") {
  json j = {
      {"apiVersion", "apps/v1"},
      {"kind", kind},
      {"metadata", {{"name", name}, {"namespace", ns}, {"uid", uid}, {"resourceVersion", rv}}}};
  auto projected = Projector().project(j.dump());
  EXPECT_TRUE(projected.ok()) << projected.error().to_string();
  return projected.ok() ? *projected : LiveObject{};
}

ObjectRef ref(std::string ns, std::string name, std::string kind = "Deployment") {
  return {"apps/v1", std::move(kind), std::move(ns), std::move(name)};
}

WatchEvent event(WatchEventType type, LiveObject o) {
  WatchEvent e;
  e.type = type;
  e.object = std::move(o);
  return e;
}

TEST(LiveStore, ReplaceReportsAddedModifiedDeletedSortedByRef) {
  LiveStore store;
  auto first =
      store.replace("Deployment", "a",
                    {object("a", "web", "1"), object("a", "api", "1"), object("a", "db", "1")});
  EXPECT_EQ(first, (std::vector<LiveStore::Change>{{Type::kAdded, ref("a", "api")},
                                                   {Type::kAdded, ref("a", "db")},
                                                   {Type::kAdded, ref("a", "web")}}));
  EXPECT_EQ(store.size(), 3u);

  // api unchanged, db new resourceVersion, web gone, cache new; a StatefulSet stays untouched.
  store.replace("StatefulSet", "a", {object("a", "api", "9", "u", "StatefulSet")});
  auto second =
      store.replace("Deployment", "a",
                    {object("a", "cache", "2"), object("a", "db", "2"), object("a", "api", "1")});
  EXPECT_EQ(second, (std::vector<LiveStore::Change>{{Type::kAdded, ref("a", "cache")},
                                                    {Type::kModified, ref("a", "db")},
                                                    {Type::kDeleted, ref("a", "web")}}));
  EXPECT_EQ(store.size(), 4u);
  EXPECT_NE(store.find(ref("a", "api", "StatefulSet")), nullptr);
  ASSERT_NE(store.find(ref("a", "db")), nullptr);
  EXPECT_EQ(store.find(ref("a", "db"))->resource_version, "2");
  EXPECT_EQ(store.find(ref("a", "web")), nullptr);

  // Same resourceVersion but another uid: deleted and recreated -> modified.
  auto recreated = store.replace(
      "Deployment", "a",
      {object("a", "cache", "2", "other"), object("a", "db", "2"), object("a", "api", "1")});
  EXPECT_EQ(recreated, (std::vector<LiveStore::Change>{{Type::kModified, ref("a", "cache")}}));
  EXPECT_EQ(store.replace("Deployment", "a",
                          {object("a", "cache", "2", "other"), object("a", "db", "2"),
                           object("a", "api", "1")}),
            std::vector<LiveStore::Change>{});
  // An unchanged object still takes the fresh projection (e.g. after a scope change).
  LiveObject relabeled = object("a", "api", "1");
  relabeled.projection =
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"api"}})";
  EXPECT_EQ(store.replace("Deployment", "a",
                          {object("a", "cache", "2", "other"), object("a", "db", "2"), relabeled}),
            std::vector<LiveStore::Change>{});
  EXPECT_EQ(store.find(ref("a", "api"))->projection, relabeled.projection);
}

// `plumbline diff --live cluster` moves the objects out of its one-shot cache: all of them,
// sorted by ref, projected as kept, and nothing left behind.
TEST(LiveStore, TakeMovesEveryObjectOutSortedByRef) {
  LiveStore store;
  store.replace("Deployment", "", {object("b", "web", "1"), object("a", "web", "2")});
  store.replace("StatefulSet", "a", {object("a", "db", "3", "u", "StatefulSet")});
  std::string projection = store.find(ref("b", "web"))->projection;
  std::vector<LiveObject> taken = store.take();
  ASSERT_EQ(taken.size(), 3u);
  EXPECT_EQ(taken[0].ref, ref("a", "web"));  // by apiVersion, kind, namespace, name
  EXPECT_EQ(taken[1].ref, ref("b", "web"));
  EXPECT_EQ(taken[2].ref, ref("a", "db", "StatefulSet"));
  EXPECT_EQ(taken[1].projection, projection);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_TRUE(store.take().empty());
}

TEST(LiveStore, ReplaceIsScopedToNamespaceOrAll) {
  LiveStore store;
  store.replace("Deployment", "", {object("a", "x", "1"), object("b", "y", "1")});
  // Namespace b only: a/x stays; an object of namespace a in the list is ignored.
  auto changes = store.replace("Deployment", "b", {object("b", "z", "1"), object("a", "q", "1")});
  EXPECT_EQ(changes, (std::vector<LiveStore::Change>{{Type::kDeleted, ref("b", "y")},
                                                     {Type::kAdded, ref("b", "z")}}));
  EXPECT_NE(store.find(ref("a", "x")), nullptr);
  EXPECT_EQ(store.find(ref("a", "q")), nullptr);
  // All namespaces, empty list: everything of the kind goes.
  auto cleared = store.replace("Deployment", "", {});
  EXPECT_EQ(cleared, (std::vector<LiveStore::Change>{{Type::kDeleted, ref("a", "x")},
                                                     {Type::kDeleted, ref("b", "z")}}));
  EXPECT_EQ(store.size(), 0u);
}

TEST(LiveStore, ApplyWatchEvents) {
  LiveStore store;
  EXPECT_EQ(store.apply(event(WatchEventType::kAdded, object("a", "api", "1"))),
            (LiveStore::Change{Type::kAdded, ref("a", "api")}));
  // Same resourceVersion again (a relist replay): nothing changed.
  EXPECT_EQ(store.apply(event(WatchEventType::kModified, object("a", "api", "1"))), std::nullopt);
  EXPECT_EQ(store.apply(event(WatchEventType::kModified, object("a", "api", "2"))),
            (LiveStore::Change{Type::kModified, ref("a", "api")}));
  EXPECT_EQ(store.find(ref("a", "api"))->resource_version, "2");
  // ADDED of a known object is a modification; MODIFIED of an unknown one an addition.
  EXPECT_EQ(store.apply(event(WatchEventType::kAdded, object("a", "api", "3"))),
            (LiveStore::Change{Type::kModified, ref("a", "api")}));
  EXPECT_EQ(store.apply(event(WatchEventType::kModified, object("a", "web", "4"))),
            (LiveStore::Change{Type::kAdded, ref("a", "web")}));
  EXPECT_EQ(store.apply(event(WatchEventType::kDeleted, object("a", "api", "5"))),
            (LiveStore::Change{Type::kDeleted, ref("a", "api")}));
  EXPECT_EQ(store.apply(event(WatchEventType::kDeleted, object("a", "api", "5"))), std::nullopt);
  WatchEvent bookmark = event(WatchEventType::kBookmark, {});
  bookmark.object.resource_version = "9";
  EXPECT_EQ(store.apply(bookmark), std::nullopt);
  WatchEvent error = event(WatchEventType::kError, {});
  error.error_code = 410;
  EXPECT_EQ(store.apply(error), std::nullopt);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(to_string(Type::kModified), "modified");
}

TEST(LiveStore, MaterializeSortedByRefAndByNamespace) {
  LiveStore store;
  store.replace("Deployment", "",
                {object("b", "x", "1"), object("a", "y", "1"), object("a", "b", "1")});
  auto names = [](const std::vector<json>& objects) {
    std::vector<std::string> out;
    for (const json& o : objects) {
      out.push_back(o["metadata"]["namespace"].get<std::string>() + "/" +
                    o["metadata"]["name"].get<std::string>());
    }
    return out;
  };
  EXPECT_EQ(names(store.materialize()), (std::vector<std::string>{"a/b", "a/y", "b/x"}));
  EXPECT_EQ(names(store.materialize("a")), (std::vector<std::string>{"a/b", "a/y"}));
  EXPECT_TRUE(store.materialize("c").empty());
  EXPECT_EQ(store.materialize("b")[0],
            (json{{"apiVersion", "apps/v1"},
                  {"kind", "Deployment"},
                  {"metadata",
                   {{"name", "x"}, {"namespace", "b"}, {"uid", "u"}, {"resourceVersion", "1"}}}}));
}

// A controller's full pass takes a namespace's objects still projected (one materialized at a
// time): the same objects, in the same order, as materialize(ns).
TEST(LiveStore, ProjectedCopiesANamespacesObjects) {
  LiveStore store;
  store.replace("Deployment", "",
                {object("b", "x", "1"), object("a", "y", "2"), object("a", "b", "3")});
  std::vector<LiveObject> projected = store.projected("a");
  std::vector<json> materialized = store.materialize("a");
  ASSERT_EQ(projected.size(), 2u);
  for (size_t i = 0; i < projected.size(); ++i) {
    EXPECT_EQ(projected[i].to_json(), materialized[i]);
    EXPECT_EQ(projected[i].ref, ObjectRef::of(materialized[i]));
    EXPECT_EQ(projected[i].resource_version, resource_version(materialized[i]));
  }
  EXPECT_EQ(projected[0].ref.name, "b");
  EXPECT_TRUE(store.projected("c").empty());
}

TEST(LiveStore, MemoryBytesCountsStringsAndNodes) {
  LiveObject small = object("a", "x", "1");
  // Short strings live inside the object; the projection is on the heap.
  EXPECT_EQ(small.memory_bytes(), sizeof(LiveObject) + small.projection.capacity() + 1);
  LiveObject big = small;
  big.uid = std::string(100, 'u');
  big.uid.shrink_to_fit();
  EXPECT_EQ(big.memory_bytes(), small.memory_bytes() + big.uid.capacity() + 1);

  LiveStore store;
  size_t empty = store.memory_bytes();
  store.replace("Deployment", "a", {small});
  EXPECT_GT(store.memory_bytes(), empty + small.memory_bytes());
  EXPECT_LT(store.memory_bytes(), empty + small.memory_bytes() + 128);
  EXPECT_EQ(LiveObject{}.to_json(), json());
}

TEST(LiveObject, ToJsonEqualsNlohmannParse) {
  LiveObject o;
  o.projection =
      R"({"a":[0,1,-2,-0,3.5,1e3,1E-2,18446744073709551615,18446744073709551616,)"
      R"(-9223372036854775808,-9223372036854775809,true,false,null,"x\u00e9\"\\\n",{},[]],)"
      R"("b":{"c":1,"c":2},"d":"\ud83d\ude00"})";
  json expected = json::parse(o.projection);
  json actual = o.to_json();
  EXPECT_EQ(actual.dump(), expected.dump());
  EXPECT_EQ(actual, expected);
  for (size_t i = 0; i < expected["a"].size(); ++i) {
    EXPECT_EQ(actual["a"][i].type(), expected["a"][i].type()) << i;
  }
}

// A full pass materializes projections without metadata.managedFields (half of a projection's
// nodes); everything else is as materialized with them.
TEST(LiveObject, ToJsonCanLeaveOutManagedFields) {
  LiveObject o;
  o.projection =
      R"({"kind":"Deployment","managedFields":1,"metadata":{"name":"a","managedFields":)"
      R"([{"manager":"kubectl"}],"labels":{"managedFields":"kept"}},"spec":{"replicas":2}})";
  json whole = o.to_json();
  json left_out = o.to_json(LiveObject::ManagedFields::kLeftOut);
  EXPECT_TRUE(whole["metadata"].contains("managedFields"));
  json expected = whole;
  expected["metadata"].erase("managedFields");
  EXPECT_EQ(left_out, expected);
  EXPECT_EQ(left_out["managedFields"], 1);  // only metadata's
  EXPECT_EQ(left_out["metadata"]["labels"]["managedFields"], "kept");
  EXPECT_EQ(LiveObject{}.to_json(LiveObject::ManagedFields::kLeftOut), json());
}

// A full pass diffs a projection from its encoding (diff_encoded): the bytes must be those of
// the tree to_json builds, encoded — keys in nlohmann's order, the last duplicate winning,
// each number typed as nlohmann types it, managedFields left out only under metadata.
TEST(LiveObject, EncodeWritesTheEncodingOfToJson) {
  std::vector<std::string> projections = {
      R"({"a":[0,1,-2,-0,3.5,1e3,1E-2,18446744073709551615,18446744073709551616,)"
      R"(-9223372036854775808,-9223372036854775809,true,false,null,"x\u00e9\"\\\n",{},[]],)"
      R"("b":{"c":1,"c":2},"d":"\ud83d\ude00"})",
      R"({"z":1,"y":{"b":[{"d":1,"c":2}],"a":null},"x":"","\u00e9":1,"E":2,"e":3})",
      R"({"kind":"Deployment","managedFields":1,"metadata":{"name":"a","managedFields":)"
      R"([{"manager":"kubectl"}],"labels":{"managedFields":"kept"},"managedFields":[]}})",
      R"([{"b":1,"a":2},[],[[]]])",
      R"("text")",
      R"(null)",
      "",   // a default LiveObject: null
      "{",  // not JSON (never written by the Projector): null, as to_json gives
  };
  for (const std::string& text : projections) {
    SCOPED_TRACE(text);
    LiveObject o;
    o.projection = text;
    for (auto mode : {LiveObject::ManagedFields::kKept, LiveObject::ManagedFields::kLeftOut}) {
      std::string expected = "prefix";
      compact_encoding::encode_value(o.to_json(mode), expected);
      std::string encoded = "prefix";  // appended to, not replaced
      o.encode(encoded, mode);
      EXPECT_EQ(encoded, expected);
    }
  }
}

}  // namespace
}  // namespace plumbline
