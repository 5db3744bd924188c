// Environment resources: the spec as the controller reads it, and exact errors.
#include "plumbline/reconcile/environment.h"

#include <gtest/gtest.h>

namespace plumbline {
namespace {

json Prod() {
  return json::parse(R"({
    "apiVersion": "plumbline.dev/v1alpha1", "kind": "Environment",
    "metadata": {"name": "prod", "generation": 3},
    "spec": {"source": {"url": "https://git.example/ops.git", "ref": "main",
                        "path": "envs/prod", "secretRef": {"name": "git-credentials"}},
             "render": {"type": "kustomize"}, "namespaces": ["shop-prod"],
             "interval": "1m30s", "mode": "enforce",
             "correction": {"maxPerMinute": 5, "maxRounds": 2}}})");
}

TEST(EnvironmentTest, ReadsEveryField) {
  auto env = parse_environment(Prod());
  ASSERT_TRUE(env.ok()) << env.error().to_string();
  EXPECT_EQ(env->name, "prod");
  EXPECT_EQ(env->generation, 3);
  EXPECT_EQ(env->source.url, "https://git.example/ops.git");
  EXPECT_EQ(env->source.ref, "main");
  EXPECT_EQ(env->source.path, "envs/prod");
  EXPECT_EQ(env->source.secret_name, "git-credentials");
  EXPECT_EQ(env->render, "kustomize");
  EXPECT_EQ(env->namespaces, std::vector<std::string>{"shop-prod"});
  EXPECT_EQ(env->interval, std::chrono::seconds(90));
  EXPECT_EQ(env->mode, EnvironmentMode::kEnforce);
  EXPECT_EQ(env->correction.max_per_minute, 5);
  EXPECT_EQ(env->correction.max_rounds, 2);
}

TEST(EnvironmentTest, Defaults) {
  json object = Prod();
  object["spec"].erase("interval");
  object["spec"].erase("mode");
  object["spec"].erase("correction");
  object["spec"].erase("render");
  auto env = parse_environment(object);
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->interval, std::chrono::minutes(1));
  EXPECT_EQ(env->mode, EnvironmentMode::kReport);
  EXPECT_EQ(env->render, "auto");
  EXPECT_EQ(env->correction.max_per_minute, 10);
  EXPECT_EQ(env->correction.max_rounds, 3);
}

TEST(EnvironmentTest, ErrorsNameTheField) {
  struct Case {
    std::string pointer;
    json value;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"/spec/mode", "fix",
            "Environment prod: spec.mode must be report or enforce, got 'fix'"},
           {"/spec/interval", "soon",
            "Environment prod: spec.interval: duration 'soon' must look like 30s, 1m, 1h30m or "
            "250ms"},
           {"/spec/interval", "500ms",
            "Environment prod: spec.interval must be at least 1s, got 500ms"},
           {"/spec/namespaces", json::array(),
            "Environment prod: spec.namespaces must list at least one namespace"},
           {"/spec/source/url", "", "Environment prod: spec.source.url is required"},
           {"/spec/source/path", 7, "Environment prod: spec.source.path must be a string"},
           {"/spec/render/type", "command",
            "Environment prod: spec.render.type command needs spec.render.command"},
           {"/spec/render/type", "jsonnet",
            "Environment prod: spec.render.type 'jsonnet' is not supported by this controller "
            "(auto, plain, kustomize, helm, command)"},
           {"/spec/render/valuesFiles", json::array({"charts/web/values-prod.yaml"}),
            "Environment prod: spec.render.valuesFiles, values, releaseName and namespace are "
            "only used with type helm (or auto)"},
           {"/spec/render/command", json::array({"jsonnet"}),
            "Environment prod: spec.render.command is only used with type command"},
           {"/spec/render",
            {{"type", "helm"}, {"values", "replicaCount=3"}},
            "Environment prod: spec.render.values must be a mapping"},
           {"/spec/render/timeout", "soon",
            "Environment prod: spec.render.timeout must be a duration like 30s, got 'soon'"},
           {"/spec/source/verify",
            {{"provider", "ssh"}},
            "Environment prod: spec.source.verify.keysSecretRef.name is required"},
           {"/spec/source/verify",
            {{"provider", "gpg"}, {"keysSecretRef", {{"name", "signers"}}}},
            "Environment prod: spec.source.verify.provider must be ssh or openpgp, got 'gpg'"},
           {"/spec/source/verify", "ssh", "Environment prod: spec.source.verify must be an object"},
           {"/spec/correction/maxRounds", 0,
            "Environment prod: spec.correction.maxRounds must be at least 1, got 0"},
           {"/spec/serviceAccountName", "Shop_Writer",
            "Environment prod: spec.serviceAccountName 'Shop_Writer' is not a ServiceAccount name "
            "(lower-case letters, digits, '-', '.')"},
           {"/spec/serviceAccountName", std::string(300, 'a'),
            "Environment prod: spec.serviceAccountName '" + std::string(300, 'a') +
                "' is not a ServiceAccount name (lower-case letters, digits, '-', '.')"},
       }) {
    json object = Prod();
    object[json::json_pointer(c.pointer)] = c.value;
    auto env = parse_environment(object);
    ASSERT_FALSE(env.ok()) << c.pointer;
    EXPECT_EQ(env.error().to_string(), c.error);
  }
}

