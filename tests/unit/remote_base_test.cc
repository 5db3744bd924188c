// kustomize remote bases: the URL grammar (kustomize's forms, exact errors for malformed ones)
// and the renderer with the in-memory fetcher: objects and findings' origins from the remote
// files, unpinned refs as warnings, relative paths kept inside the remote repository, the
// caps on count and nesting, cycles, and fetch errors.
#include "plumbline/render/remote_base.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plumbline/render/render.h"

namespace plumbline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Parsed {
  std::string repo, path, ref;
};

Parsed parse(const std::string& url) {
  auto base = parse_remote_base(url);
  EXPECT_TRUE(base.ok()) << url << ": " << base.error().to_string();
  if (!base.ok()) return {};
  return {base->repo, base->path, base->ref};
}

std::string parse_error(const std::string& url) {
  auto base = parse_remote_base(url);
  EXPECT_FALSE(base.ok()) << url << " parsed as " << base->repo;
  return base.ok() ? "" : base.error().to_string();
}

#define EXPECT_PARSED(url, repo_, path_, ref_) \
  do {                                         \
    Parsed p = parse(url);                     \
    EXPECT_EQ(p.repo, repo_) << url;           \
    EXPECT_EQ(p.path, path_) << url;           \
    EXPECT_EQ(p.ref, ref_) << url;             \
  } while (0)

TEST(RemoteBaseUrlTest, KustomizeForms) {
  EXPECT_PARSED("github.com/org/repo//deploy/base?ref=v1.2.0", "https://github.com/org/repo",
                "deploy/base", "v1.2.0");
  EXPECT_PARSED("github.com/org/repo/deploy/base", "https://github.com/org/repo", "deploy/base",
                "");
  EXPECT_PARSED("gitHub.com/org/repo?ref=group/version", "https://github.com/org/repo", "",
                "group/version");
  EXPECT_PARSED("http://github.com/org/repo.git/dir", "https://github.com/org/repo.git", "dir", "");
  EXPECT_PARSED("https://git.example/org/repo.git//base?version=v1",
                "https://git.example/org/repo.git", "base", "v1");
  EXPECT_PARSED("https://git.example/org/repo.git//base?version=v1&ref=v2",
                "https://git.example/org/repo.git", "base", "v2");  // ref wins
  EXPECT_PARSED("git::https://git.example/org/repo//envs/base/?ref=v1",
                "https://git.example/org/repo", "envs/base", "v1");
  EXPECT_PARSED("git::http://127.0.0.1:8080/git/bases.git//base?ref=v1",
                "http://127.0.0.1:8080/git/bases.git", "base", "v1");
  EXPECT_PARSED("ssh://git@git.example/org/repo.git//base?ref=abc1234",
                "ssh://git@git.example/org/repo.git", "base", "abc1234");
  EXPECT_PARSED("git@git.example:org/repo.git//base?ref=v1", "git@git.example:org/repo.git", "base",
                "v1");
  EXPECT_PARSED("git@github.com/org/repo/dir", "git@github.com:org/repo", "dir", "");
  EXPECT_PARSED("ssh://git@github.com/org/repo//dir?ref=v1", "git@github.com:org/repo", "dir",
                "v1");
  EXPECT_PARSED("https://dev.azure.com/org/project/_git/repo//path/to/root",
                "https://dev.azure.com/org/project/_git/repo", "path/to/root", "");
  EXPECT_PARSED("https://host/org/repo/?ref=includes.git/x", "https://host/org/repo", "",
                "includes.git/x");
  EXPECT_PARSED("file:///srv/git/bases.git//base?ref=v1", "file:///srv/git/bases.git", "base",
                "v1");
  EXPECT_PARSED("file:///srv/git/bases?ref=v1", "file:///srv/git/bases", "", "v1");
  EXPECT_PARSED("git://127.0.0.1:9418/bases.git//base?ref=v1%2E0&timeout=90s&submodules=false",
                "git://127.0.0.1:9418/bases.git", "base", "v1.0");
}

