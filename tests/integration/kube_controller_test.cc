// `plumbline controller` against a real kube-apiserver and a real Git server (git daemon):
// the DriftReport appears with exactly the drift made by kubectl, follows a commit that
// moves Git to the live value within two poll intervals, and a broken commit keeps the last
// good report, sets Degraded with the file and line, and changes nothing else.
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
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/kube_testenv.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using plumbline::testing::KubeTestEnv;

const std::string kSource = PLUMBLINE_SOURCE_DIR;

std::string Describe(const KubeTestEnv::Result& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

int FreePort() {
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

bool WaitFor(const std::function<bool()>& done, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return done();
}

void Replace(const fs::path& file, const std::string& from, const std::string& to) {
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
    env_ = KubeTestEnv::Start({}, &error);
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
    auto established =
        env_->Kubectl({"wait", "--for", "condition=established", "--timeout=60s",
                       "crd/environments.plumbline.dev", "crd/consistencypolicies.plumbline.dev",
                       "crd/driftreports.plumbline.dev"});
    ASSERT_EQ(established.exit_code, 0) << Describe(established);
    for (const char* ns : {"plumbline-system", "shop-prod"}) {
      ASSERT_EQ(env_->Kubectl({"create", "namespace", ns}).exit_code, 0);
    }
  }
  // The demo's prod environment as kubectl applies it.
  void ApplyDemoProd() {
    auto rendered = env_->Kubectl({"kustomize", (dir_ / "work/manifests/envs/prod").string()});
    ASSERT_EQ(rendered.exit_code, 0) << Describe(rendered);
    auto applied = env_->Kubectl({"apply", "-f", "-"}, rendered.out);
    ASSERT_EQ(applied.exit_code, 0) << Describe(applied);
  }
  // An Environment "prod" for the demo's prod folder at `url` (default: the git daemon), polled
  // every 2 s; `spec` adds fields.
  void ApplyEnvironment(const std::string& spec = "", std::string url = "",
                        const std::string& source = "") {
    if (url.empty()) url = "git://127.0.0.1:" + std::to_string(port_) + "/ops.git";
    const std::string environment =
        "apiVersion: plumbline.dev/v1alpha1\nkind: Environment\nmetadata: {name: prod}\n"
        "spec:\n  source: {url: \"" +
        url + "\", ref: main, path: manifests/envs/prod" + source +
        "}\n  namespaces: [shop-prod]\n  interval: 2s\n" + spec;
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

  std::unique_ptr<KubeTestEnv> env_;
  fs::path dir_;
  int port_ = 0;
  std::unique_ptr<Background> daemon_;
};

std::vector<std::string> DriftLines(const json& status) {
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
std::string ReportRevision(const json& report) {
  if (!report.is_object() || !report.contains("status") || !report["status"].is_object()) {
    return "";
  }
  const json& status = report["status"];
  if (!status.contains("source") || !status["source"].is_object()) return "";
  return status["source"].value("revision", "");
}

// The `objects` of each "evaluated" debug line of the controller's log for one pass kind.
std::vector<long> EvaluationPasses(const std::string& log, const std::string& pass) {
  std::vector<long> out;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    json entry = json::parse(line, nullptr, false);
    if (!entry.is_object() || entry.value("msg", "") != "evaluated") continue;
    if (entry.value("pass", "") == pass) out.push_back(entry.value("objects", -1L));
  }
  return out;
}

std::string ConditionOf(const json& object, const std::string& type, std::string* message) {
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

TEST_F(KubeControllerTest, ReportFollowsGitAndSurvivesABrokenCommit) {
  ASSERT_NE(env_, nullptr);
  // The CRDs, the demo's prod environment as kubectl applies it, and one hand-made change.
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  auto patched = env_->Kubectl(
      {"patch", "deployment", "checkout", "-n", "shop-prod", "--type=json",
       R"(-p=[{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/memory","value":"2Gi"},{"op":"replace","path":"/spec/template/spec/containers/0/resources/requests/memory","value":"2Gi"}])"});
  ASSERT_EQ(patched.exit_code, 0) << Describe(patched);

  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment());
  ASSERT_EQ(
      env_->Kubectl({"apply", "-f", kSource + "/policies/samples/prod-baseline.yaml"}).exit_code,
      0);

  Background controller(ControllerArgs("cache", {"--log-level", "debug"}),
                        (dir_ / "controller.log").string());
  ASSERT_TRUE(controller.running());

  // 1. The report appears with exactly the hand-made drift.
  const std::string first = Head();
  json report;
  bool appeared = WaitFor(
      [&] {
        report = Get({"driftreport", "prod", "-n", "plumbline-system"});
        return ReportRevision(report) == first;
      },
      std::chrono::seconds(60));
  ASSERT_TRUE(appeared) << controller.Log();
  EXPECT_EQ(DriftLines(report["status"]),
            (std::vector<std::string>{
                "Deployment/checkout "
                "spec.template.spec.containers[name=app].resources.limits.memory changed "
                "\"1Gi\" -> \"2Gi\" (kubectl-patch)",
                "Deployment/checkout "
                "spec.template.spec.containers[name=app].resources.requests.memory changed "
                "\"1Gi\" -> \"2Gi\" (kubectl-patch)"}))
      << report.dump(2);
  json events = Get({"events", "-n", "shop-prod", "--field-selector", "reason=DriftDetected"});
  ASSERT_TRUE(events.is_object());
  EXPECT_EQ(events["items"].size(), 2u) << events.dump(2);
  json env = Get({"environment", "prod"});
  EXPECT_EQ(ConditionOf(env, "Ready", nullptr), "True") << env.dump(2);
  EXPECT_EQ(env["status"]["summary"]["drifts"], 2);

  // 1b. A change to one workload re-evaluates that object only (no render, no full pass), and
  // the report follows it.
  size_t full_passes = EvaluationPasses(controller.Log(), "full").size();
  auto patched_back = env_->Kubectl(
      {"patch", "deployment", "checkout", "-n", "shop-prod", "--type=json",
       R"(-p=[{"op":"replace","path":"/spec/template/spec/containers/0/resources/requests/memory","value":"1Gi"}])"});
  ASSERT_EQ(patched_back.exit_code, 0) << Describe(patched_back);
  bool one_left = WaitFor(
      [&] {
        report = Get({"driftreport", "prod", "-n", "plumbline-system"});
        return ReportRevision(report) == first && DriftLines(report["status"]).size() == 1;
      },
      std::chrono::seconds(30));
  ASSERT_TRUE(one_left) << report.dump(2) << controller.Log();
  EXPECT_EQ(DriftLines(report["status"]),
            std::vector<std::string>{
                "Deployment/checkout "
                "spec.template.spec.containers[name=app].resources.limits.memory changed "
                "\"1Gi\" -> \"2Gi\" (kubectl-patch)"});
  EXPECT_EQ(EvaluationPasses(controller.Log(), "full").size(), full_passes) << controller.Log();
  std::vector<long> incremental = EvaluationPasses(controller.Log(), "incremental");
  ASSERT_FALSE(incremental.empty()) << controller.Log();
  EXPECT_EQ(incremental.back(), 1) << "only the patched Deployment was diffed again";

  // 2. Git catches up with the cluster: the drift is gone within two poll intervals.
  Replace(dir_ / "work/manifests/envs/prod/checkout-resources.yaml",
          "          requests:\n            cpu: \"1\"\n            memory: 1Gi\n"
          "          limits:\n            cpu: \"2\"\n            memory: 1Gi",
          "          requests:\n            cpu: \"1\"\n            memory: 1Gi\n"
          "          limits:\n            cpu: \"2\"\n            memory: 2Gi");
  Commit("prod: checkout may use 2Gi");
  Push();
  const std::string second = Head();
  auto pushed = std::chrono::steady_clock::now();
  bool followed = WaitFor(
      [&] {
        report = Get({"driftreport", "prod", "-n", "plumbline-system"});
        return ReportRevision(report) == second;
      },
      std::chrono::seconds(30));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - pushed).count();
  ASSERT_TRUE(followed) << controller.Log();
  EXPECT_LT(seconds, 2 * 2.0 + 1.5) << "within two poll intervals of 2 s";
  std::printf("[ timing   ] report followed the commit after %.2f s\n", seconds);
  EXPECT_EQ(DriftLines(report["status"]), std::vector<std::string>{}) << report.dump(2);
  const std::string good_status = report["status"]["drifts"].dump();

  // 3. A broken commit: the last good report stays, Degraded names the file and line.
  {
    std::ofstream(dir_ / "work/manifests/envs/prod/ledger-resources.yaml", std::ios::app)
        << "spec:\n  template: [unclosed\n";
  }
  Commit("broken");
  Push();
  std::string message;
  bool degraded = WaitFor(
      [&] {
        env = Get({"environment", "prod"});
        return ConditionOf(env, "Degraded", &message) == "True";
      },
      std::chrono::seconds(30));
  ASSERT_TRUE(degraded) << controller.Log();
  EXPECT_NE(message.find("ledger-resources.yaml:"), std::string::npos) << message;
  EXPECT_EQ(ConditionOf(env, "Stale", nullptr), "True");
  EXPECT_EQ(ConditionOf(env, "Ready", nullptr), "False");
  EXPECT_EQ(env["status"]["revision"], second) << "the last good revision";
  report = Get({"driftreport", "prod", "-n", "plumbline-system"});
  EXPECT_EQ(report["status"]["source"]["revision"], second);
  EXPECT_EQ(report["status"]["drifts"].dump(), good_status);
  EXPECT_EQ(ConditionOf(report, "Stale", nullptr), "True");

  // 4. Even in enforce mode, a drift is not corrected against a desired state that failed to
  // load: the environment waits for a good commit. (The sample policy says action: report,
  // which would narrow enforce to report; it goes.)
  ASSERT_EQ(env_->Kubectl({"delete", "consistencypolicy", "prod-baseline"}).exit_code, 0);
  ASSERT_EQ(env_->Kubectl({"patch", "environment", "prod", "--type=merge",
                           R"(-p={"spec":{"mode":"enforce"}})"})
                .exit_code,
            0);
  auto cpu = env_->Kubectl(
      {"patch", "deployment", "checkout", "-n", "shop-prod", "--type=json",
       R"(-p=[{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/cpu","value":"3"}])"});
  ASSERT_EQ(cpu.exit_code, 0) << Describe(cpu);
  std::this_thread::sleep_for(std::chrono::seconds(6));  // three polls
  auto limit = env_->Kubectl({"get", "deployment", "checkout", "-n", "shop-prod", "-o",
                              "jsonpath={.spec.template.spec.containers[0].resources.limits.cpu}"});
  EXPECT_EQ(limit.out, "3") << "corrected against a broken commit\n" << controller.Log();
  EXPECT_EQ(controller.Log().find("\"msg\":\"corrected\""), std::string::npos);

  EXPECT_EQ(controller.Stop(), 0) << controller.Log();
  std::string log = controller.Log();
  EXPECT_NE(log.find("\"msg\":\"stopped\""), std::string::npos) << log;
}

}  // namespace