TEST(EnvironmentTest, RenderHelmAndCommand) {
  json object = Prod();
  object["spec"]["render"] = json::parse(R"({"type": "helm", "releaseName": "payments",
      "namespace": "shop-prod", "valuesFiles": ["charts/payments/values-prod.yaml"],
      "values": {"replicaCount": 3}, "timeout": "30s"})");
  auto env = parse_environment(object);
  ASSERT_TRUE(env.ok()) << env.error().to_string();
  EXPECT_EQ(env->render, "helm");
  EXPECT_EQ(env->helm.release_name, "payments");
  EXPECT_EQ(env->helm.namespace_name, "shop-prod");
  EXPECT_EQ(env->helm.values_files, std::vector<std::string>{"charts/payments/values-prod.yaml"});
  EXPECT_EQ(env->helm.values, json::parse(R"({"replicaCount": 3})"));
  EXPECT_EQ(env->render_timeout, std::chrono::seconds(30));

  object["spec"]["render"] =
      json::parse(R"({"type": "command", "command": ["jsonnet", "-y", "x"]})");
  env = parse_environment(object);
  ASSERT_TRUE(env.ok()) << env.error().to_string();
  EXPECT_EQ(env->render_command, (std::vector<std::string>{"jsonnet", "-y", "x"}));
}

TEST(EnvironmentTest, VerifyNamesTheFormatAndTheKeysSecret) {
  json object = Prod();
  EXPECT_FALSE(parse_environment(object)->source.verify.has_value());
  object["spec"]["source"]["verify"] = {{"provider", "openpgp"},
                                        {"keysSecretRef", {{"name", "signers"}}}};
  auto env = parse_environment(object);
  ASSERT_TRUE(env.ok()) << env.error().to_string();
  EXPECT_EQ(env->source.verify, SignatureFormat::kOpenPgp);
  EXPECT_EQ(env->source.verify_secret, "signers");

  json secret = {{"metadata", {{"namespace", "plumbline-system"}, {"name", "signers"}}},
                 {"data", {{"alice.asc", "QUxJQ0U="}, {"bob.asc", "Qk9C"}}}};
  auto keys = trusted_keys_from_secret(secret, SignatureFormat::kOpenPgp);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->keys, "ALICE\nBOB\n");
  EXPECT_EQ(keys->origin, "Secret plumbline-system/signers");
  auto ssh = trusted_keys_from_secret(secret, SignatureFormat::kSsh);
  ASSERT_FALSE(ssh.ok());
  EXPECT_EQ(ssh.error().to_string(),
            "Secret plumbline-system/signers: holds no allowed_signers (the SSH keys trusted to "
            "sign commits)");
}

