// Secrets never leave plumbline: names that look secret, URLs with credentials in any form,
// and env values that carry such a URL.
#include "plumbline/core/mask.h"

#include <gtest/gtest.h>

namespace plumbline {
namespace {

TEST(Mask, SecretLookingNames) {
  for (const char* name : {"DB_PASSWORD", "DB_PASS", "MYSQL_PWD", "GPG_PASSPHRASE", "LDAP_PWD",
                           "db_passwd", "API_TOKEN", "AWS_SECRET_ACCESS_KEY", "SENTRY_DSN"}) {
    EXPECT_TRUE(is_secret_name(name)) << name;
  }
  for (const char* name : {"LOG_LEVEL", "GOMAXPROCS", "TZ", "DATABASE_HOST"}) {
    EXPECT_FALSE(is_secret_name(name)) << name;
  }
}

TEST(Mask, UrlsLoseUserinfoInEveryForm) {
  EXPECT_EQ(redact_url("https://user:hunter2@git.example/ops.git"), "https://git.example/ops.git");
  EXPECT_EQ(redact_url("https://ghp_TOKEN@git.example/ops.git"), "https://git.example/ops.git");
  EXPECT_EQ(redact_url("https://user:pa/ss@git.example/ops.git"), "https://git.example/ops.git");
  EXPECT_EQ(redact_url("https://user:p@ss:w/rd@git.example:8443/ops.git"),
            "https://git.example:8443/ops.git");
  EXPECT_EQ(redact_url("https://git.example/ops.git?token=T0K&ref=main#x"),
            "https://git.example/ops.git?token=<redacted>&ref=<redacted>");
  EXPECT_EQ(redact_url("ssh://git@git.example:22/ops.git"), "ssh://git.example:22/ops.git");
  // Unchanged: nothing secret, an '@' in the path, scp-like addresses and paths.
  EXPECT_EQ(redact_url("https://git.example/ops.git"), "https://git.example/ops.git");
  EXPECT_EQ(redact_url("https://git.example/org/ops@v1"), "https://git.example/org/ops@v1");
  EXPECT_EQ(redact_url("https://git.example:8443/org/ops@v1"),
            "https://git.example:8443/org/ops@v1");
  EXPECT_EQ(redact_url("git@git.example:org/ops.git"), "git@git.example:org/ops.git");
  EXPECT_EQ(redact_url("/srv/git/ops"), "/srv/git/ops");
}

TEST(Mask, UrlsInsideMessages) {
  EXPECT_EQ(redact_urls_in("failed to fetch 'https://u:SECRET@h/x.git': 401; see http://h/help"),
            "failed to fetch 'https://h/x.git': 401; see http://h/help");
  EXPECT_EQ(redact_urls_in("no url here: a://"), "no url here: a://");
  EXPECT_TRUE(url_has_credentials("postgres://app:S3CRET@db.internal:5432/shop"));
  EXPECT_TRUE(url_has_credentials("https://h/x?sig=abc"));
  EXPECT_FALSE(url_has_credentials("https://h/x"));
  EXPECT_FALSE(url_has_credentials("redis:6379"));
}

TEST(Mask, EnvValuesHoldingCredentialsAreMasked) {
  json object = json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "api"},
    "spec": {"template": {"spec": {"containers": [{"name": "app", "env": [
      {"name": "DATABASE_URL", "value": "postgres://u:S3CRET@db/shop"},
      {"name": "DB_PASS", "value": "hunter2"},
      {"name": "UPSTREAM", "value": "https://api.example/v1"}]}]}}}})");
  std::string out = mask_object(object).dump();
  EXPECT_EQ(out.find("S3CRET"), std::string::npos) << out;
  EXPECT_EQ(out.find("hunter2"), std::string::npos) << out;
  EXPECT_NE(out.find("https://api.example/v1"), std::string::npos) << out;
}

// The parse cache writes an object to disk only when this is false: it must say exactly whether
// mask_object would change the object.
TEST(Mask, HoldsMaskedValueIsWhetherMaskObjectChangesIt) {
  auto deployment = [](const std::string& env) {
    return json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"},
      "spec": {"template": {"spec": {"containers": [{"name": "app", "env": [)" +
                       env + "]}]}}}}");
  };
  const std::vector<std::pair<std::string, json>> cases = {
      {"plain env", deployment(R"({"name": "LOG_LEVEL", "value": "info"})")},
      {"secret-named env", deployment(R"({"name": "API_TOKEN", "value": "t0ken"})")},
      {"secret-named env without a value",
       deployment(
           R"({"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}})")},
      {"secret-named env, null value", deployment(R"({"name": "API_TOKEN", "value": null})")},
      {"URL with credentials", deployment(R"({"name": "UPSTREAM", "value": "https://u:p@h/x"})")},
      {"init container",
       json::parse(R"({"kind": "Pod", "metadata": {"name": "p"}, "spec": {"initContainers": [
         {"name": "i", "env": [{"name": "DB_PASSWORD", "value": "x"}]}]}})")},
      {"CronJob",
       json::parse(R"({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
         "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [
           {"name": "c", "env": [{"name": "SECRET_KEY", "value": "x"}]}]}}}}}})")},
      {"Secret data", json::parse(R"({"kind": "Secret", "metadata": {"name": "s"},
         "data": {"password": "aHVudGVyMg=="}})")},
      {"Secret data, an object value", json::parse(R"({"kind": "Secret", "metadata": {"name": "s"},
         "stringData": {"nested": {"a": 1}}})")},
      {"Secret, null values only", json::parse(R"({"kind": "Secret", "metadata": {"name": "s"},
         "data": {"a": null}, "type": "Opaque"})")},
      {"ConfigMap data", json::parse(R"({"kind": "ConfigMap", "metadata": {"name": "c"},
         "data": {"password": "not masked here"}})")},
      {"last-applied annotation",
       json::parse(R"({"kind": "ConfigMap", "metadata": {"name": "c", "annotations":
         {"kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "shop"}}})")},
      {"other annotations", json::parse(R"({"kind": "ConfigMap", "metadata": {"name": "c",
         "annotations": {"team": "shop"}}})")},
      {"not an object", json::array({1, 2})},
  };
  std::vector<std::string> holding;
  for (const auto& [name, object] : cases) {
    EXPECT_EQ(holds_masked_value(object), mask_object(object) != object) << name;
    if (holds_masked_value(object)) holding.push_back(name);
  }
  EXPECT_EQ(holding,
            (std::vector<std::string>{"secret-named env", "URL with credentials", "init container",
                                      "CronJob", "Secret data", "Secret data, an object value",
                                      "last-applied annotation"}));
}

}  // namespace
}  // namespace plumbline
