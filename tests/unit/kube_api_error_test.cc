// The mapping of API answers to errors: code, and a message naming verb, resource, namespace.
// The same answers from a real apiserver are checked in tests/integration/kube_*_test.cc.
#include <gtest/gtest.h>

#include "plumbline/kube/kube_client.h"

namespace plumbline {
namespace {

const ApiResource kDeployments{.group = "apps",
                               .version = "v1",
                               .kind = "Deployment",
                               .resource = "deployments",
                               .namespaced = true};
const ApiResource kPods{
    .group = "", .version = "v1", .kind = "Pod", .resource = "pods", .namespaced = true};
const ApiResource kNamespaces{.group = "",
                              .version = "v1",
                              .kind = "Namespace",
                              .resource = "namespaces",
                              .namespaced = false};

std::string StatusBody(int code, const std::string& reason, const std::string& message) {
  return json{{"kind", "Status"},   {"apiVersion", "v1"}, {"status", "Failure"},
              {"message", message}, {"reason", reason},   {"code", code}}
      .dump();
}

TEST(KubeApiErrorTest, ForbiddenNamesVerbResourceAndNamespace) {
  Error e = api_error(403,
                      StatusBody(403, "Forbidden",
                                 "deployments.apps is forbidden: User \"u\" cannot list resource "
                                 "\"deployments\" in API group \"apps\" in the namespace \"b\""),
                      "list", kDeployments, "b", "", "https://k:6443");
  EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(e.to_string(),
            "https://k:6443: cannot list deployments.apps in namespace \"b\": forbidden (403): "
            "deployments.apps is forbidden: User \"u\" cannot list resource \"deployments\" in "
            "API group \"apps\" in the namespace \"b\"");
}

TEST(KubeApiErrorTest, CodesDecideWhatTheCallerDoes) {
  struct Case {
    int status;
    ErrorCode code;
    std::string words;
  };
  for (const Case& c : std::vector<Case>{
           {400, ErrorCode::kInvalidInput, "bad request (400)"},
           {401, ErrorCode::kUnauthenticated, "unauthorized (401)"},
           {404, ErrorCode::kNotFound, "not found (404)"},
           {409, ErrorCode::kConflict, "conflict (409)"},
           {410, ErrorCode::kGone, "gone (410)"},
           {422, ErrorCode::kInvalidInput, "invalid (422)"},
           {429, ErrorCode::kUnavailable, "too many requests (429)"},
           {500, ErrorCode::kUnavailable, "HTTP 500"},
           {503, ErrorCode::kUnavailable, "HTTP 503"},
           {504, ErrorCode::kTimeout, "HTTP 504"},
           {418, ErrorCode::kInvalidInput, "HTTP 418"},
       }) {
    Error e = api_error(c.status, StatusBody(c.status, "X", "m"), "get", kPods, "ns", "p", "s");
    EXPECT_EQ(e.code(), c.code) << c.status;
    EXPECT_NE(e.message().find("cannot get pods \"p\" in namespace \"ns\": " + c.words),
              std::string::npos)
        << e.message();
    EXPECT_EQ(e.retryable(), c.code == ErrorCode::kUnavailable || c.code == ErrorCode::kTimeout)
        << c.status;
  }
}

// The one table every reader of a status uses (responses, LIST Status bodies, watch ERROR
// events): what is retryable and what is terminal is decided here only.
TEST(KubeApiErrorTest, OneMappingOfHttpStatusToErrorCode) {
  const std::vector<std::pair<int, ErrorCode>> table = {
      {0, ErrorCode::kUnavailable},       {200, ErrorCode::kInternal},
      {302, ErrorCode::kInternal},        {400, ErrorCode::kInvalidInput},
      {401, ErrorCode::kUnauthenticated}, {403, ErrorCode::kPermissionDenied},
      {404, ErrorCode::kNotFound},        {405, ErrorCode::kInvalidInput},
      {409, ErrorCode::kConflict},        {410, ErrorCode::kGone},
      {413, ErrorCode::kInvalidInput},    {422, ErrorCode::kInvalidInput},
      {429, ErrorCode::kUnavailable},     {500, ErrorCode::kUnavailable},
      {502, ErrorCode::kUnavailable},     {503, ErrorCode::kUnavailable},
      {504, ErrorCode::kTimeout},         {599, ErrorCode::kUnavailable},
      {600, ErrorCode::kInternal},        {-1, ErrorCode::kInternal},
  };
  for (const auto& [status, code] : table) {
    EXPECT_EQ(code_for_http_status(status), code) << status;
  }
  // A 403 inside a watch ERROR event is terminal; 504 is a timeout, retryable, everywhere.
  EXPECT_FALSE(Error(code_for_http_status(403), "watch ended with 403").retryable());
  EXPECT_TRUE(Error(code_for_http_status(504), "list: 504").retryable());
  EXPECT_EQ(api_error(504, "", "list", kPods, "a", "", "s").code(), code_for_http_status(504));
}

TEST(KubeApiErrorTest, ClusterScopedAndAllNamespaces) {
  EXPECT_EQ(api_error(404, StatusBody(404, "NotFound", "namespaces \"x\" not found"), "get",
                      kNamespaces, "", "x", "s")
                .message(),
            "cannot get namespaces \"x\": not found (404): namespaces \"x\" not found");
  EXPECT_EQ(api_error(403, StatusBody(403, "Forbidden", "no"), "watch", kDeployments, "", "", "s")
                .message(),
            "cannot watch deployments.apps in all namespaces: forbidden (403): no");
}

TEST(KubeApiErrorTest, InvalidListsTheCausesWhenTheMessageDoesNot) {
  json body = json::parse(StatusBody(422, "Invalid", "Deployment is invalid"));
  body["details"] = {{"causes",
                      {{{"field", "spec.replicas"}, {"message", "must be >= 0"}},
                       {{"field", "spec.selector"}, {"message", "Required value"}}}}};
  EXPECT_EQ(api_error(422, body.dump(), "apply", kDeployments, "a", "w", "s").message(),
            "cannot apply deployments.apps \"w\" in namespace \"a\": invalid (422): Deployment "
            "is invalid; spec.replicas: must be >= 0; spec.selector: Required value");
}

TEST(KubeApiErrorTest, BodiesThatAreNotAStatusAreQuotedBounded) {
  std::string html = "<html>" + std::string(1000, 'x') + "</html>\n";
  std::string message = api_error(502, html, "list", kPods, "a", "", "s").message();
  EXPECT_EQ(message, "cannot list pods in namespace \"a\": HTTP 502: " + html.substr(0, 300));
  EXPECT_EQ(api_error(503, "", "list", kPods, "a", "", "s").message(),
            "cannot list pods in namespace \"a\": HTTP 503: (empty body)");
}

TEST(KubeApiErrorTest, ClientRefusesServersThatAreNotHttpUrls) {
  KubeConfig config{.server = "ftp://k:6443", .source = "kc.yaml"};
  auto client = make_kube_client(config, {});
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().to_string(), "kc.yaml: server URL must be https://: ftp://k:6443");
}

}  // namespace
}  // namespace plumbline