namespace {

std::string MemoryLimit(KubeTestEnv& env) {
  auto r = env.Kubectl({"get", "deployment", "checkout", "-n", "shop-prod", "-o",
                        "jsonpath={.spec.template.spec.containers[0].resources.limits.memory}"});
  return r.out;
}

// deploy/: the manifests apply, and the controller running as their ServiceAccount (its token,
// its ClusterRole and Role, nothing else) reads its Git Secret, reports, corrects, raises
// Events and leads. (Without `patch` on workloads or `create` on DriftReports it fails.)
TEST_F(KubeControllerTest, DeployManifestsGrantWhatTheControllerNeeds) {
  ASSERT_NE(env_, nullptr);
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  auto deployed = env_->Kubectl({"apply", "-k", kSource + "/deploy"});
  ASSERT_EQ(deployed.exit_code, 0) << Describe(deployed);
  json deployment = Get({"deployment", "plumbline-controller", "-n", "plumbline-system"});
  ASSERT_TRUE(deployment.is_object());
  EXPECT_EQ(deployment["spec"]["template"]["spec"]["serviceAccountName"], "plumbline-controller");
  std::string error;
  const std::string kubeconfig =
      env_->ServiceAccountKubeconfig("plumbline-system", "plumbline-controller", &error);
  ASSERT_FALSE(kubeconfig.empty()) << error;

  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  auto patched = env_->Kubectl(
      {"patch", "deployment", "checkout", "-n", "shop-prod", "--type=json", "--field-manager=human",
       R"(-p=[{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/memory","value":"2Gi"}])"});
  ASSERT_EQ(patched.exit_code, 0) << Describe(patched);
  // Its Git credentials from a Secret, which the Role lets it read (git daemon asks for none).
  auto secret = env_->Kubectl({"create", "secret", "generic", "git-credentials", "-n",
                               "plumbline-system", "--from-literal=token=unused-by-git-daemon"});
  ASSERT_EQ(secret.exit_code, 0) << Describe(secret);
  ASSERT_NO_FATAL_FAILURE(
      ApplyEnvironment("  mode: enforce\n", "", ", secretRef: {name: git-credentials}"));

