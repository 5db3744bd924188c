// Whole-object mode (the controller's Environments, ConsistencyPolicies, PDBs and
// NetworkPolicies): the same LIST / WATCH parser as the projected mode, keeping everything.
#include <gtest/gtest.h>

#include <string>

#include "plumbline/cache/live_store.h"

namespace plumbline {
namespace {

const char* kEnvironment =
    R"({"apiVersion":"plumbline.dev/v1alpha1","kind":"Environment",)"
    R"("metadata":{"name":"prod","namespace":"plumbline","uid":"u1","resourceVersion":"7",)"
    R"("labels":{"tier":"prod"},"annotations":{"a":"b"},"generation":3,)"
    R"("managedFields":[{"manager":"kubectl","operation":"Apply","fieldsV1":{"f:spec":{}}}]},)"
    R"("spec":{"namespaces":["shop-prod"],"source":{"url":"https://git.example/x","ref":"main"}},)"
    R"("status":{"conditions":[{"type":"Ready","status":"True"}]}})";

TEST(WholeObjects, KeepEveryField) {
  Result<LiveObject> object = Projector::whole_objects().project(kEnvironment);
  ASSERT_TRUE(object.ok()) << object.error().to_string();
  EXPECT_EQ(object->to_json(), json::parse(kEnvironment));
  EXPECT_EQ(object->ref.to_string(), ObjectRef::of(json::parse(kEnvironment)).to_string());
  EXPECT_EQ(object->uid, "u1");
  EXPECT_EQ(object->resource_version, "7");
}

TEST(WholeObjects, ListItemsTakeTheListsKindAndWatchEventsParseAsProjectedOnes) {
  std::string item = kEnvironment;
  std::string body = R"({"apiVersion":"plumbline.dev/v1alpha1","kind":"EnvironmentList",)"
                     R"("metadata":{"resourceVersion":"9"},"items":[)" +
                     item + "]}";
  Result<ListPage> page = parse_list(body, Projector::whole_objects());
  ASSERT_TRUE(page.ok()) << page.error().to_string();
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->resource_version, "9");
  EXPECT_EQ(page->items[0].to_json(), json::parse(kEnvironment));

  Result<WatchEvent> event =
      parse_watch_event(R"({"type":"MODIFIED","object":)" + item + "}", Projector::whole_objects());
  ASSERT_TRUE(event.ok()) << event.error().to_string();
  EXPECT_EQ(event->type, WatchEventType::kModified);
  EXPECT_EQ(event->object.to_json(), json::parse(kEnvironment));
}

// Bad lines are refused the same way in both modes (the whole-object mode used to read them
// with a second, looser parser).
TEST(WholeObjects, BadLinesAreTheSameErrorsAsProjected) {
  for (std::string line : {
           R"({"type":"RESYNC","object":{}})",
           R"({"type":"ADDED"})",
           R"({"type":"ADDED","object":[]})",
           R"({"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p"})",
           R"({"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":7}}})",
           R"({"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{}}})",
           R"({"type":"BOOKMARK","object":{"metadata":{}}})",
           "not json",
       }) {
    Result<WatchEvent> whole = parse_watch_event(line, Projector::whole_objects());
    Result<WatchEvent> projected = parse_watch_event(line, Projector());
    ASSERT_FALSE(whole.ok()) << line;
    ASSERT_FALSE(projected.ok()) << line;
    EXPECT_EQ(whole.error().to_string(), projected.error().to_string());
    EXPECT_EQ(whole.error().code(), ErrorCode::kInvalidInput);
  }
  Result<WatchEvent> error = parse_watch_event(
      R"({"type":"ERROR","object":{"kind":"Status","code":403,"reason":"Forbidden"}})",
      Projector::whole_objects());
  ASSERT_TRUE(error.ok()) << error.error().to_string();
  EXPECT_EQ(error->error_code, 403);
  EXPECT_EQ(error->error_reason, "Forbidden");
}

}  // namespace
}  // namespace plumbline
