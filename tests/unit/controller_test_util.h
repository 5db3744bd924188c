// The Controller's unit-test fixture: the shared in-memory API server, an in-memory Git with
// one commit (the checkout Deployment), and helpers to wait for what the controller wrote.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <sstream>
#include <thread>

#include "plumbline/reconcile/controller.h"
#include "support/fake_kube_client.h"

namespace plumbline {
namespace controller_test {

using namespace std::chrono_literals;
using testing::FakeKubeClient;

inline const ObjectRef kCheckout{"apps/v1", "Deployment", "shop", "checkout"};

inline constexpr const char* kDeployment = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: checkout, namespace: shop}
spec:
  template:
    spec:
      containers:
      - name: app
        image: checkout:1
        env:
        - {name: LOG_LEVEL, value: info}
        resources:
          limits: {memory: 1Gi}
)";

inline json Workload(const std::string& memory, const std::string& log_level) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", "checkout"}, {"namespace", "shop"}}},
          {"spec",
           {{"template",
             {{"spec",
               {{"containers",
                 {{{"name", "app"},
                   {"image", "checkout:1"},
                   {"env", {{{"name", "LOG_LEVEL"}, {"value", log_level}}}},
                   {"resources", {{"limits", {{"memory", memory}}}}}}}}}}}}}}};
}

inline json EnvironmentObject(const std::string& name, const std::string& mode = "enforce",
                              const std::string& ns = "shop",
                              const std::string& url = "git://git.test/ops.git") {
  return {{"apiVersion", "plumbline.dev/v1alpha1"},
          {"kind", "Environment"},
          {"metadata", {{"name", name}, {"generation", 1}}},
          {"spec",
           {{"source", {{"url", url}, {"ref", "main"}, {"path", "envs/prod"}}},
            {"namespaces", {ns}},
            {"interval", "1h"},
            {"mode", mode}}}};
}

// A Git with one commit holding the checkout Deployment.
class MemoryGit : public GitSource {
 public:
  Result<GitSnapshot> open(const GitSourceOptions&) override {
    opens++;
    auto tree = std::make_unique<MemoryTree>();
    std::string text = kDeployment;
    text.replace(text.find("namespace: shop"), 15, "namespace: " + ns);
    tree->add("envs/prod/deployment.yaml", text);
    return GitSnapshot{.tree = std::move(tree),
                       .revision = std::string(40, 'a'),
                       .ref = "main",
                       .cache_path = {},
                       .reused_cache = false};
  }
  std::atomic<int> opens{0};
  std::string ns = "shop";
};

inline std::string Memory(const json& object) {
  return object["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"];
}
inline std::string LogLevelOf(const json& object) {
  for (const json& e : object["spec"]["template"]["spec"]["containers"][0]["env"]) {
    if (e["name"] == "LOG_LEVEL") return e.value("value", "<no value>");
  }
  return "<absent>";
}

class ControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.report_namespace = "plumbline-system";
    // Enforce mode writes as a ServiceAccount (DESIGN.md "Tenancy"): the installer's default.
    options_.default_service_account = "plumbline-writer";
    options_.leading = [this] { return leading_.load(); };
  }
  void Start() {
    controller_ = std::make_unique<Controller>(api_, git_, options_, log_);
    Status started = controller_->start();
    ASSERT_TRUE(started.ok()) << started.error().to_string();
  }
  bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(2ms);
    }
    return done();
  }
  json Checkout() { return *api_.object(kCheckout); }
  std::optional<json> Report(const std::string& name = "prod") {
    return api_.object({"plumbline.dev/v1alpha1", "DriftReport", "plumbline-system", name});
  }
  void TearDown() override {
    if (controller_) controller_->stop();
  }

  FakeKubeClient api_;
  MemoryGit git_;
  ControllerOptions options_;
  std::ostringstream log_text_;
  Logger log_{log_text_, LogLevel::kDebug};
  std::atomic<bool> leading_{true};
  std::unique_ptr<Controller> controller_;
};

}  // namespace controller_test
}  // namespace plumbline
