// spec.source.verify against a real kube-apiserver and a real Git server, with commits signed
// by `git commit -S` (gpg.format=ssh): a signed head is reported; an unsigned head, and one
// signed by a key not in the allowed signers, are not used — Stalled/Degraded name the commit
// (and the signer's fingerprint), one Event says so, the DriftReport stays at the last
// verified commit, and enforce mode corrects nothing; a new signed commit is used again.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "integration/controller_fixture.h"
#include "signing_keys.h"

namespace {

using namespace plumbline::testing;
using namespace std::chrono_literals;

class KubeSignedCommitsTest : public KubeControllerTest {
 protected:
  void CommitSigned(const std::string& key, const std::string& message) {
    Git({"add", "-A"});
    Git({"-c", "gpg.format=ssh", "-c", "user.signingkey=" + key, "commit", "-q", "--allow-empty",
         "-S", "-m", message});
  }
  std::string Reason(const json& env, const std::string& type) {
    if (!env.is_object() || !env.contains("status")) return "";
    for (const json& c : env["status"].value("conditions", json::array())) {
      if (c.value("type", "") == type) return c.value("reason", "");
    }
    return "";
  }
  std::vector<std::string> EventMessages(const std::string& reason) {
    json events =
        Get({"events", "-n", "default", "--field-selector",
             "involvedObject.kind=Environment,involvedObject.name=prod,reason=" + reason});
    std::vector<std::string> out;
    if (!events.is_object()) return {"<no answer>"};
    for (const json& e : events["items"]) out.push_back(e.value("message", ""));
    return out;
  }
  // Waits until Stalled is True with `reason` and its message contains `part`.
  bool WaitStalled(const std::string& reason, const std::string& part, std::string* message) {
    return WaitFor(
        [&] {
          json env = Get({"environment", "prod"});
          return ConditionOf(env, "Stalled", message) == "True" &&
                 Reason(env, "Stalled") == reason && message->find(part) != std::string::npos;
        },
        40s);
  }
};

TEST_F(KubeSignedCommitsTest, OnlyVerifiedCommitsAreUsed) {
  ASSERT_NE(env_, nullptr);
  SigningKeys keys;
  const std::string alice = keys.ssh_key("alice"), mallory = keys.ssh_key("mallory");
  CommitSigned(alice, "signed by alice");
  Push();
  const std::string verified = Head();

  ASSERT_NO_FATAL_FAILURE(InstallCrdsAndNamespaces());
  ASSERT_NO_FATAL_FAILURE(ApplyGitSecret(
      "signers", {{"allowed_signers", keys.allowed_signer("alice@example.test", alice)}}));
  ASSERT_NO_FATAL_FAILURE(ApplyDemoProd());
  ASSERT_NO_FATAL_FAILURE(ApplyEnvironment(
      "  mode: enforce\n", "", ", verify: {provider: ssh, keysSecretRef: {name: signers}}"));
  Background controller(ControllerArgs("cache"), (dir_ / "controller.log").string());
  ASSERT_TRUE(controller.running());

  // 1. The signed head is used.
  ASSERT_TRUE(WaitFor(
      [&] {
        return ReportRevision(Get({"driftreport", "prod", "-n", "plumbline-system"})) == verified;
      },
      60s))
      << Get({"environment", "prod"}).dump(2) << controller.Log();
  EXPECT_NE(controller.Log().find("commit signature verified"), std::string::npos);

  // 2. An unsigned head that raises the memory limit to 3Gi: not used.
  Replace(dir_ / "work/manifests/envs/prod/checkout-resources.yaml",
          "limits:\n            cpu: \"2\"\n            memory: 1Gi",
          "limits:\n            cpu: \"2\"\n            memory: 3Gi");
  Commit("unsigned");
  Push();
  const std::string unsigned_head = Head();
  std::string message;
  ASSERT_TRUE(WaitStalled("UnverifiedCommit", unsigned_head, &message))
      << message << "\n"
      << Get({"environment", "prod"}).dump(2) << controller.Log();
  EXPECT_EQ(message, "commit " + unsigned_head +
                         " is not signed (an ssh signature by a trusted key is required); "
                         "reporting against the last verified commit " +
                         verified + ", nothing is corrected");
  json env = Get({"environment", "prod"});
  EXPECT_EQ(ConditionOf(env, "Degraded", nullptr), "True");
  EXPECT_EQ(ConditionOf(env, "Ready", nullptr), "False");
  EXPECT_EQ(env["status"].value("revision", ""), verified);
  EXPECT_EQ(EventMessages("UnverifiedCommit"), std::vector<std::string>{message});

  // A person changes the live limit: reported against the verified commit, not corrected.
  auto drifted = env_->Kubectl(
      {"patch", "deployment", "checkout", "-n", "shop-prod", "--type=json", "--field-manager=human",
       R"(-p=[{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/memory","value":"2Gi"}])"});
  ASSERT_EQ(drifted.exit_code, 0) << Describe(drifted);
  json report;
  ASSERT_TRUE(WaitForDriftAction("report", &report, 30s))
      << Get({"driftreport", "prod", "-n", "plumbline-system"}).dump(2);
  EXPECT_EQ(ReportRevision(report), verified);
  for (const json& d : report["status"]["drifts"]) {
    EXPECT_NE(d.value("action", ""), "corrected") << d.dump();
    if (d.value("path", "").find("limits.memory") != std::string::npos) {
      EXPECT_EQ(d.value("desired", json()), "1Gi") << d.dump();  // the verified commit's value
    }
  }
  std::this_thread::sleep_for(6s);  // three polls
  EXPECT_EQ(MemoryLimit(*env_), "2Gi");

  // 3. A head signed by a key that is not in the allowed signers: named by its fingerprint.
  CommitSigned(mallory, "signed by mallory");
  Push();
  const std::string mallory_head = Head();
  ASSERT_TRUE(WaitStalled("UnverifiedCommit", mallory_head, &message)) << message;
  EXPECT_EQ(message, "commit " + mallory_head + " is signed by " +
                         SigningKeys::ssh_fingerprint(mallory) +
                         ", which is not in the allowed signers (Secret plumbline-system/"
                         "signers); reporting against the last verified commit " +
                         verified + ", nothing is corrected");
  EXPECT_EQ(MemoryLimit(*env_), "2Gi");
  EXPECT_EQ(ReportRevision(Get({"driftreport", "prod", "-n", "plumbline-system"})), verified);

  // 4. Alice signs on top: the new head (3Gi) is used and enforced.
  CommitSigned(alice, "signed again by alice");
  Push();
  const std::string signed_again = Head();
  ASSERT_TRUE(WaitFor([&] { return MemoryLimit(*env_) == "3Gi"; }, 40s))
      << Get({"environment", "prod"}).dump(2) << controller.Log();
  EXPECT_TRUE(WaitFor(
      [&] {
        json e = Get({"environment", "prod"});
        return ConditionOf(e, "Ready", nullptr) == "True" &&
               e["status"].value("revision", "") == signed_again;
      },
      30s))
      << Get({"environment", "prod"}).dump(2);
  std::printf("[ verified ] signed %s used; unsigned %s and untrusted %s refused\n",
              verified.substr(0, 12).c_str(), unsigned_head.substr(0, 12).c_str(),
              mallory_head.substr(0, 12).c_str());
}

}  // namespace