  Background controller(ControllerArgs("cache", {"--leader-elect"}, kubeconfig),
                        (dir_ / "controller.log").string());
  ASSERT_TRUE(controller.running());

  ASSERT_TRUE(WaitFor([&] { return MemoryLimit(*env_) == "1Gi"; }, std::chrono::seconds(60)))
      << controller.Log();
  json report;
  ASSERT_TRUE(WaitFor(
      [&] {
        report = Get({"driftreport", "prod", "-n", "plumbline-system"});
        return ReportRevision(report) == Head();
      },
      std::chrono::seconds(30)))
      << controller.Log();
  json env;
  ASSERT_TRUE(WaitFor(
      [&] {
        env = Get({"environment", "prod"});
        return ConditionOf(env, "Ready", nullptr) == "True";
      },
      std::chrono::seconds(30)))
      << env.dump(2) << controller.Log();
  json events = Get({"events", "-n", "shop-prod", "--field-selector", "reason=DriftCorrected"});
  ASSERT_TRUE(events.is_object());
  EXPECT_EQ(events["items"].size(), 1u) << events.dump(2);
  json lease = Get({"lease", "plumbline-controller", "-n", "plumbline-system"});
  ASSERT_TRUE(lease.is_object());
  EXPECT_FALSE(lease["spec"].value("holderIdentity", "").empty()) << lease.dump(2);
  EXPECT_EQ(controller.Log().find("forbidden"), std::string::npos) << controller.Log();
}

