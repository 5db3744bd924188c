// The fault suite's fixture (ctest label `faults`, tests/README.md): KubeControllerTest with
// the apiserver's audit log on, so every write plumbline makes is counted by the server
// itself, plus the checks each fault case ends with. Header-only.
//
// Rounds: PLUMBLINE_FAULT_ROUNDS=N runs every case N times (the long form, >= 20); unset, each
// case runs its short form (the rounds CI can afford).
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "integration/controller_fixture.h"
#include "integration/fault_proxy.h"

namespace plumbline::testing {

// A write as the apiserver's audit log recorded it (stage ResponseComplete).
struct AuditedWrite {
  std::string verb, user, as, resource, subresource, name;
  int code = 0;
  std::string at;  // stageTimestamp, RFC 3339 with microseconds (sorts as text)
};

class KubeFaultTest : public KubeControllerTest {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "plumbline-faults-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    audit_dir_ = pattern;
    // Every write to workloads and to plumbline's own objects; reads are not logged.
    std::ofstream(audit_dir_ / "policy.yaml") << R"(apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  verbs: [create, update, patch, delete]
  resources:
  - {group: apps, resources: [deployments]}
  - {group: plumbline.dev, resources: [driftreports, driftreports/status, environments/status]}
- level: None
)";
    KubeControllerTest::SetUp();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(audit_dir_, ec);
  }
  std::vector<std::string> ApiserverFlags() override {
    return {"--allow-privileged=true",
            "--audit-policy-file=" + (audit_dir_ / "policy.yaml").string(),
            "--audit-log-path=" + (audit_dir_ / "audit.log").string(), "--audit-log-mode=blocking"};
  }

  // The short form's rounds, or PLUMBLINE_FAULT_ROUNDS.
  static int Rounds(int short_form) {
    const char* n = std::getenv("PLUMBLINE_FAULT_ROUNDS");
    return n != nullptr && std::atoi(n) > 0 ? std::atoi(n) : short_form;
  }
  // A seeded generator; the seed is printed so a failing round can be replayed
  // (PLUMBLINE_FAULT_SEED).
  std::mt19937 Random() {
    const char* s = std::getenv("PLUMBLINE_FAULT_SEED");
    unsigned seed = s != nullptr ? static_cast<unsigned>(std::strtoul(s, nullptr, 10))
                                 : static_cast<unsigned>(std::random_device{}());
    std::printf("[ faults   ] seed %u\n", seed);
    return std::mt19937(seed);
  }
  static std::string Now() {  // UTC, in the audit log's format
    auto now = std::chrono::system_clock::now();
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    long us =
        std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
        1000000;
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", std::gmtime(&t));
    char out[80];
    std::snprintf(out, sizeof out, "%s.%06ldZ", buf, us);
    return out;
  }

  std::vector<AuditedWrite> Audited() const {
    std::vector<AuditedWrite> out;
    std::ifstream in(audit_dir_ / "audit.log");
    for (std::string line; std::getline(in, line);) {
      json e = json::parse(line, nullptr, false);
      if (!e.is_object() || e.value("stage", "") != "ResponseComplete") continue;
      AuditedWrite w;
      w.verb = e.value("verb", "");
      w.user = e["user"].value("username", "");
      if (e.contains("impersonatedUser")) w.as = e["impersonatedUser"].value("username", "");
      const json& ref = e["objectRef"];
      w.resource = ref.value("resource", "");
      w.subresource = ref.value("subresource", "");
      w.name = ref.value("name", "");
      w.code = e.contains("responseStatus") ? e["responseStatus"].value("code", 0) : 0;
      w.at = e.value("stageTimestamp", "");
      out.push_back(std::move(w));
    }
    return out;
  }
  // Successful writes plumbline's enforce mode made to deployment/checkout at or after `since`.
  std::vector<AuditedWrite> CheckoutCorrections(const std::string& since) const {
    std::vector<AuditedWrite> out;
    for (AuditedWrite& w : Audited()) {
      if (w.resource == "deployments" && w.name == "checkout" && w.as == kWriter && w.code >= 200 &&
          w.code < 300 && w.at >= since) {
        out.push_back(std::move(w));
      }
    }
    return out;
  }

  // SIGKILL to the apiserver (and its embedded etcd): no graceful shutdown, connections reset.
  void KillApiserver() {
    ASSERT_GT(env_->pid(), 0);
    ASSERT_EQ(::kill(env_->pid(), SIGKILL), 0);
    ASSERT_TRUE(WaitFor([&] { return ::kill(env_->pid(), 0) != 0 || Zombie(env_->pid()); },
                        std::chrono::seconds(10)));
  }
  // Started again on the same data. kube-testenv/start picks new ports when an old one is
  // taken meanwhile (seen about once in 40 restarts on a busy machine), so the controller
  // reaches the apiserver through ApiserverProxy(), which follows it: to the controller it is
  // one address, as a Service's is.
  void RestartApiserver() {
    std::string error;
    ASSERT_TRUE(env_->Restart(&error)) << error;
    if (apiserver_proxy_) apiserver_proxy_->set_upstream(ApiserverPort());
  }
  int ApiserverPort() const {
    const std::string server = env_->server();
    return std::stoi(server.substr(server.rfind(':') + 1));
  }
  // A kubeconfig for the controller that goes through the proxy (same CA, token and name:
  // the certificate is for 127.0.0.1, whatever the port).
  std::string ProxiedKubeconfig() {
    if (!apiserver_proxy_) apiserver_proxy_ = std::make_unique<FaultProxy>(ApiserverPort());
    std::ifstream in(env_->kubeconfig());
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const std::string server = env_->server();
    const std::string proxied = "https://127.0.0.1:" + std::to_string(apiserver_proxy_->port());
    for (size_t at = text.find(server); at != std::string::npos; at = text.find(server, at)) {
      text.replace(at, server.size(), proxied);
    }
    const std::string path = (dir_ / "kubeconfig-proxied").string();
    std::ofstream(path, std::ios::trunc) << text;
    return path;
  }
  static bool Zombie(int pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    size_t close = line.rfind(')');
    return close != std::string::npos && line.size() > close + 2 && line[close + 2] == 'Z';
  }

  json Checkout() {
    return Get({"deployment", "checkout", "-n", "shop-prod", "--show-managed-fields"});
  }
  void SetMemoryLimitAs(const std::string& manager, const std::string& value) {
    auto r = env_->Kubectl(
        {"patch", "deployment", "checkout", "-n", "shop-prod", "--type=json",
         "--field-manager=" + manager,
         R"(-p=[{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/memory","value":")" +
             value + R"("}])"});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }
  // The report's drifts that are not ignored; {"<no report>"} before the first one.
  std::vector<std::string> OpenDrifts() {
    json report = Get({"driftreport", "prod", "-n", "plumbline-system"});
    if (!report.is_object() || !report.contains("status") || !report["status"].contains("drifts")) {
      return {"<no report>"};
    }
    json open = {{"drifts", json::array()}};
    for (const json& d : report["status"]["drifts"]) {
      if (d.value("action", "") != "ignored") open["drifts"].push_back(d);
    }
    return DriftLines(open);
  }
  // Entries of managedFields per manager of the checkout Deployment.
  int ManagedFieldsEntries(const std::string& manager) {
    const json object = Checkout();  // kept alive: the loop reads into it
    int n = 0;
    if (!object.is_object()) return -1;
    for (const json& e : object["metadata"]["managedFields"])
      n += e.value("manager", "") == manager;
    return n;
  }

  // Git: a commit on main of the work tree, pushed to the served bare repository.
  void CommitAndPush(const std::string& message) {
    Commit(message);
    Push();
  }
  // The served repository's head (what the next fetch must report).
  std::string ServedHead() {
    auto r = KubeTestEnv::Run(
        {"git", "--git-dir", (dir_ / "srv" / "ops.git").string(), "rev-parse", "main"});
    return r.out.substr(0, 40);
  }
  // The git daemon stopped (a server that is down: connections refused) and started again on
  // the same port.
  void StopGitDaemon() { daemon_.reset(); }
  void StartGitDaemon() {
    daemon_ = std::make_unique<Background>(
        std::vector<std::string>{"git", "daemon", "--reuseaddr", "--export-all",
                                 "--base-path=" + (dir_ / "srv").string(), "--listen=127.0.0.1",
                                 "--port=" + std::to_string(port_), (dir_ / "srv").string()},
        (dir_ / "daemon.log").string());
    ASSERT_TRUE(daemon_->running());
  }

  // The bare cache repository the controller fetches into (one per URL), its inode (a cache
  // removed and cloned again gets a new one) and whether a killed or failed fetch left lock or
  // temporary files behind.
  fs::path CacheRepo(const std::string& cache) {
    for (const auto& e : fs::recursive_directory_iterator(dir_ / cache)) {
      if (e.is_directory() && fs::exists(e.path() / "HEAD") && fs::exists(e.path() / "objects")) {
        return e.path();
      }
    }
    return {};
  }
  static ino_t Inode(const fs::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
  }
  static std::vector<std::string> Leftovers(const fs::path& repo) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(repo, ec)) {
      std::string name = e.path().filename().string();
      if (name.ends_with(".lock") || name.starts_with("tmp_")) out.push_back(e.path().string());
    }
    return out;
  }

  // Log lines with message `msg` (JSON lines of the controller).
  static int Count(const std::string& log, const std::string& msg) {
    int n = 0;
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
      json entry = json::parse(line, nullptr, false);
      n += entry.is_object() && entry.value("msg", "") == msg;
    }
    return n;
  }

  // One line of figures per case, collected by tests/README.md's long-form instructions.
  static void Figures(const std::string& name, int rounds, int failures, double seconds,
                      const std::string& extra = "") {
    std::printf("[ figures  ] %s: %d rounds, %d failures, %.1f s (%.1f s/round)%s%s\n",
                name.c_str(), rounds, failures, seconds, seconds / std::max(rounds, 1),
                extra.empty() ? "" : "; ", extra.c_str());
  }

  static constexpr const char* kWriter = "system:serviceaccount:plumbline-system:plumbline-writer";
  fs::path audit_dir_;
  std::unique_ptr<FaultProxy> apiserver_proxy_;
};

}  // namespace plumbline::testing
