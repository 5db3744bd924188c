// The LIST and WATCH parsers of the LiveCache (cache/list_watch_parse.cc): envelopes, Status
// bodies, bookmarks and the errors of bad input.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <iterator>
#include <string>

#include "plumbline/cache/live_store.h"

namespace plumbline {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(PLUMBLINE_FIXTURES_DIR) + "/live/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// ---------------------------------------------------------------------------------------------
// LIST bodies.

TEST(ParseList, ItemsTakeApiVersionAndKindFromTheList) {
  std::string body = fixture("deployment-list.json");
  auto page = parse_list(body, Projector());
  ASSERT_TRUE(page.ok()) << page.error().to_string();
  EXPECT_EQ(page->api_version, "apps/v1");
  EXPECT_EQ(page->kind, "Deployment");
  EXPECT_EQ(page->resource_version, "98765");
  EXPECT_EQ(page->continue_token, "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6OTg3NjV9");
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].ref, (ObjectRef{"apps/v1", "Deployment", "shop-prod", "api"}));
  EXPECT_EQ(page->items[0].resource_version, "1001");
  EXPECT_EQ(page->items[0].uid, "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(page->items[0].projection,
            R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"api",)"
            R"("namespace":"shop-prod","uid":"11111111-2222-3333-4444-555555555555",)"
            R"("resourceVersion":"1001","labels":{"app":"api"}},"spec":{"template":{"spec":)"
            R"({"containers":[{"name":"app","env":[{"name":"TZ","value":"UTC"}],)"
            R"("resources":{"limits":{"memory":"512Mi"}}}]}}}})");
  EXPECT_EQ(page->items[1].ref, (ObjectRef{"apps/v1", "Deployment", "shop-prod", "worker"}));

  // The same body parsed in place (spare capacity for simdjson's padding) gives the same page.
  std::string padded = body;
  padded.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  auto in_place = parse_list(padded, Projector());
  ASSERT_TRUE(in_place.ok()) << in_place.error().to_string();
  ASSERT_EQ(in_place->items.size(), 2u);
  EXPECT_EQ(in_place->items[1].projection, page->items[1].projection);
}

TEST(ParseList, LastPageEmptyListAndErrors) {
  auto last = parse_list(
      R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[]})",
      Projector());
  ASSERT_TRUE(last.ok()) << last.error().to_string();
  EXPECT_EQ(last->kind, "Pod");
  EXPECT_EQ(last->resource_version, "7");
  EXPECT_EQ(last->continue_token, "");
  EXPECT_TRUE(last->items.empty());

  auto status =
      parse_list(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)"
                 R"("deployments.apps is forbidden","reason":"Forbidden","code":403})",
                 Projector());
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(status.error().to_string(),
            "LIST response: the LIST failed: Forbidden: deployments.apps is forbidden (code 403)");

  auto expired = parse_list(
      R"j({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)j"
      R"j("The provided continue parameter is too old.","reason":"Expired","code":410})j",
      Projector());
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code(), ErrorCode::kGone);

  auto bad_item =
      parse_list(R"({"kind":"DeploymentList","apiVersion":"apps/v1","metadata":{},"items":[)"
                 R"({"metadata":{"name":"ok"}},{"metadata":{"namespace":"x"}}]})",
                 Projector());
  ASSERT_FALSE(bad_item.ok());
  EXPECT_EQ(bad_item.error().to_string(),
            "DeploymentList item 1: Deployment in namespace x: missing metadata.name");

  auto truncated = parse_list(
      R"({"kind":"DeploymentList","apiVersion":"apps/v1","items":[{"metadata":)", Projector());
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().to_string(),
            "LIST response: invalid JSON (truncated or malformed): JSON document ended early in "
            "the middle of an object or array.");

  auto no_items = parse_list(R"({"kind":"DeploymentList","apiVersion":"apps/v1"})", Projector());
  ASSERT_FALSE(no_items.ok());
  EXPECT_EQ(no_items.error().to_string(), "DeploymentList: not a LIST response: no items");
}

// ---------------------------------------------------------------------------------------------
// WATCH lines.

// The pager asks for the next page with this token before the page is parsed: it must be the
// token parse_list reads, wherever the members stand, and nothing when there is none.
TEST(ListContinueToken, IsTheTokenParseListReads) {
  std::string body = fixture("deployment-list.json");
  EXPECT_EQ(list_continue_token(body), parse_list(body, Projector())->continue_token);
  EXPECT_EQ(list_continue_token(body), "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6OTg3NjV9");
  EXPECT_EQ(list_continue_token(R"({"items":[{"metadata":{"continue":"no"}}],)"
                                R"("metadata":{"continue":"tok"}})"),
            "tok");
  EXPECT_EQ(list_continue_token(R"({"kind":"DeploymentList","metadata":{"resourceVersion":"9"},)"
                                R"("items":[]})"),
            "");
  EXPECT_EQ(list_continue_token(R"({"metadata":{"continue":""},"items":[]})"), "");
  EXPECT_EQ(list_continue_token(R"({"metadata":{"continue":7},"items":[]})"), "");
  EXPECT_EQ(list_continue_token("not json"), "");
  EXPECT_EQ(list_continue_token(""), "");
}

