// kustomize remote bases against a real Git server: a repository of bases served by git
// http-backend behind lighttpd (anonymous at /git, basic auth at /private) and an overlay in a
// folder of its own. The plumbline binary renders the overlay exactly as `kubectl kustomize`
// does (which clones with the git program), warns of a base not pinned to a tag or commit,
// points findings at the remote file, and sends credentials only to the host they belong to.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "integration/git_source_fixture.h"
#include "integration/kube_testenv.h"
#include "plumbline/core/yaml.h"
#include "plumbline/git/remote_bases.h"
#include "plumbline/render/render.h"
#include "temp_dir.h"

namespace plumbline {
namespace {

namespace fs = std::filesystem;
using git_testing::free_port;
using git_testing::ServerProcess;
using git_testing::start_git_http;
using ::testing::HasSubstr;
using testing::KubeTestEnv;
using testing::TempDir;

const std::string kSource = KubeTestEnv::SourceDir();

std::string Describe(const KubeTestEnv::Result& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// The objects of a YAML stream, sorted (as text) for comparison.
std::vector<json> Objects(const std::string& text) {
  auto docs = parse_yaml_documents(text, "output");
  std::vector<json> out;
  if (!docs.ok()) return out;
  for (auto& d : *docs) {
    if (!d.value.is_null()) out.push_back(std::move(d.value));
  }
  std::sort(out.begin(), out.end(),
            [](const json& a, const json& b) { return a.dump() < b.dump(); });
  return out;
}

class RemoteBaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/usr/sbin/lighttpd", X_OK) != 0 ||
        access("/usr/lib/git-core/git-http-backend", X_OK) != 0) {
      GTEST_SKIP() << "lighttpd or git-http-backend not installed (scripts/install-deps)";
    }
    ASSERT_TRUE(dir_.ok());
    const fs::path root = dir_.path();
    // The bases repository: v1 (a tag) has 2 replicas, main has moved on to 5.
    dir_.write("work/base/kustomization.yaml",
               "resources:\n- deploy.yaml\n- ../shared\ncommonLabels: {tier: web}\n");
    dir_.write("work/base/deploy.yaml",
               "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n"
               "  replicas: 2\n  selector:\n    matchLabels: {app: api}\n  template:\n"
               "    metadata:\n      labels: {app: api}\n    spec:\n      containers:\n"
               "      - name: api\n        image: registry.example/api:1.0\n");
    dir_.write("work/shared/kustomization.yaml", "resources: [settings.yaml]\n");
    dir_.write("work/shared/settings.yaml",
               "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {LOG: info}\n");
    Git("init -q -b main " + (root / "work").string());
    Git("-C " + (root / "work").string() + " add -A");
    Git("-C " + (root / "work").string() + " commit -q -m v1");
    Git("-C " + (root / "work").string() + " tag -a v1 -m v1");
    dir_.write("work/base/deploy.yaml",
               "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n"
               "  replicas: 5\n  selector:\n    matchLabels: {app: api}\n  template:\n"
               "    metadata:\n      labels: {app: api}\n    spec:\n      containers:\n"
               "      - name: api\n        image: registry.example/api:1.0\n");
    Git("-C " + (root / "work").string() + " commit -q -am main");
    Git("clone -q --bare " + (root / "work").string() + " " + (root / "srv/bases.git").string());

    port_ = free_port();
    ASSERT_TRUE(start_git_http(server_, root, root / "srv", port_));
  }

  void Git(const std::string& args) {
    auto r = KubeTestEnv::Run(
        {"/bin/sh", "-c", "git -c user.name=plumbline -c user.email=ci@plumbline.dev " + args}, "",
        {"GIT_CONFIG_NOSYSTEM=1", "HOME=" + dir_.path().string()});
    ASSERT_EQ(r.exit_code, 0) << args << "\n" << Describe(r);
  }

