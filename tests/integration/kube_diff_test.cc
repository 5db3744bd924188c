// `plumbline diff --live cluster` against a real kube-apiserver: the demo's prod environment is
// applied with kubectl, three fields are changed with real clients, and the report holds
// exactly those three drifts (server defaults make none). Errors: RBAC 403, wrong CA, bad
// token, unreachable and silent servers all end with exit 2 and a clear message, in time.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "integration/kube_testenv.h"

namespace {

using plumbline::testing::KubeTestEnv;
using json = nlohmann::json;

const std::string kSource = PLUMBLINE_SOURCE_DIR;

KubeTestEnv::Result Plumbline(const std::vector<std::string>& args, int timeout_s = 120) {
  std::vector<std::string> argv = {PLUMBLINE_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return KubeTestEnv::Run(argv, "", {}, timeout_s);
}

std::vector<std::string> DiffArgs(const std::string& kubeconfig) {
  return {"diff",   "--repo",  kSource,        "--path",   "manifests/envs/prod",
          "--live", "cluster", "--kubeconfig", kubeconfig, "--format",
          "json",   "--color", "never"};
}

std::string Describe(const KubeTestEnv::Result& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out.substr(0, 4000) +
         "\nstderr: " + r.err;
}

// The demo's prod environment, applied the way a user would.
void ApplyProd(KubeTestEnv& env) {
  auto ns = env.Kubectl({"create", "namespace", "shop-prod"});
  ASSERT_EQ(ns.exit_code, 0) << Describe(ns);
  auto rendered = env.Kubectl({"kustomize", kSource + "/manifests/envs/prod"});
  ASSERT_EQ(rendered.exit_code, 0) << Describe(rendered);
  auto applied = env.Kubectl({"apply", "-f", "-"}, rendered.out);
  ASSERT_EQ(applied.exit_code, 0) << Describe(applied);
}

// One line per drift: "Kind/name path type desired -> live (manager)".
std::vector<std::string> DriftLines(const json& report) {
  std::vector<std::string> out;
  for (const json& d : report.at("drifts")) {
    const json& o = d.at("object");
    out.push_back(o.at("kind").get<std::string>() + "/" + o.at("name").get<std::string>() + " " +
                  d.value("path", "") + " " + d.at("type").get<std::string>() + " " +
                  d.value("desired", json()).dump() + " -> " + d.value("live", json()).dump() +
                  " (" + d.value("liveManager", "") + ")");
  }
  return out;
}

class KubeDiffTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    env_ = KubeTestEnv::Start({}, &error).release();
    ASSERT_NE(env_, nullptr) << error;
    ApplyProd(*env_);
  }
  static void TearDownTestSuite() {
    delete env_;  // NOLINT: suite-lifetime fixture owned here
    env_ = nullptr;
  }
  static KubeTestEnv* env_;
};
KubeTestEnv* KubeDiffTest::env_ = nullptr;

TEST_F(KubeDiffTest, FreshlyAppliedEnvironmentHasNoDriftThenReportsExactlyTheChangedFields) {
  ASSERT_NE(env_, nullptr);
  // Server defaults (imagePullPolicy, terminationMessagePath, strategy, …) are no drift.
  auto clean = Plumbline(DiffArgs(env_->kubeconfig()));
  ASSERT_EQ(clean.exit_code, 0) << Describe(clean);
  json report = json::parse(clean.out);
  EXPECT_EQ(DriftLines(report), std::vector<std::string>{});
  EXPECT_EQ(report["summary"]["objects"], 6) << clean.out;
  // One LIST per kind and namespace: ConfigMap, Service, Deployment, StatefulSet, CronJob,
  // DaemonSet in shop-prod.
  EXPECT_NE(clean.err.find("read 6 live object(s) of 6 kind(s) in 1 namespace(s) from " +
                           env_->server() + " (context "),
            std::string::npos)
      << clean.err;
  EXPECT_NE(clean.err.find(", 6 LIST calls)"), std::string::npos) << clean.err;

  // Three changes by real clients.
  auto memory = env_->Kubectl(
      {"patch", "deployment", "checkout", "-n", "shop-prod", "--type=json",
       R"(-p=[{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/memory","value":"2Gi"}])"});
  ASSERT_EQ(memory.exit_code, 0) << Describe(memory);
  auto env_var =
      env_->Kubectl({"set", "env", "deployment/checkout", "-n", "shop-prod", "LOG_LEVEL=debug"});
  ASSERT_EQ(env_var.exit_code, 0) << Describe(env_var);
  auto seccomp = env_->Kubectl(
      {"patch", "statefulset", "ledger", "-n", "shop-prod", "--type=merge",
       R"(-p={"spec":{"template":{"spec":{"securityContext":{"seccompProfile":{"type":"Unconfined"}}}}}})"});
  ASSERT_EQ(seccomp.exit_code, 0) << Describe(seccomp);

  auto drifted = Plumbline(DiffArgs(env_->kubeconfig()));
  ASSERT_EQ(drifted.exit_code, 1) << Describe(drifted);
  report = json::parse(drifted.out);
  EXPECT_EQ(DriftLines(report),
            (std::vector<std::string>{
                "Deployment/checkout "
                "spec.template.spec.containers[name=app].env[name=LOG_LEVEL].value changed "
                "\"info\" -> \"debug\" (kubectl-set)",
                "Deployment/checkout "
                "spec.template.spec.containers[name=app].resources.limits.memory changed "
                "\"1Gi\" -> \"2Gi\" (kubectl-patch)",
                "StatefulSet/ledger spec.template.spec.securityContext.seccompProfile.type "
                "changed \"RuntimeDefault\" -> \"Unconfined\" (kubectl-patch)",
            }))
      << drifted.out;
  EXPECT_TRUE(report["source"]["revision"].is_string()) << drifted.out;
}