TEST(ParseWatchEvent, AddedModifiedDeleted) {
  Projector p;
  const char* object =
      R"({"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"api","namespace":"ns",)"
      R"("uid":"u1","resourceVersion":"12","annotations":{"a":"b"}},"spec":{"replicas":2,)"
      R"("template":{"spec":{"containers":[{"name":"app","image":"x"}]}}},"status":{}})";
  const char* expected =
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"api","namespace":"ns",)"
      R"("uid":"u1","resourceVersion":"12"},"spec":{"template":{"spec":{"containers":[{"name":"app"}]}}}})";
  for (auto [text, type] : {std::pair{"ADDED", WatchEventType::kAdded},
                            std::pair{"MODIFIED", WatchEventType::kModified},
                            std::pair{"DELETED", WatchEventType::kDeleted}}) {
    auto event =
        parse_watch_event(std::string(R"({"type":")") + text + R"(","object":)" + object + "}", p);
    ASSERT_TRUE(event.ok()) << event.error().to_string();
    EXPECT_EQ(event->type, type);
    EXPECT_EQ(to_string(event->type), text);
    EXPECT_EQ(event->object.ref, (ObjectRef{"apps/v1", "Deployment", "ns", "api"}));
    EXPECT_EQ(event->object.resource_version, "12");
    EXPECT_EQ(event->object.projection, expected);
  }
  // The object before the type works too.
  auto reordered =
      parse_watch_event(std::string(R"({"object":)") + object + R"(,"type":"ADDED"})", p);
  ASSERT_TRUE(reordered.ok()) << reordered.error().to_string();
  EXPECT_EQ(reordered->object.projection, expected);
}

TEST(ParseWatchEvent, BookmarkAndError) {
  Projector p;
  auto bookmark = parse_watch_event(
      R"({"type":"BOOKMARK","object":{"kind":"Deployment","apiVersion":"apps/v1",)"
      R"("metadata":{"resourceVersion":"12746","annotations":{"k8s.io/initial-events-end":"true"}},)"
      R"("spec":{"template":{"metadata":{"creationTimestamp":null},"spec":{"containers":null}}},"status":{}}})",
      p);
  ASSERT_TRUE(bookmark.ok()) << bookmark.error().to_string();
  EXPECT_EQ(bookmark->type, WatchEventType::kBookmark);
  EXPECT_EQ(bookmark->object.resource_version, "12746");
  EXPECT_EQ(bookmark->object.ref, ObjectRef{});
  EXPECT_EQ(bookmark->object.projection, "");

  auto error = parse_watch_event(
      R"j({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":)j"
      R"j("Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410}})j",
      p);
  ASSERT_TRUE(error.ok()) << error.error().to_string();
  EXPECT_EQ(error->type, WatchEventType::kError);
  EXPECT_EQ(error->error_code, 410);
  EXPECT_EQ(error->error_reason, "Expired");
  EXPECT_EQ(error->error_message, "too old resource version: 1 (5)");
}

TEST(ParseWatchEvent, BadLines) {
  Projector p;
  auto expect_error = [&](const std::string& line, const std::string& message) {
    auto event = parse_watch_event(line, p);
    ASSERT_FALSE(event.ok()) << line;
    EXPECT_EQ(event.error().code(), ErrorCode::kInvalidInput);
    EXPECT_EQ(event.error().to_string(), message) << line;
  };
  expect_error(R"({"type":"RESYNC","object":{}})",
               "watch event: unknown watch event type \"RESYNC\"");
  expect_error(R"({"object":{}})", "watch event: missing type");
  expect_error(R"({"type":"ADDED"})", "watch event ADDED: missing object");
  expect_error(R"({"type":"ADDED","object":[]})",
               "watch event ADDED: object must be a JSON object, got an array");
  expect_error(
      R"({"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p"})",
      "watch event ADDED: Pod p: invalid JSON (truncated or malformed): The JSON document has "
      "an improper structure: missing or superfluous commas, braces, missing keys, etc.");
  expect_error("not json", "watch event: expected a JSON object, got 'not json'");
  expect_error(R"({"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{}}})",
               "watch event ADDED: Pod: missing metadata.name");
  expect_error(R"({"type":"BOOKMARK","object":{"metadata":{}}})",
               "watch event BOOKMARK: missing metadata.resourceVersion");
}

}  // namespace
}  // namespace plumbline
