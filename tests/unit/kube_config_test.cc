// load_kube_config / load_in_cluster_config / current_bearer_token: kubectl's file selection and
// merge rules, every supported credential form, and the exact errors for what is refused.

#include "plumbline/kube/kube_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "plumbline/core/object.h"
#include "unit/kube_config_test_util.h"

namespace plumbline {
namespace {

using namespace kubeconfig_testing;

// --- kubeconfig files -----------------------------------------------------------------------

TEST_F(KubeConfigTest, CurrentContextWithClientCertificatesFromRelativePaths) {
  std::string file = kFixtures + "/config.yaml";
  auto config = load_kube_config({file, ""}, env_of({}));
  ASSERT_TRUE(config) << config.error().to_string();
  EXPECT_EQ(config->server, "https://dev.example.com:6443");  // trailing slash dropped
  EXPECT_EQ(config->ca_pem, read_text(kCerts + "/ca.crt"));
  EXPECT_EQ(config->client_cert_pem, read_text(kCerts + "/client.crt"));
  EXPECT_EQ(config->client_key_pem, read_text(kCerts + "/client.key"));
  EXPECT_EQ(config->token, "");
  EXPECT_EQ(config->token_file, "");
  EXPECT_FALSE(config->insecure_skip_tls_verify);
  EXPECT_EQ(config->tls_server_name, "kubernetes.default");
  EXPECT_EQ(config->context, "dev");
  EXPECT_EQ(config->namespace_, "shop-dev");
  EXPECT_EQ(config->source, file);
  EXPECT_EQ(current_bearer_token(*config).value(), "");
}

TEST_F(KubeConfigTest, ContextFlagOverridesCurrentContext) {
  std::string file = kFixtures + "/config.yaml";
  auto config = load_kube_config({file, "staging"}, env_of({}));
  ASSERT_TRUE(config) << config.error().to_string();
  EXPECT_EQ(config->server, "https://10.0.0.7:6443");
  EXPECT_TRUE(config->insecure_skip_tls_verify);
  EXPECT_EQ(config->ca_pem, "");
  EXPECT_EQ(config->client_cert_pem, "");
  EXPECT_EQ(config->client_key_pem, "");
  EXPECT_EQ(config->token, "static-token");
  EXPECT_EQ(config->token_file, kFixtures + "/tokens/staging-token");  // relative to the file
  EXPECT_EQ(config->context, "staging");
  EXPECT_EQ(config->namespace_, "default");
  // The file wins over the static token (client-go's rule), trailing newline trimmed.
  EXPECT_EQ(current_bearer_token(*config).value(), "staging-token-1");
}

TEST_F(KubeConfigTest, EmbeddedBase64Data) {
  auto config = load_kube_config({kFixtures + "/embedded.yaml", ""}, env_of({}));
  ASSERT_TRUE(config) << config.error().to_string();
  EXPECT_EQ(config->server, "https://[2001:db8::1]:443");
  EXPECT_EQ(config->ca_pem, read_text(kCerts + "/ca.crt"));
  EXPECT_EQ(config->client_cert_pem, read_text(kCerts + "/client.crt"));
  EXPECT_EQ(config->client_key_pem, read_text(kCerts + "/client.key"));
  EXPECT_EQ(config->context, "prod");
  EXPECT_EQ(config->namespace_, "default");
}

TEST_F(KubeConfigTest, KubeconfigListMergesFirstDefinitionWins) {
  std::string first = kFixtures + "/merge/first.yaml";
  std::string second = kFixtures + "/merge/second.yaml";
  std::string third = kFixtures + "/merge/third.yaml";
  std::string missing = dir_ + "/missing.yaml";
  auto env =
      env_of({{"KUBECONFIG", first + ":" + missing + "::" + second + ":" + third + ":" + first},
              {"HOME", dir_}});
  // current-context "b" comes from second.yaml (first.yaml sets none, third.yaml is later);
  // cluster "shared" from first.yaml; missing and repeated files are skipped.
  auto config = load_kube_config({}, env);
  ASSERT_TRUE(config) << config.error().to_string();
  EXPECT_EQ(config->context, "b");
  EXPECT_EQ(config->server, "https://first.example.com");
  EXPECT_EQ(config->token, "second-token");
  EXPECT_EQ(config->namespace_, "default");
  EXPECT_EQ(config->source, first + ":" + second + ":" + third);

  // Context "a" is defined by both: first.yaml's definition wins.
  auto a = load_kube_config({"", "a"}, env);
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(a->server, "https://first.example.com");
  EXPECT_EQ(a->token, "first-token");
  EXPECT_EQ(a->namespace_, "from-first");

  // Reordered: third.yaml now sets current-context first.
  auto reordered =
      load_kube_config({}, env_of({{"KUBECONFIG", third + ":" + second + ":" + first}}));
  ASSERT_TRUE(reordered) << reordered.error().to_string();
  EXPECT_EQ(reordered->context, "a");
  EXPECT_EQ(reordered->server, "https://second-only.example.com");
  EXPECT_EQ(reordered->namespace_, "from-second");
}

TEST_F(KubeConfigTest, HomeKubeConfigWhenKubeconfigUnset) {
  write(".kube/config",
        "current-context: home\n"
        "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:8080'}}]\n"
        "contexts: [{name: home, context: {cluster: c, namespace: ops}}]\n");
  auto config = load_kube_config({}, env_of({{"HOME", dir_}, {"KUBECONFIG", ""}}));
  ASSERT_TRUE(config) << config.error().to_string();
  EXPECT_EQ(config->server, "http://127.0.0.1:8080");  // kubectl allows plain http
  EXPECT_EQ(config->context, "home");
  EXPECT_EQ(config->namespace_, "ops");
  EXPECT_EQ(config->source, dir_ + "/.kube/config");
  EXPECT_EQ(current_bearer_token(*config).value(), "");  // no user: anonymous

  // --kubeconfig beats both $KUBECONFIG and ~/.kube/config.
  auto flag =
      load_kube_config({kFixtures + "/embedded.yaml", ""},
                       env_of({{"HOME", dir_}, {"KUBECONFIG", kFixtures + "/config.yaml"}}));
  ASSERT_TRUE(flag) << flag.error().to_string();
  EXPECT_EQ(flag->context, "prod");
}

TEST_F(KubeConfigTest, NothingFoundNamesEveryPlaceLookedAt) {
  auto none = load_kube_config({}, env_of({{"HOME", dir_}}));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(none.error().to_string(),
            "no Kubernetes configuration found; looked at $KUBECONFIG (not set), " + dir_ +
                "/.kube/config (does not exist), the in-cluster service account "
                "(KUBERNETES_SERVICE_HOST is not set). Pass --kubeconfig, set KUBECONFIG, or run "
                "in a cluster");

  auto listed =
      load_kube_config({"", "prod"}, env_of({{"KUBECONFIG", "/nonexistent/a:/nonexistent/b"},
                                             {"KUBERNETES_SERVICE_HOST", "10.0.0.1"}}));
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().to_string(),
            "no Kubernetes configuration found; looked at $KUBECONFIG (none of its files exist: "
            "/nonexistent/a, /nonexistent/b), ~/.kube/config ($HOME is not set), the in-cluster "
            "service account (not used with --context). Pass --kubeconfig, set KUBECONFIG, or "
            "run in a cluster");