// spec.source.secretRef: the environment's Git credentials come from its Secret, read at every
// fetch, against git http-backend behind lighttpd with basic auth.
TEST_F(KubeControllerTest, GitCredentialsComeFromTheEnvironmentsSecret) {
  ASSERT_NE(env_, nullptr);
  if (!fs::exists("/usr/sbin/lighttpd") || !fs::exists("/usr/lib/git-core/git-http-backend")) {
    GTEST_SKIP() << "lighttpd or git-http-backend not installed (scripts/install-deps)";
  }
  const int http_port = FreePort();
  fs::create_directories(dir_ / "www");
  std::ofstream(dir_ / "htpasswd") << "deploy:s3cret-pass\n";
  std::ofstream(dir_ / "lighttpd.conf")
      << "server.modules = (\"mod_alias\", \"mod_setenv\", \"mod_cgi\", \"mod_auth\", "
         "\"mod_authn_file\")\n"
      << "server.document-root = \"" << (dir_ / "www").string() << "\"\n"
      << "server.bind = \"127.0.0.1\"\nserver.port = " << http_port << "\n"
      << "alias.url = (\"/private\" => \"/usr/lib/git-core/git-http-backend\")\n"
      << "cgi.assign = (\"\" => \"\")\n"
      << "setenv.add-environment = (\"GIT_PROJECT_ROOT\" => \"" << (dir_ / "srv").string()
      << "\", \"GIT_HTTP_EXPORT_ALL\" => \"\")\n"
      << "auth.backend = \"plain\"\nauth.backend.plain.userfile = \""
      << (dir_ / "htpasswd").string() << "\"\n"
      << "auth.require = (\"\" => (\"method\" => \"basic\", \"realm\" => \"git\", \"require\" "
         "=> \"valid-user\"))\n";
  Background lighttpd({"/usr/sbin/lighttpd", "-D", "-f", (dir_ / "lighttpd.conf").string()},
                      (dir_ / "lighttpd.log").string());
  ASSERT_TRUE(lighttpd.running());

  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(
      ApplyEnvironment("", "http://127.0.0.1:" + std::to_string(http_port) + "/private/ops.git",
                       ", secretRef: {name: git-credentials}"));

  Background controller(ControllerArgs("cache"), (dir_ / "controller.log").string());
  ASSERT_TRUE(controller.running());

  // 1. No Secret yet: Degraded, naming it.
  std::string message;
  json env;
  auto degraded_with = [&](const std::string& text) {
    return WaitFor(
        [&] {
          env = Get({"environment", "prod"});
          return ConditionOf(env, "Degraded", &message) == "True" &&
                 message.find(text) != std::string::npos;
        },
        std::chrono::seconds(30));
  };
  ASSERT_TRUE(degraded_with("secrets \"git-credentials\" not found")) << message << "\n"
                                                                      << controller.Log();
  EXPECT_NE(message.find("reading the Git credentials of spec.source.secretRef"), std::string::npos)
      << message;
  std::printf("[ degraded ] %s\n", message.c_str());

  // 2. A wrong password: the server's refusal, the password never shown.
  auto secret = [&](const std::string& password) {
    env_->Kubectl(
        {"delete", "secret", "git-credentials", "-n", "plumbline-system", "--ignore-not-found"});
    auto created =
        env_->Kubectl({"create", "secret", "generic", "git-credentials", "-n", "plumbline-system",
                       "--from-literal=username=deploy", "--from-literal=password=" + password});
    ASSERT_EQ(created.exit_code, 0) << Describe(created);
  };
  secret("wrong-pass");
  ASSERT_TRUE(degraded_with("rejected the credentials for user 'deploy'")) << message << "\n"
                                                                           << controller.Log();
  EXPECT_EQ(message.find("wrong-pass"), std::string::npos) << message;
  std::printf("[ degraded ] %s\n", message.c_str());

  // 3. The right one (a rotated Secret is read at the next poll): the environment syncs.
  secret("s3cret-pass");
  bool ready = WaitFor(
      [&] {
        env = Get({"environment", "prod"});
        return ConditionOf(env, "Ready", nullptr) == "True";
      },
      std::chrono::seconds(30));
  ASSERT_TRUE(ready) << env.dump(2) << controller.Log();
  EXPECT_EQ(env["status"]["revision"], Head());
  json report = Get({"driftreport", "prod", "-n", "plumbline-system"});
  EXPECT_EQ(ReportRevision(report), Head()) << report.dump(2);
  EXPECT_EQ(controller.Log().find("s3cret-pass"), std::string::npos);
}