TEST(RemoteBaseUrlTest, MalformedUrlsGiveExactErrors) {
  EXPECT_EQ(parse_error("https://host?ref=v1"),
            "https://host?ref=<redacted>: no repository path after the host");
  EXPECT_EQ(parse_error("ssh://git.example"),
            "ssh://git.example: no repository path after the host");
  EXPECT_EQ(parse_error("https://github.com/thisisa404.yaml"),
            "https://github.com/thisisa404.yaml: no repository path after the host (org/repo, "
            "or mark its end with '//' or '.git')");
  EXPECT_EQ(parse_error("https://github.com/org/repo.git//path/../../exits"),
            "https://github.com/org/repo.git//path/../../exits: the directory 'path/../../exits' "
            "leaves the repository");
  EXPECT_EQ(parse_error("ftp://host/org/repo"),
            "ftp://host/org/repo: unsupported scheme 'ftp' (https, http, ssh, git or file)");
  EXPECT_EQ(parse_error("https://host/org/repo?reff=v1"),
            "https://host/org/repo?reff=<redacted>: unknown query parameter 'reff' (kustomize "
            "reads ref, version, timeout and submodules)");
  EXPECT_EQ(parse_error("https://host/org/repo?ref=%zz"),
            "https://host/org/repo?ref=<redacted>: malformed %-escape in the query");
  EXPECT_EQ(parse_error("https://host/org/repo?ref=--upload-pack=x"),
            "https://host/org/repo?ref=<redacted>: ref '--upload-pack=x' starts with '-'");
  EXPECT_EQ(parse_error("file:////tmp//path"),
            "file:////tmp//path: no repository path after file://");
  EXPECT_EQ(parse_error("https://host/org/re po"),
            "https://host/org/re po: a remote base URL holds no spaces or control characters");
  EXPECT_EQ(parse_error("git::___"),
            "git::___: not a URL (give a scheme such as https://, or "
            "user@host:path)");
  // Credentials never show in an error.
  EXPECT_EQ(parse_error("https://user:s3cret@host/only"),
            "https://host/only: no repository path after the host (org/repo, or mark its end "
            "with '//' or '.git')");
}

TEST(RemoteBaseUrlTest, WhatCountsAsRemote) {
  for (const char* remote :
       {"github.com/org/repo", "https://host/org/repo", "git::https://host/org/repo",
        "git@host:org/repo.git", "file:///srv/repo.git", "ftp://host/x", "git::___"}) {
    EXPECT_TRUE(is_remote_base(remote)) << remote;
  }
  for (const char* local : {"base", "../../base", "/tmp", "src/github.com/org/repo/path",
                            "deploy.yaml", "base@v2/x", "name@host"}) {
    EXPECT_FALSE(is_remote_base(local)) << local;
  }
}

// ---------------------------------------------------------------------------------------------
// The renderer with remote bases from memory.

constexpr const char* kBaseRepo = "https://git.example/platform/bases.git";

const std::map<std::string, std::string> kBases = {
    {"base/kustomization.yaml",
     "resources:\n- deploy.yaml\n- ../shared\ncommonLabels: {tier: web}\n"},
    {"base/deploy.yaml",
     "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 1\n"},
    {"shared/kustomization.yaml", "resources: [cm.yaml]\n"},
    {"shared/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n"},
    {"escape/kustomization.yaml", "resources: [../../../envs/prod/secret.yaml]\n"},
    {"self/kustomization.yaml",
     "resources: ['https://git.example/platform/bases.git//self?ref=v1']\n"},
    {"component/kustomization.yaml",
     "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
     "patches:\n- patch: |-\n    - op: add\n      path: /metadata/annotations\n"
     "      value: {from: component}\n  target: {kind: Deployment}\n"},
};

MemoryTree overlay(const std::string& resources, const std::string& extra = "") {
  MemoryTree tree;
  tree.add("envs/prod/kustomization.yaml", "namePrefix: prod-\nresources:\n" + resources + extra);
  tree.add("envs/prod/local.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n");
  tree.add("envs/prod/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n");
  return tree;
}