TEST(EnvironmentTest, ServiceAccountName) {
  json object = Prod();
  EXPECT_EQ(parse_environment(object)->service_account, "");
  object["spec"]["serviceAccountName"] = "shop-writer";
  EXPECT_EQ(parse_environment(object)->service_account, "shop-writer");
}

TEST(EnvironmentTest, AllowedEnvironmentsAnnotation) {
  auto annotated = [](json value) {
    return json{{"metadata", {{"annotations", {{"plumbline.dev/allowed-environments", value}}}}}};
  };
  EXPECT_TRUE(allows_environment(annotated("prod"), "prod"));
  EXPECT_TRUE(allows_environment(annotated("staging, prod ,dev"), "prod"));
  EXPECT_FALSE(allows_environment(annotated("production,prod-eu"), "prod"));
  EXPECT_FALSE(allows_environment(annotated("*"), "prod"));  // no wildcard: names only
  EXPECT_FALSE(allows_environment(annotated(""), "prod"));
  EXPECT_FALSE(allows_environment(annotated(",,"), ""));
  EXPECT_FALSE(allows_environment(annotated(7), "prod"));
  EXPECT_FALSE(allows_environment(json{{"metadata", {{"annotations", "x"}}}}, "prod"));
  EXPECT_FALSE(allows_environment(json{{"metadata", {{"name", "s"}}}}, "prod"));
  EXPECT_FALSE(allows_environment(json::array(), "prod"));
}

TEST(EnvironmentTest, Durations) {
  EXPECT_EQ(*parse_duration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(*parse_duration("1h30m"), std::chrono::minutes(90));
  EXPECT_EQ(*parse_duration("1.5s"), std::chrono::milliseconds(1500));
  EXPECT_FALSE(parse_duration("1d").ok());
  EXPECT_FALSE(parse_duration("10").ok());
  EXPECT_FALSE(parse_duration("s").ok());
}

// A v1 Secret as the apiserver returns it: `data` values base64.
json Secret(std::initializer_list<std::pair<std::string, std::string>> data) {
  auto base64 = [](const std::string& text) {
    static const char* kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < text.size(); i += 3) {
      unsigned n = (unsigned char)text[i] << 16 | (unsigned char)text[i + 1] << 8 |
                   (unsigned char)text[i + 2];
      for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
    }
    if (i + 1 == text.size()) {
      unsigned n = (unsigned char)text[i] << 16;
      out += std::string{kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63]} + "==";
    } else if (i + 2 == text.size()) {
      unsigned n = (unsigned char)text[i] << 16 | (unsigned char)text[i + 1] << 8;
      out += std::string{kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63],
                         kAlphabet[(n >> 6) & 63]} +
             "=";
    }
    return out;
  };
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "git-credentials"}, {"namespace", "plumbline-system"}}},
                 {"data", json::object()}};
  for (const auto& [key, value] : data) secret["data"][key] = base64(value);
  return secret;
}

std::string ErrorOf(const json& secret) {
  Result<GitAuth> auth = git_auth_from_secret(secret, {});
  return auth.ok() ? "<ok>" : auth.error().to_string();
}