TEST_F(KubeControllerTest, EnforceCorrectsOnlyTheDriftedFieldAndStopsFightingAContestant) {
  ASSERT_NE(env_, nullptr);
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  const std::string bump =
      R"(-p=[{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/memory","value":"2Gi"}])";
  auto patch = [&] {
    auto r = env_->Kubectl({"patch", "deployment", "checkout", "-n", "shop-prod", "--type=json",
                            "--field-manager=autoscaler", bump});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  };
  patch();

  ASSERT_NO_FATAL_FAILURE(
      ApplyEnvironment("  mode: enforce\n  correction: {maxPerMinute: 10, maxRounds: 2}\n"));
  Background controller(ControllerArgs("cache"), (dir_ / "controller.log").string());

  // Round 1: corrected, and plumbline owns exactly that one field.
  ASSERT_TRUE(WaitFor([&] { return MemoryLimit(*env_) == "1Gi"; }, std::chrono::seconds(60)))
      << controller.Log();
  json deployment = Get({"deployment", "checkout", "-n", "shop-prod", "--show-managed-fields"});
  json owned;
  for (const json& entry : deployment["metadata"]["managedFields"]) {
    if (entry["manager"] == "plumbline") owned = entry["fieldsV1"];
  }
  EXPECT_EQ(owned, json::parse(R"({"f:spec":{"f:template":{"f:spec":{"f:containers":{
              "k:{\"name\":\"app\"}":{".":{},"f:name":{},"f:resources":{"f:limits":{
              "f:memory":{}}}}}}}}})"))
      << deployment["metadata"]["managedFields"].dump(2);
  // A second reconcile writes nothing: the object stays as it is over several polls.
  const std::string version = deployment["metadata"]["resourceVersion"];
  std::this_thread::sleep_for(std::chrono::seconds(5));
  EXPECT_EQ(Get({"deployment", "checkout", "-n", "shop-prod"})["metadata"]["resourceVersion"],
            version);

  // Round 2: the autoscaler sets it again; corrected again (maxRounds: 2).
  patch();
  ASSERT_TRUE(WaitFor([&] { return MemoryLimit(*env_) == "1Gi"; }, std::chrono::seconds(30)))
      << controller.Log();
  // Third time: contested. plumbline leaves the field and says who keeps changing it.
  patch();
  json report;
  ASSERT_TRUE(WaitFor(
      [&] {
        report = Get({"driftreport", "prod", "-n", "plumbline-system"});
        if (!report.is_object() || !report["status"].contains("drifts")) return false;
        for (const json& d : report["status"]["drifts"]) {
          if (d.value("action", "") == "contested") return true;
        }
        return false;
      },
      std::chrono::seconds(30)))
      << report.dump(2) << controller.Log();
  std::this_thread::sleep_for(std::chrono::seconds(5));  // > two polls: still not fought over
  EXPECT_EQ(MemoryLimit(*env_), "2Gi");
  const json& drift = report["status"]["drifts"][0];
  EXPECT_EQ(drift["path"], "spec.template.spec.containers[name=app].resources.limits.memory");
  EXPECT_EQ(drift["contestedBy"], "autoscaler");
  json events = Get({"events", "-n", "shop-prod"});
  std::map<std::string, int> reasons;
  for (const json& e : events["items"]) ++reasons[e["reason"].get<std::string>()];
  EXPECT_EQ(reasons["DriftCorrected"], 2) << events.dump(2);
  EXPECT_EQ(reasons["DriftContested"], 1) << events.dump(2);
  EXPECT_EQ(controller.Stop(), 0);
}

}  // namespace

