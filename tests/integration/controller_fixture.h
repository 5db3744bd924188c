// The shared set-up of the controller's integration tests: a real kube-apiserver (kube-testenv),
// the demo repository behind a real Git server (git daemon), the CRDs, and `plumbline
// controller` as a background process; helpers to read what it wrote.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/kube_testenv.h"

extern char** environ;

namespace plumbline::testing {

namespace fs = std::filesystem;
using json = nlohmann::json;

inline const std::string kSource = PLUMBLINE_SOURCE_DIR;

inline std::string Describe(const KubeTestEnv::Result& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

// A process in the background, output to a log file; SIGTERM on Stop or destruction.
class Background {
 public:
  Background(const std::vector<std::string>& argv, const std::string& log) : log_(log) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Background() { Stop(); }
  // Dies at once (SIGKILL): no clean-up, no Lease release.
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  bool running() const { return pid_ > 0; }
  // SIGTERM, then the exit status (-1 if it had to be killed after `grace`).
  int Stop(std::chrono::seconds grace = std::chrono::seconds(10)) {
    if (pid_ <= 0) return exit_code_;
    kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + grace;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return exit_code_ = -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    return exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string Log() const {
    std::ifstream in(log_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

inline bool WaitFor(const std::function<bool()>& done, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return done();
}

inline void Replace(const fs::path& file, const std::string& from, const std::string& to) {
  std::ifstream in(file);
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from << " not in " << file;
  text.replace(at, from.size(), to);
  std::ofstream(file, std::ios::trunc) << text;
}

class KubeControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    env_ = KubeTestEnv::Start(ApiserverFlags(), &error);
    ASSERT_NE(env_, nullptr) << error;
    dir_ = fs::path(env_->state_dir()) / "git";
    fs::create_directories(dir_ / "work");
    fs::copy(kSource + "/manifests", dir_ / "work" / "manifests", fs::copy_options::recursive);
    Git({"init", "-q", "-b", "main"});
    Commit("the demo");
    ASSERT_EQ(KubeTestEnv::Run({"git", "clone", "-q", "--bare", (dir_ / "work").string(),
                                (dir_ / "srv" / "ops.git").string()})
                  .exit_code,
              0);
    ASSERT_EQ(KubeTestEnv::Run({"git", "-C", (dir_ / "work").string(), "remote", "add", "origin",
                                (dir_ / "srv" / "ops.git").string()})
                  .exit_code,
              0);
    port_ = FreePort();
    daemon_ = std::make_unique<Background>(
        std::vector<std::string>{"git", "daemon", "--reuseaddr", "--export-all",
                                 "--base-path=" + (dir_ / "srv").string(), "--listen=127.0.0.1",
                                 "--port=" + std::to_string(port_), (dir_ / "srv").string()},
        (dir_ / "daemon.log").string());
    ASSERT_TRUE(daemon_->running());
  }

  // Real clusters allow privileged containers; the closed-world tests add them by hand.
  virtual std::vector<std::string> ApiserverFlags() { return {"--allow-privileged=true"}; }

  void Git(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"git",
                                     "-C",
                                     (dir_ / "work").string(),
                                     "-c",
                                     "user.name=plumbline test",
                                     "-c",
                                     "user.email=test@plumbline.invalid"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = KubeTestEnv::Run(argv);
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }
  void Commit(const std::string& message) {
    Git({"add", "-A"});
    Git({"commit", "-q", "-m", message});
  }
  void Push() { Git({"push", "-q", "origin", "main"}); }
  std::string Head() {
    auto r = KubeTestEnv::Run({"git", "-C", (dir_ / "work").string(), "rev-parse", "HEAD"});
    return r.out.substr(0, 40);
  }

  // The CRDs (established) and the namespaces every test uses.
  void InstallCrdsAndNamespaces() {
    auto crds = env_->Kubectl({"apply", "-f", kSource + "/policies/crds/"});
    ASSERT_EQ(crds.exit_code, 0) << Describe(crds);
    // kubectl wait fails at once ("accessor error") while a new CRD has no conditions yet:
    // retry until it can wait.
    KubeTestEnv::Result established;
    ASSERT_TRUE(WaitFor(
        [&] {
          established = env_->Kubectl({"wait", "--for", "condition=established", "--timeout=60s",
                                       "crd/environments.plumbline.dev",
                                       "crd/consistencypolicies.plumbline.dev",
                                       "crd/driftreports.plumbline.dev"});
          return established.exit_code == 0;
        },
        std::chrono::seconds(60)))
        << Describe(established);
    for (const char* ns : {"plumbline-system", "shop-prod"}) {
      ASSERT_EQ(env_->Kubectl({"create", "namespace", ns}).exit_code, 0);
    }
    // The ServiceAccount enforce mode writes as (DESIGN.md "Tenancy"), consenting to the
    // Environments the tests create, allowed to patch workloads.
    auto writer = env_->Kubectl({"apply", "-f", "-"}, R"(
apiVersion: v1
kind: ServiceAccount
metadata:
  name: plumbline-writer
  namespace: plumbline-system
  annotations: {plumbline.dev/allowed-environments: "prod,prod-copy"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: plumbline-writer}
rules:
- apiGroups: [apps]
  resources: [deployments, statefulsets, daemonsets, replicasets]
  verbs: [patch]
- apiGroups: [batch]
  resources: [jobs, cronjobs]
  verbs: [patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: plumbline-writer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: plumbline-writer}
subjects:
- {kind: ServiceAccount, name: plumbline-writer, namespace: plumbline-system}
)");
    ASSERT_EQ(writer.exit_code, 0) << Describe(writer);
  }
  // A Git credential Secret in the controller's namespace for the Environments `allowed`
  // (plumbline.dev/allowed-environments); `type` e.g. kubernetes.io/service-account-token.
  void ApplyGitSecret(const std::string& name, const std::map<std::string, std::string>& data,
                      const std::string& allowed = "prod", const std::string& type = "Opaque") {
    json secret = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"type", type},
                   {"metadata", {{"name", name}, {"namespace", "plumbline-system"}}},
                   {"stringData", data}};
    if (!allowed.empty()) {
      secret["metadata"]["annotations"] = {{"plumbline.dev/allowed-environments", allowed}};
    }
    auto applied = env_->Kubectl({"apply", "-f", "-"}, secret.dump());
    ASSERT_EQ(applied.exit_code, 0) << Describe(applied);
  }
  // The demo's prod environment as kubectl applies it.
  void ApplyDemoProd() {
    auto rendered = env_->Kubectl({"kustomize", (dir_ / "work/manifests/envs/prod").string()});
    ASSERT_EQ(rendered.exit_code, 0) << Describe(rendered);
    auto applied = env_->Kubectl({"apply", "-f", "-"}, rendered.out);
    ASSERT_EQ(applied.exit_code, 0) << Describe(applied);
  }
  // An Environment `name` for the demo's prod folder at `url` (default: the git daemon), polled
  // every `interval`, written as plumbline-writer; `spec` adds fields (or another
  // serviceAccountName).
  void ApplyEnvironment(const std::string& spec = "", std::string url = "",
                        const std::string& source = "", const std::string& name = "prod",
                        const std::string& interval = "2s") {
    if (url.empty()) url = "git://127.0.0.1:" + std::to_string(port_) + "/ops.git";
    const std::string writer = spec.find("serviceAccountName:") == std::string::npos
                                   ? "  serviceAccountName: plumbline-writer\n"
                                   : "";
    const std::string environment =
        "apiVersion: plumbline.dev/v1alpha1\nkind: Environment\nmetadata: {name: " + name +
        "}\nspec:\n  source: {url: \"" + url + "\", ref: main, path: manifests/envs/prod" + source +
        "}\n  namespaces: [shop-prod]\n  interval: " + interval + "\n" + writer + spec;
    auto applied = env_->Kubectl({"apply", "-f", "-"}, environment);
    ASSERT_EQ(applied.exit_code, 0) << Describe(applied);
  }
  // `plumbline controller` against the test apiserver (as admin unless `kubeconfig` is given),
  // on a free port.
  std::vector<std::string> ControllerArgs(const std::string& cache,
                                          std::vector<std::string> extra = {},
                                          const std::string& kubeconfig = "") {
    std::vector<std::string> argv = {
        PLUMBLINE_BINARY, "controller",
        "--kubeconfig",   kubeconfig.empty() ? env_->kubeconfig() : kubeconfig,
        "--cache-dir",    (dir_ / cache).string(),
        "--listen",       "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  json Get(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"get"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"-o", "json"});
    auto r = env_->Kubectl(argv);
    if (r.exit_code != 0) return nullptr;
    return json::parse(r.out, nullptr, false);
  }

  // Waits until the DriftReport `environment` has a drift with `action`; the report in *out.
  bool WaitForDriftAction(const std::string& action, json* out, std::chrono::seconds limit,
                          const std::string& environment = "prod") {
    return WaitFor(
        [&] {
          *out = Get({"driftreport", environment, "-n", "plumbline-system"});
          if (!out->is_object() || !(*out)["status"].contains("drifts")) return false;
          for (const json& d : (*out)["status"]["drifts"]) {
            if (d.value("action", "") == action) return true;
          }
          return false;
        },
        limit);
  }

  std::unique_ptr<KubeTestEnv> env_;
  fs::path dir_;
  int port_ = 0;
  std::unique_ptr<Background> daemon_;
};

inline std::vector<std::string> DriftLines(const json& status) {
  std::vector<std::string> out;
  if (!status.is_object() || !status.contains("drifts")) return {"<no report>"};
  for (const json& d : status["drifts"]) {
    out.push_back(d["object"]["kind"].get<std::string>() + "/" +
                  d["object"]["name"].get<std::string>() + " " + d.value("path", "") + " " +
                  d.value("type", "") + " " + d.value("desired", json()).dump() + " -> " +
                  d.value("live", json()).dump() + " (" + d.value("liveManager", "") + ")");
  }
  return out;
}

// The revision a DriftReport's status was computed from; "" while the report has no status yet
// (the controller creates the object, then writes its status subresource).
inline std::string ReportRevision(const json& report) {
  if (!report.is_object() || !report.contains("status") || !report["status"].is_object()) {
    return "";
  }
  const json& status = report["status"];
  if (!status.contains("source") || !status["source"].is_object()) return "";
  return status["source"].value("revision", "");
}

// The `objects` of each "evaluated" debug line of the controller's log for one pass kind.
inline std::vector<long> EvaluationPasses(const std::string& log, const std::string& pass) {
  std::vector<long> out;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    json entry = json::parse(line, nullptr, false);
    if (!entry.is_object() || entry.value("msg", "") != "evaluated") continue;
    if (entry.value("pass", "") == pass) out.push_back(entry.value("objects", -1L));
  }
  return out;
}

inline std::string ConditionOf(const json& object, const std::string& type, std::string* message) {
  if (!object.is_object() || !object.contains("status") ||
      !object["status"].contains("conditions")) {
    return "";
  }
  for (const json& c : object["status"]["conditions"]) {
    if (c.value("type", "") == type) {
      if (message != nullptr) *message = c.value("message", "");
      return c.value("status", "");
    }
  }
  return "";
}

inline std::string MemoryLimit(KubeTestEnv& env) {
  auto r = env.Kubectl({"get", "deployment", "checkout", "-n", "shop-prod", "-o",
                        "jsonpath={.spec.template.spec.containers[0].resources.limits.memory}"});
  return r.out;
}

}  // namespace plumbline::testing