TEST_F(KubeDiffTest, ForbiddenNamespaceNamesVerbResourceAndNamespace) {
  ASSERT_NE(env_, nullptr);
  std::string error;
  // May read everything in team-a, nothing in shop-prod.
  std::string kubeconfig = env_->RestrictedKubeconfig(
      "team-a", "reader", {"get", "list", "watch"}, {"", "apps", "batch"},
      {"configmaps", "services", "deployments", "statefulsets", "daemonsets", "cronjobs"}, &error);
  ASSERT_FALSE(kubeconfig.empty()) << error;
  auto r = Plumbline(DiffArgs(kubeconfig));
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_EQ(r.out, "");
  std::smatch m;
  EXPECT_TRUE(std::regex_search(
      r.err, m,
      std::regex(R"(cannot list ([a-z.]+) in namespace "shop-prod": forbidden \(403\): )"
                 R"(\1 is forbidden: User "system:serviceaccount:team-a:reader" cannot list )"
                 R"(resource "[a-z]+" in API group "[a-z]*" in the namespace "shop-prod")")))
      << r.err;
  EXPECT_NE(r.err.find("reading the live state (context \"restricted\""), std::string::npos)
      << r.err;
}

// A kubeconfig for the test server with one thing changed.
std::string WriteKubeconfig(const KubeTestEnv& env, const std::string& name,
                            const std::string& server, const std::string& ca_file,
                            const std::string& token) {
  std::string path = env.state_dir() + "/kubeconfig-" + name;
  std::ofstream out(path, std::ios::trunc);
  out << json{
      {"apiVersion", "v1"},
      {"kind", "Config"},
      {"clusters",
       {{{"name", "c"}, {"cluster", {{"server", server}, {"certificate-authority", ca_file}}}}}},
      {"users", {{{"name", "u"}, {"user", {{"token", token}}}}}},
      {"contexts", {{{"name", name}, {"context", {{"cluster", "c"}, {"user", "u"}}}}}},
      {"current-context",
       name}}.dump();
  return path;
}

TEST_F(KubeDiffTest, UntrustedServerCertificateIsAClearErrorNotARetryLoop) {
  ASSERT_NE(env_, nullptr);
  // The client CA did not sign the serving certificate.
  std::string kubeconfig = WriteKubeconfig(
      *env_, "wrong-ca", env_->server(), env_->state_dir() + "/certs/client-ca.crt", env_->token());
  auto start = std::chrono::steady_clock::now();
  auto r = Plumbline(DiffArgs(kubeconfig));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("TLS handshake failed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not signed by the CA of context \"wrong-ca\""), std::string::npos) << r.err;
  EXPECT_LT(seconds, 10) << "a TLS failure must not be retried until the deadline";
}

TEST_F(KubeDiffTest, RejectedTokenIsUnauthorized) {
  ASSERT_NE(env_, nullptr);
  std::string kubeconfig =
      WriteKubeconfig(*env_, "bad-token", env_->server(), env_->ca_file(), "not-a-valid-token");
  auto r = Plumbline(DiffArgs(kubeconfig));
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("unauthorized (401): the server rejected the credentials"),
            std::string::npos)
      << r.err;
}

