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

}  // namespace
}  // namespace plumbline
