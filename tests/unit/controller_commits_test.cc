// The Controller across commits: a new commit parses only the files it changed (a Git tree names
// each file's content) and re-evaluates only the objects whose desired state changed, with the
// report a full evaluation gives. And the first commit is loaded while the caches still LIST.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "plumbline/core/digest.h"
#include "plumbline/reconcile/controller.h"
#include "support/fake_kube_client.h"
#include "unit/controller_test_util.h"

namespace plumbline {
namespace {

using namespace controller_test;

// Files read, by path, across every commit's tree.
struct Reads {
  std::mutex mu;
  std::map<std::string, int> count;
};

// A commit in memory whose files have content ids, as a Git tree's blob ids.
class CommitTree : public MemoryTree {
 public:
  CommitTree(std::map<std::string, std::string> files, std::shared_ptr<Reads> reads)
      : MemoryTree(files), reads_(std::move(reads)) {
    for (const auto& [path, text] : files) ids_[path] = sha256_hex(text);
  }
  Result<std::string> read_file(std::string_view path) const override {
    {
      std::lock_guard lock(reads_->mu);
      ++reads_->count[std::string(path)];
    }
    return MemoryTree::read_file(path);
  }
  std::optional<std::string> content_id(std::string_view path) const override {
    auto it = ids_.find(std::string(path));
    return it == ids_.end() ? std::nullopt : std::optional<std::string>(it->second);
  }

 private:
  std::shared_ptr<Reads> reads_;
  std::map<std::string, std::string> ids_;
};

// A repository whose branch moves to each commit the test makes.
class CommitGit : public GitSource {
 public:
  Result<GitSnapshot> open(const GitSourceOptions&) override {
    std::lock_guard lock(mu_);
    return GitSnapshot{.tree = std::make_unique<CommitTree>(files_, reads),
                       .revision = std::string(40, static_cast<char>('a' + commits_)),
                       .ref = "main",
                       .cache_path = {},
                       .reused_cache = false};
  }
  void commit(std::map<std::string, std::string> files) {
    std::lock_guard lock(mu_);
    files_ = std::move(files);
    ++commits_;
  }
  int reads_of(const std::string& path) {
    std::lock_guard lock(reads->mu);
    return reads->count[path];
  }
  std::shared_ptr<Reads> reads = std::make_shared<Reads>();

 private:
  std::mutex mu_;
  std::map<std::string, std::string> files_;
  int commits_ = 0;
};

std::string deployment(const std::string& name, const std::string& memory) {
  std::string text = kDeployment;
  text.replace(text.find("checkout, "), 10, name + ", ");
  text.replace(text.find("memory: 1Gi"), 11, "memory: " + memory);
  return text;
}

json live(const std::string& name, const std::string& memory) {
  json object = Workload(memory, "info");
  object["metadata"]["name"] = name;
  return object;
}

class ControllerCommitsTest : public ControllerTest {
 protected:
  void StartWithCommits() {
    ControllerHooks hooks;
    hooks.on_evaluated = [this](const std::string&, std::string_view pass, size_t objects) {
      std::lock_guard lock(passes_mu_);
      passes_.emplace_back(std::string(pass), objects);
    };
    controller_ = std::make_unique<Controller>(api_, commits_, options_, log_, hooks);
    ASSERT_TRUE(controller_->start().ok());
  }
  std::vector<std::pair<std::string, size_t>> Passes() {
    std::lock_guard lock(passes_mu_);
    return passes_;
  }
  // The drifts of the last report, one line each, once it has `count` of them.
  std::vector<std::string> DriftsOnceThereAre(size_t count) {
    std::vector<std::string> lines;
    bool found = WaitFor([&] {
      auto report = Report();
      if (!report || !report->contains("status")) return false;
      const json& status = (*report)["status"];
      if (!status.contains("drifts") || status["drifts"].size() != count) return false;
      lines.clear();
      for (const json& d : status["drifts"]) {
        lines.push_back(d["object"]["name"].get<std::string>() + " " +
                        d["type"].get<std::string>() + " " + d.value("path", "") + " " +
                        d["desired"].dump() + " -> " + d["live"].dump());
      }
      return true;
    });
    EXPECT_TRUE(found) << log_text_.str();
    return lines;
  }