namespace {

// plumbline_leader from a controller's /metrics: 1, 0, or -1 when it does not answer.
int LeaderGauge(int port) {
  auto r = KubeTestEnv::Run(
      {"curl", "-s", "--max-time", "2", "http://127.0.0.1:" + std::to_string(port) + "/metrics"});
  if (r.exit_code != 0) return -1;
  size_t at = r.out.find("\nplumbline_leader ");
  if (at == std::string::npos) return -1;
  return r.out[at + std::string("\nplumbline_leader ").size()] == '1' ? 1 : 0;
}

TEST_F(KubeControllerTest, TwoReplicasOneLeaderTakeoverAfterAKillAndNoDoubleCorrection) {
  ASSERT_NE(env_, nullptr);
  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  auto bump = [&](const std::string& manager) {
    auto r = env_->Kubectl(
        {"patch", "deployment", "checkout", "-n", "shop-prod", "--type=json",
         "--field-manager=" + manager,
         R"(-p=[{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/memory","value":"2Gi"}])"});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  };
  bump("human-1");
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment("  mode: enforce\n"));

  std::unique_ptr<Background> replicas[2];
  int ports[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    replicas[i] = std::make_unique<Background>(
        ControllerArgs("cache" + std::to_string(i), {"--leader-elect"}),
        (dir_ / ("controller" + std::to_string(i) + ".log")).string());
  }
  // Each replica logs the address it listens on.
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(WaitFor(
        [&] {
          std::string log = replicas[i]->Log();
          size_t at = log.find("\"listen\":\"http://127.0.0.1:");
          if (at == std::string::npos) return false;
          ports[i] =
              std::atoi(log.c_str() + at + std::string("\"listen\":\"http://127.0.0.1:").size());
          return ports[i] > 0;
        },
        std::chrono::seconds(30)))
        << replicas[i]->Log();
  }
  // Exactly one leads; it corrects the drift.
  int leader = -1;
  ASSERT_TRUE(WaitFor(
      [&] {
        int a = LeaderGauge(ports[0]), b = LeaderGauge(ports[1]);
        EXPECT_FALSE(a == 1 && b == 1) << "two leaders";
        leader = a == 1 ? 0 : b == 1 ? 1 : -1;
        return leader >= 0 && (a == 0 || b == 0);
      },
      std::chrono::seconds(60)))
      << replicas[0]->Log() << replicas[1]->Log();
  ASSERT_TRUE(WaitFor([&] { return MemoryLimit(*env_) == "1Gi"; }, std::chrono::seconds(60)))
      << replicas[leader]->Log();
  // Its Event follows the correction; the leader dies only after that.
  auto corrected_events = [&] {
    json e = Get({"events", "-n", "shop-prod", "--field-selector", "reason=DriftCorrected"});
    return e.is_object() ? e["items"].size() : size_t{0};
  };
  ASSERT_TRUE(WaitFor([&] { return corrected_events() == 1; }, std::chrono::seconds(30)));

  // The leader dies without releasing its Lease; a new drift appears meanwhile.
  replicas[leader]->Kill();
  const int standby = 1 - leader;
  auto killed = std::chrono::steady_clock::now();
  bump("human-2");
  ASSERT_TRUE(WaitFor([&] { return LeaderGauge(ports[standby]) == 1; }, std::chrono::seconds(40)))
      << replicas[standby]->Log();
  double takeover =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  std::printf("[ timing   ] standby leads %.1f s after the leader died\n", takeover);
  EXPECT_LT(takeover, 20.0);
  ASSERT_TRUE(WaitFor([&] { return MemoryLimit(*env_) == "1Gi"; }, std::chrono::seconds(30)))
      << replicas[standby]->Log();
  std::this_thread::sleep_for(std::chrono::seconds(5));  // several polls by the new leader

  // Two drifts, two corrections: none applied twice.
  json events = Get({"events", "-n", "shop-prod", "--field-selector", "reason=DriftCorrected"});
  ASSERT_TRUE(events.is_object());
  EXPECT_EQ(events["items"].size(), 2u) << events.dump(2);
  json deployment = Get({"deployment", "checkout", "-n", "shop-prod", "--show-managed-fields"});
  int plumbline_entries = 0;
  for (const json& entry : deployment["metadata"]["managedFields"]) {
    if (entry["manager"] == "plumbline") ++plumbline_entries;
  }
  EXPECT_EQ(plumbline_entries, 1);
  EXPECT_EQ(replicas[standby]->Stop(), 0);
}

}  // namespace