std::string Base64Url(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(n);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

// A service-account token as the apiserver itself would sign it (RS256 with the test
// server's signing key), for ServiceAccount default/`sa` with `uid`, expiring at `exp`.
std::string MintToken(const KubeTestEnv& env, const std::string& sa, const std::string& uid,
                      long exp) {
  long now = static_cast<long>(std::time(nullptr));
  json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  json claims = {{"iss", "https://kubernetes.default.svc"},
                 {"aud", {"https://kubernetes.default.svc"}},
                 {"sub", "system:serviceaccount:default:" + sa},
                 {"iat", std::min(now, exp) - 600},
                 {"nbf", std::min(now, exp) - 600},
                 {"exp", exp},
                 {"kubernetes.io",
                  {{"namespace", "default"}, {"serviceaccount", {{"name", sa}, {"uid", uid}}}}}};
  std::string signing_input = Base64Url(header.dump()) + "." + Base64Url(claims.dump());
  FILE* key_file = std::fopen((env.state_dir() + "/certs/sa.key").c_str(), "r");
  if (key_file == nullptr) return "";
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_PrivateKey(key_file, nullptr, nullptr, nullptr), EVP_PKEY_free);
  std::fclose(key_file);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t length = 0;
  if (!key || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return "";
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return "";
  }
  signature.resize(length);
  return signing_input + "." + Base64Url(signature);
}

TEST_F(KubeDiffTest, ExpiredTokenIsUnauthorizedWhileTheSameTokenUnexpiredAuthenticates) {
  ASSERT_NE(env_, nullptr);
  ASSERT_EQ(env_->Kubectl({"create", "serviceaccount", "expiring", "-n", "default"}).exit_code, 0);
  auto uid = env_->Kubectl(
      {"get", "serviceaccount", "expiring", "-n", "default", "-o", "jsonpath={.metadata.uid}"});
  ASSERT_EQ(uid.exit_code, 0) << Describe(uid);
  long now = static_cast<long>(std::time(nullptr));

  // Unexpired: authenticated, so the answer is RBAC's 403 (it may not list), not 401.
  std::string valid = MintToken(*env_, "expiring", uid.out, now + 3600);
  ASSERT_FALSE(valid.empty());
  auto r = Plumbline(
      DiffArgs(WriteKubeconfig(*env_, "valid-token", env_->server(), env_->ca_file(), valid)));
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("forbidden (403)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("system:serviceaccount:default:expiring"), std::string::npos) << r.err;

  // The same token, expired an hour ago.
  std::string expired = MintToken(*env_, "expiring", uid.out, now - 3600);
  r = Plumbline(
      DiffArgs(WriteKubeconfig(*env_, "expired-token", env_->server(), env_->ca_file(), expired)));
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("unauthorized (401): the server rejected the credentials (expired or "
                       "invalid token"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("reading the live state (context \"expired-token\""), std::string::npos)
      << r.err;
}

TEST_F(KubeDiffTest, UnreachableServerFailsFast) {
  ASSERT_NE(env_, nullptr);
  // Nothing listens on port 1.
  std::string kubeconfig =
      WriteKubeconfig(*env_, "down", "https://127.0.0.1:1", env_->ca_file(), env_->token());
  std::vector<std::string> args = DiffArgs(kubeconfig);
  args.insert(args.end(), {"--timeout", "5s"});
  auto start = std::chrono::steady_clock::now();
  auto r = Plumbline(args);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("cannot reach the server"), std::string::npos) << r.err;
  EXPECT_LT(seconds, 8) << r.err;
}

TEST_F(KubeDiffTest, SilentServerTimesOutAtTheDeadline) {
  ASSERT_NE(env_, nullptr);
  // Accepts connections and never says a word (a hung proxy, a black-holed apiserver).
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 16), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string server = "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  std::string kubeconfig = WriteKubeconfig(*env_, "silent", server, env_->ca_file(), env_->token());
  std::vector<std::string> args = DiffArgs(kubeconfig);
  args.insert(args.end(), {"--timeout", "3s"});
  auto start = std::chrono::steady_clock::now();
  auto r = Plumbline(args, 30);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  close(listener);
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("no answer within 3000 ms"), std::string::npos) << r.err;
  EXPECT_GE(seconds, 2.5);
  EXPECT_LT(seconds, 7) << "must not hang past the timeout";
}

TEST_F(KubeDiffTest, KubeconfigFlagsNeedLiveCluster) {
  auto r = Plumbline({"diff", "--repo", kSource, "--path", "manifests/envs/prod", "--live",
                      kSource + "/manifests/live/prod.yaml", "--context", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "plumbline: error: --kubeconfig and --context go with --live cluster\n");
}

}  // namespace