  CommitGit commits_;
  std::mutex passes_mu_;
  std::vector<std::pair<std::string, size_t>> passes_;
};

TEST_F(ControllerCommitsTest, ANewCommitReParsesAndReEvaluatesOnlyWhatItChanged) {
  api_.put(live("checkout", "2Gi"));
  api_.put(live("cart", "1Gi"));
  api_.put(live("search", "1Gi"));
  api_.put(EnvironmentObject("prod", "report", "shop", "https://git.test/org/ops.git"));
  std::map<std::string, std::string> files = {
      {"envs/prod/checkout.yaml", deployment("checkout", "1Gi")},
      {"envs/prod/cart.yaml", deployment("cart", "1Gi")},
      {"envs/prod/search.yaml", deployment("search", "1Gi")}};
  commits_.commit(files);
  StartWithCommits();
  const std::string memory = "spec.template.spec.containers[name=app].resources.limits.memory";
  EXPECT_EQ(DriftsOnceThereAre(1),
            std::vector<std::string>{"checkout changed " + memory + " \"1Gi\" -> \"2Gi\""});
  ASSERT_EQ(Passes().size(), 1u);
  EXPECT_EQ(Passes()[0].first, "full");

  // One file changes: only it is read and only its object is evaluated again.
  files["envs/prod/cart.yaml"] = deployment("cart", "3Gi");
  commits_.commit(files);
  controller_->fetch_now({"https://git.test/org/ops.git"});
  EXPECT_EQ(DriftsOnceThereAre(2),
            (std::vector<std::string>{"cart changed " + memory + " \"3Gi\" -> \"1Gi\"",
                                      "checkout changed " + memory + " \"1Gi\" -> \"2Gi\""}));
  EXPECT_EQ(Passes().back(), (std::pair<std::string, size_t>{"desired", 1}));
  EXPECT_EQ(commits_.reads_of("envs/prod/cart.yaml"), 2);
  EXPECT_EQ(commits_.reads_of("envs/prod/checkout.yaml"), 1);
  EXPECT_EQ(commits_.reads_of("envs/prod/search.yaml"), 1);

  // One file fixed, one removed (its live object is not the environment's: no finding), and
  // the cluster changing a third object meanwhile.
  files["envs/prod/checkout.yaml"] = deployment("checkout", "2Gi");
  files.erase("envs/prod/cart.yaml");
  commits_.commit(files);
  api_.put(live("search", "4Gi"), "kubectl-edit");
  controller_->fetch_now({"https://git.test/org/ops.git"});
  EXPECT_EQ(DriftsOnceThereAre(1),
            std::vector<std::string>{"search changed " + memory + " \"1Gi\" -> \"4Gi\""});
  EXPECT_EQ(commits_.reads_of("envs/prod/search.yaml"), 1);
  size_t full_passes = 0;
  bool two_evaluated = false;
  for (const auto& [pass, objects] : Passes()) {
    full_passes += pass == "full" ? 1 : 0;
    two_evaluated |= pass == "desired" && objects == 2;  // checkout, and cart no longer declared
  }
  EXPECT_EQ(full_passes, 1u) << "a new commit under the same policies is no full pass";
  EXPECT_TRUE(two_evaluated);

  // A new spec (here its interval; its namespaces could have changed) evaluates everything.
  json env = EnvironmentObject("prod", "report", "shop", "https://git.test/org/ops.git");
  env["metadata"]["generation"] = 2;
  env["spec"]["interval"] = "2h";
  api_.put(env);
  ASSERT_TRUE(WaitFor([&] { return Passes().back().first == "full"; })) << log_text_.str();
  EXPECT_EQ(DriftsOnceThereAre(1).size(), 1u);

  // Other policies too.
  api_.put(json::parse(R"({"apiVersion": "plumbline.dev/v1alpha1", "kind": "ConsistencyPolicy",
    "metadata": {"name": "limits"}, "spec": {"rules": {"requireLimits": {"cpu": true}}}})"));
  ASSERT_TRUE(WaitFor([&] {
    size_t full = 0;
    for (const auto& [pass, objects] : Passes()) full += pass == "full" ? 1 : 0;
    return full == 3;
  })) << log_text_.str();
}

// At start, Git is fetched and rendered while the workload cache still LISTs (at 10,000
// objects both take seconds); nothing is evaluated or reported before the LIST is done.
TEST_F(ControllerTest, TheDesiredStateIsLoadedWhileTheWorkloadCacheLists) {
  api_.put(EnvironmentObject("prod", "report"));
  api_.put(Workload("2Gi", "info"));  // memory drifted from Git's 1Gi
  std::atomic<bool> fetched_during_list{false};
  std::atomic<bool> listed{false};
  api_.before_list = [&](const std::string& resource) {
    // The first LIST only: a relist after a watch failure comes after the report.
    if (resource != "deployments" || listed.exchange(true)) return;
    fetched_during_list = WaitFor([&] { return git_.opens.load() > 0; }, 10s);
    EXPECT_FALSE(Report().has_value()) << "a report before the workload cache synced";
  };
  Start();
  ASSERT_TRUE(WaitFor([&] { return Report() && (*Report())["status"].contains("summary"); }, 15s))
      << log_text_.str();
  EXPECT_TRUE(fetched_during_list) << "Git was not fetched until the LIST had answered";
  EXPECT_TRUE(listed);
  EXPECT_EQ((*Report())["status"]["summary"]["drifts"], 1) << Report()->dump(2);
  EXPECT_EQ(git_.opens, 1) << "the reconcile after the sync fetched again";
}

}  // namespace
}  // namespace plumbline