  auto flag = load_kube_config({dir_ + "/nope", ""}, env_of({}));
  ASSERT_FALSE(flag);
  EXPECT_EQ(flag.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(flag.error().to_string(),
            "kubeconfig " + dir_ + "/nope (from --kubeconfig) does not exist");
}

TEST_F(KubeConfigTest, FallsBackToInClusterWhenNoKubeconfig) {
  write("sa/token", "sa-token\n");
  fs::copy_file(kCerts + "/ca.crt", dir_ + "/sa/ca.crt");
  KubeConfigOptions options;
  options.service_account_dir = dir_ + "/sa";
  auto config = load_kube_config(options, env_of({{"HOME", dir_},
                                                  {"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                                                  {"KUBERNETES_SERVICE_PORT", "443"}}));
  ASSERT_TRUE(config) << config.error().to_string();
  EXPECT_EQ(config->source, "in-cluster");
  EXPECT_EQ(config->server, "https://10.96.0.1:443");
}

TEST_F(KubeConfigTest, ContextSelectionErrors) {
  std::string contexts =
      "apiVersion: v1\n"
      "clusters:\n"
      "- name: c1\n"
      "  cluster: {server: 'https://k'}\n"
      "contexts:\n"
      "- name: one\n"
      "  context: {cluster: c1}\n"
      "- name: two\n"
      "  context: {cluster: c1}\n";
  EXPECT_EQ(error_for(contexts),
            config_path() +
                ": no current-context is set and no --context was given (contexts: one, two)");
  EXPECT_EQ(
      error_for(contexts, "three"),
      config_path() + ": context \"three\" given by --context is not defined (contexts: one, two)");
  EXPECT_EQ(error_for(contexts + "current-context: gone\n"),
            config_path() + ":10: current-context \"gone\" is not defined (contexts: one, two)");
  EXPECT_EQ(error_for("current-context: x\n"),
            config_path() + ":1: current-context \"x\" is not defined (no contexts are defined)");
  // An explicit --context works even when current-context names nothing.
  std::string file = write("config", contexts + "current-context: gone\n");
  auto config = load_kube_config({file, "two"}, env_of({}));
  ASSERT_TRUE(config) << config.error().to_string();
  EXPECT_EQ(config->context, "two");
}

TEST_F(KubeConfigTest, MissingClusterOrUser) {
  EXPECT_EQ(
      error_for(R"(current-context: main
clusters:
- name: c1
  cluster: {server: 'https://k'}
- name: c2
  cluster: {server: 'https://k'}
contexts:
- name: main
  context:
    cluster: c3
    user: u1
)"),
      config_path() +
          ":10: context \"main\" uses cluster \"c3\", which is not defined (clusters: c1, c2)");
  EXPECT_EQ(
      error_for(R"(current-context: main
clusters:
- name: c1
  cluster: {server: 'https://k'}
contexts:
- name: main
  context:
    cluster: c1
    user: u1
)"),
      config_path() +
          ":9: context \"main\" uses user \"u1\", which is not defined (no users are defined)");
  EXPECT_EQ(error_for(R"(current-context: main
contexts:
- name: main
  context:
    user: u1
)"),
            config_path() + ":3: context \"main\" names no cluster");
}

TEST_F(KubeConfigTest, ServerErrors) {
  EXPECT_EQ(error_for(R"(current-context: main
clusters:
- name: c1
  cluster:
    certificate-authority: @CERTS@/ca.crt
contexts:
- name: main
  context: {cluster: c1}
)"),
            config_path() + ":3: cluster \"c1\" has no server");
  EXPECT_EQ(error_for(R"(current-context: main
clusters:
- name: c1
  cluster:
    server: kube.example.com:6443
contexts:
- name: main
  context: {cluster: c1}
)"),
            config_path() +
                ":5: server \"kube.example.com:6443\" of cluster \"c1\" must be an https:// (or "
                "http://) URL");
  EXPECT_EQ(error_for(R"(current-context: main
clusters:
- name: c1
  cluster:
    server: https:///
contexts:
- name: main
  context: {cluster: c1}
)"),
            config_path() + ":5: server \"https://\" of cluster \"c1\" has no host");
  EXPECT_EQ(error_for(R"(current-context: main
clusters:
- name: c1
  cluster:
    server: https://k
    proxy-url: socks5://proxy:1080
contexts:
- name: main
  context: {cluster: c1}
)"),
            config_path() +
                ":6: cluster \"c1\" sets proxy-url, which plumbline does not support; the API "
                "server must be reachable directly");
}

TEST_F(KubeConfigTest, CertificateAuthorityErrors) {
  std::string head =
      "current-context: main\n"
      "contexts: [{name: main, context: {cluster: c1}}]\n"
      "clusters:\n"
      "- name: c1\n"
      "  cluster:\n"
      "    server: https://k\n";
  EXPECT_EQ(error_for(head + "    certificate-authority: certs/missing.crt\n"),
            config_path() + ":7: cannot read certificate-authority " + dir_ +
                "/certs/missing.crt of cluster \"c1\": No such file or directory");
  EXPECT_EQ(error_for(head + "    certificate-authority-data: 'not base64!'\n"),
            config_path() + ":7: certificate-authority-data of cluster \"c1\" is not valid base64");
  // Raw PEM where base64 belongs (OpenSSL alone would stop at the first '-').
  EXPECT_EQ(error_for(head + "    certificate-authority-data: '-----BEGIN CERTIFICATE-----'\n"),
            config_path() + ":7: certificate-authority-data of cluster \"c1\" is not valid base64");
  EXPECT_EQ(error_for(head + "    certificate-authority-data: aGVsbG8\n"),  // padding required
            config_path() + ":7: certificate-authority-data of cluster \"c1\" is not valid base64");
  // "aGVsbG8=" is "hello": valid base64, not a certificate.
  EXPECT_EQ(error_for(head + "    certificate-authority-data: aGVsbG8=\n"),
            config_path() +
                ":7: certificate-authority-data of cluster \"c1\" contains no PEM certificate");
  write("broken.crt", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  EXPECT_EQ(error_for(head + "    certificate-authority: broken.crt\n"),
            config_path() + ":7: certificate-authority " + dir_ +
                "/broken.crt of cluster \"c1\" has an invalid PEM certificate (number 1)");
  // A good certificate followed by a broken one.
  write("bundle.crt", read_text(kCerts + "/ca.crt") +
                          "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  EXPECT_EQ(error_for(head + "    certificate-authority: bundle.crt\n"),
            config_path() + ":7: certificate-authority " + dir_ +
                "/bundle.crt of cluster \"c1\" has an invalid PEM certificate (number 2)");
  // A private key is not a certificate.
  EXPECT_EQ(error_for(head + "    certificate-authority: @CERTS@/client.key\n"),
            config_path() + ":7: certificate-authority " + kCerts +
                "/client.key of cluster \"c1\" contains no PEM certificate");
  EXPECT_EQ(error_for(head + "    certificate-authority: @CERTS@/ca.crt\n" +
                      "    certificate-authority-data: aGVsbG8=\n"),
            config_path() +
                ":8: cluster \"c1\" sets both certificate-authority and "
                "certificate-authority-data; set only one");
  EXPECT_EQ(error_for(head + "    certificate-authority: @CERTS@/ca.crt\n" +
                      "    insecure-skip-tls-verify: true\n"),
            config_path() +
                ":8: cluster \"c1\" sets both insecure-skip-tls-verify and a certificate "
                "authority; set only one");
  EXPECT_EQ(error_for(head + "    insecure-skip-tls-verify: 'yes'\n"),
            config_path() + ":7: insecure-skip-tls-verify of cluster \"c1\" must be true or false");
}

TEST_F(KubeConfigTest, ClientCertificateErrors) {
  std::string head =
      "current-context: main\n"
      "contexts: [{name: main, context: {cluster: c1, user: u1}}]\n"
      "clusters: [{name: c1, cluster: {server: 'https://k'}}]\n"
      "users:\n"
      "- name: u1\n"
      "  user:\n";
  EXPECT_EQ(error_for(head + "    client-certificate: @CERTS@/client.crt\n"),
            config_path() + ":5: user \"u1\" has client-certificate but no client-key");
  EXPECT_EQ(error_for(head + "    client-key: @CERTS@/client.key\n"),
            config_path() + ":5: user \"u1\" has client-key but no client-certificate");
  EXPECT_EQ(error_for(head + "    client-certificate: @CERTS@/client.crt\n" +
                      "    client-key: @CERTS@/other.key\n"),
            config_path() + ":8: client-key of user \"u1\" does not match its client-certificate");
  EXPECT_EQ(error_for(head + "    client-certificate: @CERTS@/client.crt\n" +
                      "    client-key-data: 'a$b='\n"),
            config_path() + ":8: client-key-data of user \"u1\" is not valid base64");
  EXPECT_EQ(error_for(head + "    client-certificate: @CERTS@/client.crt\n" +
                      "    client-key: @CERTS@/client.crt\n"),
            config_path() + ":8: client-key " + kCerts +
                "/client.crt of user \"u1\" is not a PEM private key (encrypted keys are not "
                "supported)");
  EXPECT_EQ(
      error_for(head + "    client-certificate-data: aGVsbG8=\n"),
      config_path() + ":7: client-certificate-data of user \"u1\" contains no PEM certificate");
  EXPECT_EQ(error_for(head + "    tokenFile: no-such-token\n"),
            config_path() + ":7: cannot read tokenFile " + dir_ +
                "/no-such-token of user \"u1\": No such file or directory");
  write("empty-token", "\n");
  EXPECT_EQ(error_for(head + "    tokenFile: empty-token\n"),
            config_path() + ":7: tokenFile " + dir_ + "/empty-token of user \"u1\" is empty");
  EXPECT_EQ(error_for(head + "    token: 12345\n"),
            config_path() + ":7: token of user \"u1\" must be a string");
}

TEST_F(KubeConfigTest, UnsupportedAuthenticationIsRefused) {
  std::string head =
      "current-context: main\n"
      "contexts: [{name: main, context: {cluster: c1, user: eks}}]\n"
      "clusters: [{name: c1, cluster: {server: 'https://k'}}]\n"
      "users:\n"
      "- name: eks\n"
      "  user:\n";
  const std::string supported =
      ", which plumbline does not support; plumbline supports token, tokenFile, client "
      "certificates (client-certificate/client-key) and exec credential plugins";
  EXPECT_EQ(error_for(head + "    auth-provider: {name: oidc, config: {}}\n"),
            config_path() + ":7: user \"eks\" uses the auth-provider \"oidc\"" + supported);
  EXPECT_EQ(
      error_for(head + "    username: admin\n    password: hunter2\n"),
      config_path() + ":7: user \"eks\" uses basic authentication (username/password)" + supported);
  EXPECT_EQ(error_for(head + "    token: t\n    as: someone-else\n"),
            config_path() + ":8: user \"eks\" uses impersonation (as)" + supported);
}

TEST_F(KubeConfigTest, MalformedFilesNameFileAndLine) {
  EXPECT_EQ(error_for("clusters: [\n"),
            config_path() + ":2:1: invalid YAML: end of sequence flow not found")
      << "the YAML loader's message";
  EXPECT_EQ(error_for("- a\n- b\n"),
            config_path() + ":1: a kubeconfig must be a mapping (apiVersion, kind, clusters, ...)");
  EXPECT_EQ(error_for("clusters: {c1: {server: x}}\n"),
            config_path() + ":1: clusters must be a list of {name, cluster}");
  EXPECT_EQ(error_for("users:\n- user: {token: t}\n"), config_path() + ":2: users[0] has no name");
  EXPECT_EQ(error_for("current-context: [a]\n"),
            config_path() + ":1: current-context must be a string");
  EXPECT_EQ(error_for("kind: Config\n---\nkind: Config\n"),
            config_path() + ":3: a kubeconfig must be a single YAML document");
}

// --- in-cluster ---------------------------------------------------------------------------

TEST_F(KubeConfigTest, InClusterReadsServiceAccountAndPicksUpRotatedTokens) {
  std::string sa = dir_ + "/sa";
  write("sa/token", "token-one\n");
  write("sa/namespace", "shop-prod");
  fs::copy_file(kCerts + "/ca.crt", sa + "/ca.crt");
  auto env = env_of({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}});
  auto config = load_in_cluster_config(env, sa);
  ASSERT_TRUE(config) << config.error().to_string();
  EXPECT_EQ(config->server, "https://10.96.0.1:443");
  EXPECT_EQ(config->ca_pem, read_text(kCerts + "/ca.crt"));
  EXPECT_EQ(config->token, "");
  EXPECT_EQ(config->token_file, sa + "/token");
  EXPECT_EQ(config->namespace_, "shop-prod");
  EXPECT_EQ(config->context, "in-cluster");
  EXPECT_EQ(config->source, "in-cluster");
  EXPECT_FALSE(config->insecure_skip_tls_verify);
  EXPECT_EQ(current_bearer_token(*config).value(), "token-one");

  write("sa/token", "token-two \n");  // the kubelet rotated it
  EXPECT_EQ(current_bearer_token(*config).value(), "token-two");

  fs::remove(sa + "/token");
  auto gone = current_bearer_token(*config);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(gone.error().to_string(), "in-cluster: cannot read bearer token file " + sa +
                                          "/token: No such file or directory");
  write("sa/token", "  \n");
  EXPECT_EQ(current_bearer_token(*config).error().to_string(),
            "in-cluster: bearer token file " + sa + "/token is empty");
}

TEST_F(KubeConfigTest, InClusterIpv6AndDefaultNamespace) {
  std::string sa = dir_ + "/sa";
  write("sa/token", "t");
  fs::copy_file(kCerts + "/ca.crt", sa + "/ca.crt");
  auto config = load_in_cluster_config(
      env_of({{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "6443"}}), sa);
  ASSERT_TRUE(config) << config.error().to_string();
  EXPECT_EQ(config->server, "https://[fd00::1]:6443");
  EXPECT_EQ(config->namespace_, "default");
}

TEST_F(KubeConfigTest, InClusterErrors) {
  std::string sa = dir_ + "/sa";
  auto env = env_of({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}});
  EXPECT_EQ(load_in_cluster_config(env_of({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}}), sa)
                .error()
                .to_string(),
            "in-cluster: not running in a cluster: KUBERNETES_SERVICE_HOST and "
            "KUBERNETES_SERVICE_PORT must both be set");
  EXPECT_EQ(
      load_in_cluster_config(
          env_of({{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "https"}}), sa)
          .error()
          .to_string(),
      "in-cluster: KUBERNETES_SERVICE_PORT \"https\" is not a port number");
  EXPECT_EQ(
      load_in_cluster_config(env, sa).error().to_string(),
      "in-cluster: cannot read bearer token file " + sa + "/token: No such file or directory");
  write("sa/token", "t");
  EXPECT_EQ(load_in_cluster_config(env, sa).error().to_string(),
            "in-cluster: cannot read the service account CA " + sa +
                "/ca.crt: No such file or directory");
  write("sa/ca.crt", "not a certificate\n");
  EXPECT_EQ(load_in_cluster_config(env, sa).error().to_string(),
            "in-cluster: the service account CA " + sa + "/ca.crt contains no PEM certificate");
}

TEST(KubeConfigEnvironment, ProcessEnvironmentReadsVariables) {
  setenv("PLUMBLINE_KUBE_CONFIG_TEST", "value", 1);
  unsetenv("PLUMBLINE_KUBE_CONFIG_TEST_UNSET");
  EnvLookup env = process_environment();
  EXPECT_EQ(env("PLUMBLINE_KUBE_CONFIG_TEST"), std::optional<std::string>("value"));
  EXPECT_EQ(env("PLUMBLINE_KUBE_CONFIG_TEST_UNSET"), std::nullopt);
}

}  // namespace
}  // namespace plumbline