TEST(GitAuthFromSecret, TokenPasswordAndSshIdentity) {
  GitAuth defaults;
  defaults.known_hosts_file = "/etc/plumbline/known_hosts";
  defaults.password = "process-wide";
  defaults.ssh_key_file = "/home/plumbline/.ssh/id_ed25519";

  auto token = git_auth_from_secret(Secret({{"token", "ghp_abc"}}), defaults);
  ASSERT_TRUE(token.ok()) << token.error().to_string();
  EXPECT_EQ(token->username, "x-access-token");
  EXPECT_EQ(token->password, "ghp_abc");
  EXPECT_EQ(token->ssh_key_file, "") << "the process's credentials are never borrowed";
  EXPECT_EQ(token->known_hosts_file, "/etc/plumbline/known_hosts");
  EXPECT_EQ(token->origin, "Secret plumbline-system/git-credentials");

  auto gitlab = git_auth_from_secret(Secret({{"token", "glpat"}, {"username", "oauth2"}}), {});
  ASSERT_TRUE(gitlab.ok());
  EXPECT_EQ(gitlab->username, "oauth2");

  auto basic = git_auth_from_secret(Secret({{"username", "ci"}, {"password", "s3cr3t"}}), {});
  ASSERT_TRUE(basic.ok());
  EXPECT_EQ(basic->username, "ci");
  EXPECT_EQ(basic->password, "s3cr3t");

  const std::string key =
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn==\n-----END OPENSSH PRIVATE KEY-----\n";
  auto ssh = git_auth_from_secret(Secret({{"identity", key},
                                          {"identity.pub", "ssh-ed25519 AAAA test"},
                                          {"passphrase", "pw"},
                                          {"known_hosts", "git.example ssh-ed25519 AAAA\n"}}),
                                  defaults);
  ASSERT_TRUE(ssh.ok()) << ssh.error().to_string();
  EXPECT_EQ(ssh->ssh_key, key);
  EXPECT_EQ(ssh->ssh_public_key, "ssh-ed25519 AAAA test");
  EXPECT_EQ(ssh->ssh_key_passphrase, "pw");
  EXPECT_EQ(ssh->known_hosts, "git.example ssh-ed25519 AAAA\n");
  EXPECT_EQ(ssh->password, "");
}

TEST(GitAuthFromSecret, OnlyForTheEnvironmentsItLists) {
  json secret = Secret({{"token", "ghp_abc"}});
  EXPECT_EQ(secret_usable_by(secret, "prod").error().to_string(),
            "Secret plumbline-system/git-credentials: is not meant for Environment prod: its "
            "plumbline.dev/allowed-environments annotation must list it (comma-separated names)");
  secret["metadata"]["annotations"]["plumbline.dev/allowed-environments"] = "staging,prod";
  EXPECT_TRUE(secret_usable_by(secret, "prod").ok());
  EXPECT_FALSE(secret_usable_by(secret, "dev").ok());
  secret["type"] = "kubernetes.io/service-account-token";
  Status token = secret_usable_by(secret, "prod");
  EXPECT_EQ(token.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(token.error().to_string(),
            "Secret plumbline-system/git-credentials: is a ServiceAccount token (type "
            "kubernetes.io/service-account-token), not Git credentials: refused");
  secret["type"] = 7;  // hostile: not a string, not a crash
  EXPECT_TRUE(secret_usable_by(secret, "prod").ok());
}

TEST(GitAuthFromSecret, ErrorsNameTheSecretAndTheKey) {
  const std::string where = "Secret plumbline-system/git-credentials: ";
  EXPECT_EQ(ErrorOf(Secret({})),
            where + "holds no Git credentials (keys: username and password, token, or identity)");
  EXPECT_EQ(ErrorOf(Secret({{"known_hosts", "x"}})),
            where + "holds no Git credentials (keys: username and password, token, or identity)");
  EXPECT_EQ(ErrorOf(Secret({{"username", "ci"}})), where + "holds username without password");
  EXPECT_EQ(ErrorOf(Secret({{"password", "pw"}})), where + "holds password without username");
  EXPECT_EQ(ErrorOf(Secret({{"token", "t"}, {"password", "pw"}})),
            where + "holds both token and password; keep one");
  EXPECT_EQ(ErrorOf(Secret({{"identity", "ssh-ed25519 AAAA (a public key)"}})),
            where + "identity is not a PEM private key (-----BEGIN … PRIVATE KEY-----)");
  json bad = Secret({});
  bad["data"]["token"] = "not base64!";
  EXPECT_EQ(ErrorOf(bad), where + "data.token is not valid base64");
}

}  // namespace
}  // namespace plumbline