struct RemoteRender : ::testing::Test {
  void SetUp() override {
    bases.add(kBaseRepo, "v1", kBases, "refs/tags/v1");
    bases.add(kBaseRepo, "main", kBases, "main");
    bases.add(kBaseRepo, "", kBases, "main");
    bases.add(kBaseRepo, std::string(40, 'b'), kBases, std::string(40, 'b'));
  }
  Result<ManifestSet> run(const MemoryTree& tree, RenderLimits limits = {}) {
    warnings.clear();
    return render(tree, "envs/prod",
                  {.limits = std::move(limits), .remote_bases = &bases, .warnings = &warnings});
  }
  MemoryRemoteBases bases;
  std::vector<std::string> warnings;
};

TEST_F(RemoteRender, ObjectsOfAPinnedRemoteBasePointAtTheRemoteFiles) {
  auto out = run(overlay("- https://git.example/platform/bases.git//base?ref=v1\n- local.yaml\n",
                         "images:\n- {name: api, newTag: '2'}\n"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_TRUE(warnings.empty()) << warnings[0];
  EXPECT_EQ(bases.fetches, 1);  // base and its ../shared: one repository, one fetch
  std::map<std::string, const Manifest*> by_name;
  for (const Manifest& m : *out) by_name[m.object["metadata"]["name"]] = &m;
  ASSERT_EQ(by_name.size(), 3u);
  EXPECT_EQ(by_name.at("prod-web")->origin.file, "envs/prod/local.yaml");
  const Manifest& deploy = *by_name.at("prod-api");
  EXPECT_EQ(deploy.object["metadata"]["labels"]["tier"], "web");
  EXPECT_EQ(deploy.origin.to_string(),
            "https://git.example/platform/bases.git@v1//base/deploy.yaml:1");
  EXPECT_EQ(deploy.locate("spec.replicas").to_string(),
            "https://git.example/platform/bases.git@v1//base/deploy.yaml:6");
  EXPECT_EQ(by_name.at("prod-settings")->origin.file,
            "https://git.example/platform/bases.git@v1//shared/cm.yaml");
  EXPECT_EQ(by_name.at("prod-api")->base_name, "api");
}

TEST_F(RemoteRender, UnpinnedRefsAreWarnings) {
  auto out = run(overlay("- https://git.example/platform/bases.git//base?ref=main\n"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_THAT(warnings,
              ElementsAre("envs/prod/kustomization.yaml: resources[0]: remote base "
                          "https://git.example/platform/bases.git//base (ref main) is not pinned: "
                          "'main' is a branch and may change under this environment; pin a tag "
                          "or a commit (?ref=v1.2.3)"));
  EXPECT_EQ((*out)[0].origin.file.substr(0, 45), "https://git.example/platform/bases.git@main//");

  out = run(overlay("- https://git.example/platform/bases.git//base\n"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_THAT(warnings, ElementsAre(HasSubstr("is not pinned: it names no ref, so the default "
                                              "branch (main) is read")));
  // Without a ref the label names the commit read.
  EXPECT_THAT((*out)[0].origin.file, HasSubstr("bases.git@bbbbbbbbbbbb//shared/cm.yaml"));

  out = run(
      overlay("- https://git.example/platform/bases.git//base?ref=" + std::string(40, 'b') + "\n"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_TRUE(warnings.empty());
}

TEST_F(RemoteRender, RemoteComponentsPatchTheOverlaysObjects) {
  auto out =
      run(overlay("- local.yaml\n- https://git.example/platform/bases.git//base?ref=v1\n",
                  "components:\n- https://git.example/platform/bases.git//component?ref=v1\n"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  for (const Manifest& m : *out) {
    if (m.object["kind"] != "Deployment") continue;
    EXPECT_EQ(m.object["metadata"]["annotations"]["from"], "component");
  }
}

TEST_F(RemoteRender, RelativePathsStayInTheRemoteRepository) {
  auto out = run(overlay("- https://git.example/platform/bases.git//escape?ref=v1\n"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().to_string(),
            "https://git.example/platform/bases.git@v1//escape/kustomization.yaml: resources[0]: "
            "path '../../../envs/prod/secret.yaml' leaves the repository root");
}

TEST_F(RemoteRender, CyclesCountAndDepthAreBounded) {
  auto cycle = run(overlay("- https://git.example/platform/bases.git//self?ref=v1\n"));
  ASSERT_FALSE(cycle.ok());
  EXPECT_THAT(cycle.error().to_string(),
              HasSubstr("https://git.example/platform/bases.git@v1//self/kustomization.yaml: "
                        "resources[0]: cycle through"));

  std::string many;
  for (int i = 0; i < 3; ++i) many += "- https://git.example/platform/bases.git//shared?ref=v1\n";
  auto counted = run(overlay(many), RenderLimits{.max_remote_bases = 2});
  ASSERT_FALSE(counted.ok());
  EXPECT_EQ(counted.error().to_string(),
            "envs/prod/kustomization.yaml: resources[2]: more than 2 remote bases in one render");

  bases.add("https://git.example/a.git", "v1",
            {{"kustomization.yaml", "resources: ['https://git.example/b.git?ref=v1']\n"}},
            "refs/tags/v1");
  bases.add("https://git.example/b.git", "v1",
            {{"kustomization.yaml",
              "resources: ['https://git.example/platform/bases.git//shared?ref=v1']\n"}},
            "refs/tags/v1");
  auto deep =
      run(overlay("- https://git.example/a.git?ref=v1\n"), RenderLimits{.max_remote_depth = 2});
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().to_string(),
            "https://git.example/b.git@v1//kustomization.yaml: resources[0]: remote base "
            "https://git.example/platform/bases.git//shared (ref v1) nests more than 2 remote "
            "bases deep (a remote base listing another)");
  auto fits = run(overlay("- https://git.example/a.git?ref=v1\n"));
  ASSERT_TRUE(fits.ok()) << fits.error().to_string();
  EXPECT_EQ(fits->size(), 1u);
}

TEST_F(RemoteRender, RemoteFilesCountAgainstTheRenderBudget) {
  auto out = run(overlay("- https://git.example/platform/bases.git//base?ref=v1\n"),
                 RenderLimits{.max_files = 4});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.error().to_string(), HasSubstr("the render reads more than 4 files"));
}

TEST_F(RemoteRender, FetchFailuresAndMissingDirectoriesAreErrors) {
  auto missing = run(overlay("- https://git.example/platform/bases.git//nope?ref=v1\n"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().to_string(),
            "envs/prod/kustomization.yaml: resources[0]: remote base "
            "https://git.example/platform/bases.git//nope (ref v1): no directory 'nope' in the "
            "repository");

  auto file = run(overlay("- https://git.example/platform/bases.git//base/deploy.yaml?ref=v1\n"));
  ASSERT_FALSE(file.ok());
  EXPECT_THAT(file.error().to_string(), HasSubstr("is a file; a remote base names a directory"));

  auto unknown = run(overlay("- https://user:tok3n@git.example/other/repo.git//x?ref=v9\n"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(unknown.error().to_string(),
            "envs/prod/kustomization.yaml: resources[0]: remote base "
            "https://git.example/other/repo.git//x (ref v9): https://git.example/other/repo.git: "
            "no such repository or ref 'v9'");

  auto malformed = run(overlay("- https://git.example/only\n"));
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().to_string(),
            "envs/prod/kustomization.yaml: resources[0]: malformed remote base URL: "
            "https://git.example/only: no repository path after the host (org/repo, or mark its "
            "end with '//' or '.git')");

  // Without a fetcher (a caller that does not fetch), remote bases are an error.
  auto none =
      render(overlay("- https://git.example/platform/bases.git//base?ref=v1\n"), "envs/prod", {});
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.error().to_string(), HasSubstr("this render fetches no remote bases"));
}

TEST_F(RemoteRender, MountNamesCannotBeReachedFromTheRepository) {
  // A path of the repository that would be a mount's token is refused, never read as one.
  MemoryTree tree = overlay(
      "- https://git.example/platform/bases.git//base?ref=v1\n"
      "- ../../\x1e"
      "0/base\n");
  tree.add(
      "\x1e"
      "0/base/kustomization.yaml",
      "resources: []\n");
  auto out = run(tree);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(out.error().to_string(), HasSubstr("a path may not start with a control character"));
}

}  // namespace
}  // namespace plumbline