  std::string Url(const std::string& prefix = "git") const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/" + prefix + "/bases.git";
  }

  // An overlay folder listing `base`, with a local Service and an image override.
  void WriteOverlay(const std::string& base) {
    dir_.write("overlay/envs/prod/kustomization.yaml",
               "namePrefix: prod-\nresources:\n- " + base +
                   "\n- service.yaml\nimages:\n- {name: registry.example/api, newTag: '1.1'}\n");
    dir_.write("overlay/envs/prod/service.yaml",
               "apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec:\n  selector: {app: "
               "api}\n  ports:\n  - port: 80\n");
  }

  // The plumbline binary with a private HOME and cache: no developer credentials or caches.
  KubeTestEnv::Result Plumbline(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), PLUMBLINE_BINARY);
    args.insert(args.end(), {"--cache-dir", (dir_.path() / "cache").string()});
    env.push_back("HOME=" + dir_.path().string());
    return KubeTestEnv::Run(args, "", env, 120);
  }

  TempDir dir_{"plumbline-remote-base"};
  int port_ = 0;
  ServerProcess server_;  // lighttpd (git_source_fixture.h)
};

TEST_F(RemoteBaseTest, RenderEqualsKubectlKustomize) {
  WriteOverlay("git::" + Url() + "//base?ref=v1");
  const std::string overlay = (dir_.path() / "overlay").string();
  auto ours = Plumbline({"render", "--repo", overlay, "--path", "envs/prod"});
  ASSERT_EQ(ours.exit_code, 0) << Describe(ours);
  EXPECT_THAT(ours.err, HasSubstr("plumbline: fetching remote base " + Url()));
  EXPECT_THAT(ours.err, ::testing::Not(HasSubstr("warning")));
  std::vector<json> objects = Objects(ours.out);
  ASSERT_EQ(objects.size(), 3u) << ours.out;
  for (const json& o : objects) {
    if (o["kind"] == "Deployment") {
      EXPECT_EQ(o["spec"]["replicas"], 2);  // the tag's, not main's 5
      EXPECT_EQ(o["metadata"]["name"], "prod-api");
    }
  }

  // kubectl kustomize (from PATH) clones with the git program; it must find nothing of the
  // developer's (HOME is the test's).
  std::string kubectl;
  for (std::string_view dirs = getenv("PATH") ? getenv("PATH") : ""; !dirs.empty();) {
    std::string_view dir = dirs.substr(0, dirs.find(':'));
    dirs.remove_prefix(std::min(dirs.size(), dir.size() + 1));
    std::string candidate = std::string(dir) + "/kubectl";
    if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) {
      kubectl = candidate;
      break;
    }
  }
  if (kubectl.empty()) GTEST_SKIP() << "kubectl is not on PATH";
  auto theirs = KubeTestEnv::Run(
      {kubectl, "kustomize", overlay + "/envs/prod"}, "",
      {"HOME=" + dir_.path().string(), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0"}, 120);
  ASSERT_EQ(theirs.exit_code, 0) << Describe(theirs);
  EXPECT_EQ(Objects(theirs.out), objects) << "kubectl kustomize:\n"
                                          << theirs.out << "\nplumbline:\n"
                                          << ours.out;
}

TEST_F(RemoteBaseTest, UnpinnedBaseIsAWarningAndFindingsPointAtTheRemoteFile) {
  WriteOverlay(Url() + "//base?ref=main");
  dir_.write("live.yaml",
             "apiVersion: v1\nkind: List\nitems:\n"
             "- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: prod-api}\n  spec:\n   "
             " replicas: 3\n    selector:\n      matchLabels: {app: api, "
             "tier: web}\n    template:\n      metadata:\n        labels: {app: api, tier: web}\n"
             "      spec:\n        containers:\n        - name: api\n          image: "
             "registry.example/api:1.1\n");
  const std::string overlay = (dir_.path() / "overlay").string();
  auto run = Plumbline({"diff", "--repo", overlay, "--path", "envs/prod", "--live",
                        (dir_.path() / "live.yaml").string(), "--live-kinds", "Deployment",
                        "--scope", "replicas", "--format", "json"});
  ASSERT_EQ(run.exit_code, 1) << Describe(run);
  json report = json::parse(run.out);
  ASSERT_EQ(report["warnings"].size(), 1u) << run.out;
  EXPECT_EQ(report["warnings"][0],
            "envs/prod/kustomization.yaml: resources[0]: remote base " + Url() +
                "//base (ref main) is not pinned: 'main' is a branch and may change under this "
                "environment; pin a tag or a commit (?ref=v1.2.3)");
  ASSERT_EQ(report["drifts"].size(), 1u) << run.out;
  const json& drift = report["drifts"][0];
  EXPECT_EQ(drift["path"], "spec.replicas");
  EXPECT_EQ(drift["desired"], 5);
  EXPECT_EQ(drift["source"]["file"], Url() + "@main//base/deploy.yaml") << drift.dump();
  EXPECT_EQ(drift["source"]["line"], 6);

  // The text report says the same.
  auto text = Plumbline({"diff", "--repo", overlay, "--path", "envs/prod", "--live",
                         (dir_.path() / "live.yaml").string(), "--live-kinds", "Deployment",
                         "--scope", "replicas", "--color", "never", "--quiet"});
  EXPECT_EQ(text.exit_code, 1) << Describe(text);
  EXPECT_THAT(text.out, HasSubstr("warning: envs/prod/kustomization.yaml: resources[0]: remote "
                                  "base " +
                                  Url() + "//base (ref main) is not pinned"));
  EXPECT_THAT(text.out, HasSubstr(Url() + "@main//base/deploy.yaml:6"));
}

TEST_F(RemoteBaseTest, CredentialsGoOnlyToTheirHost) {
  WriteOverlay(Url("private") + "//base?ref=v1");
  // Credentials for another host (the overlay is local; PLUMBLINE_GIT_HOST names another):
  // none is sent, and the server's demand for them is the error.
  auto refused =
      Plumbline({"render", "--repo", (dir_.path() / "overlay").string(), "--path", "envs/prod"},
                {"PLUMBLINE_GIT_USERNAME=deploy", "PLUMBLINE_GIT_PASSWORD=s3cret-pass",
                 "PLUMBLINE_GIT_HOST=git.example"});
  ASSERT_EQ(refused.exit_code, 2) << Describe(refused);
  EXPECT_THAT(refused.err, HasSubstr("remote base " + Url("private") + "//base (ref v1)"));
  EXPECT_THAT(refused.err, HasSubstr("the server requires authentication and no credentials are "
                                     "configured"));
  EXPECT_THAT(refused.err, ::testing::Not(HasSubstr("s3cret")));

  // Through the library: the same credentials bound to the server's host are sent.
  std::unique_ptr<GitSource> git = make_git_source();
  RemoteBaseSourceOptions options;
  options.defaults.cache_dir = dir_.path() / "cache-lib";
  options.defaults.timeout = std::chrono::seconds(30);
  options.defaults.auth.username = "deploy";
  options.defaults.auth.password = "s3cret-pass";
  options.defaults.auth.allow_cleartext_http = true;  // a test server on 127.0.0.1
  options.credentials_host = "127.0.0.1";
  GitRemoteBases bases(*git, options);
  auto tree = make_directory_tree(dir_.path() / "overlay");
  std::vector<std::string> warnings;
  auto out = render(*tree, "envs/prod", {.remote_bases = &bases, .warnings = &warnings});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->size(), 3u);
  EXPECT_TRUE(warnings.empty());

  options.credentials_host = "git.example";
  GitRemoteBases elsewhere(*git, options);
  out = render(*tree, "envs/prod", {.remote_bases = &elsewhere});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code(), ErrorCode::kUnauthenticated) << out.error().to_string();

  // The controller's rule: file:// bases only where local sources are allowed.
  WriteOverlay("file://" + (dir_.path() / "srv/bases.git").string() + "//base?ref=v1");
  options.allow_local = false;
  GitRemoteBases no_local(*git, options);
  out = render(*tree, "envs/prod", {.remote_bases = &no_local});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(out.error().to_string(), HasSubstr("file:// remote bases are refused here"));
}

}  // namespace
}  // namespace plumbline
