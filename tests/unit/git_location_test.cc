// URL classification and cache naming for GitSource (pure; no libgit2, no network).

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "plumbline/git/repo_location.h"

namespace plumbline::git {
namespace {

RepoLocation classify(const std::string& repo) {
  auto loc = classify_repo(repo);
  EXPECT_TRUE(loc.ok()) << repo << ": " << (loc.ok() ? "" : loc.error().to_string());
  return loc.ok() ? *loc : RepoLocation{};
}

TEST(GitRepoLocation, Schemes) {
  auto https = classify("https://git.example.com/org/ops.git");
  EXPECT_EQ(https.kind, RepoKind::kHttps);
  EXPECT_EQ(https.host, "git.example.com");
  EXPECT_EQ(https.port, 443);
  EXPECT_EQ(classify("http://h/x").port, 80);
  EXPECT_EQ(classify("HTTP://h/x").kind, RepoKind::kHttp);
  auto git = classify("git://127.0.0.1:9999/repo.git");
  EXPECT_EQ(git.kind, RepoKind::kGit);
  EXPECT_EQ(git.port, 9999);
  auto ssh = classify("ssh://deploy@git.example.com:2222/srv/ops.git");
  EXPECT_EQ(ssh.kind, RepoKind::kSsh);
  EXPECT_EQ(ssh.user, "deploy");
  EXPECT_EQ(ssh.host, "git.example.com");
  EXPECT_EQ(ssh.port, 2222);
  EXPECT_EQ(classify("git+ssh://h/x").kind, RepoKind::kSsh);
  auto v6 = classify("https://[::1]:8443/x.git");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 8443);
  EXPECT_EQ(classify("file:///srv/git/ops.git").kind, RepoKind::kFile);
  EXPECT_TRUE(classify("file:///srv/git/ops.git").host.empty());
}

TEST(GitRepoLocation, ScpLikeAndLocalPaths) {
  auto scp = classify("git@github.com:org/ops.git");
  EXPECT_EQ(scp.kind, RepoKind::kSsh);
  EXPECT_EQ(scp.user, "git");
  EXPECT_EQ(scp.host, "github.com");
  EXPECT_EQ(scp.port, 22);
  EXPECT_EQ(classify("host:path/x").kind, RepoKind::kSsh);
  // A '/' before the ':' makes it a path, as in git.
  EXPECT_EQ(classify("./dir:with-colon").kind, RepoKind::kLocalPath);
  EXPECT_EQ(classify("/srv/repo").kind, RepoKind::kLocalPath);
  EXPECT_EQ(classify("manifests").kind, RepoKind::kLocalPath);
}

TEST(GitRepoLocation, Errors) {
  EXPECT_EQ(classify_repo("").error().code(), ErrorCode::kInvalidInput);
  auto ftp = classify_repo("ftp://host/x");
  ASSERT_FALSE(ftp.ok());
  EXPECT_EQ(ftp.error().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(ftp.error().message().find("'ftp'"), std::string::npos);
  EXPECT_FALSE(classify_repo("https://host:abc/x").ok());
  EXPECT_FALSE(classify_repo("https:///x").ok());
  EXPECT_FALSE(classify_repo("@:x").ok());
}

TEST(GitRepoLocation, PasswordsNeverReachTheDisplayForm) {
  auto loc = classify("https://deploy:hunter2@git.example.com/ops.git");
  EXPECT_EQ(loc.url, "https://deploy:hunter2@git.example.com/ops.git");  // libgit2 needs it
  EXPECT_EQ(loc.display, "https://git.example.com/ops.git");
  EXPECT_EQ(loc.user, "deploy");
  EXPECT_EQ(loc.host, "git.example.com");
  // A token as the user name, a password holding '/', a token in the query: none is shown.
  EXPECT_EQ(classify("https://ghp_TOKEN1@git.example.com/ops.git").display,
            "https://git.example.com/ops.git");
  EXPECT_EQ(
      classify("https://x-access-token:TOKEN2@git.example.com:8443/ops.git?token=TOKEN3").display,
      "https://git.example.com:8443/ops.git?token=<redacted>");
  auto slash = classify_repo("https://deploy:pa/ss@word@git.example.com/ops.git");
  std::string shown = slash.ok() ? slash->display : slash.error().to_string();
  EXPECT_EQ(shown.find("pa/ss"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("word"), std::string::npos) << shown;
}

TEST(GitCacheEntry, ReadableUniqueAndSafe) {
  std::string name = cache_entry_name("https://github.com/org/ops.git");
  EXPECT_EQ(name.rfind("github.com-org-ops.git-", 0), 0u) << name;
  EXPECT_EQ(name.size(), std::string("github.com-org-ops.git-").size() + 16);
  EXPECT_NE(name, cache_entry_name("https://github.com/org/ops.git/"));
  EXPECT_NE(cache_entry_name("https://h/a-b"), cache_entry_name("https://h/a/b"));
  for (const std::string& url : std::vector<std::string>{"git@host:../../etc", "ssh://u@h:22/~/x",
                                                         "file:///../..", std::string(500, 'x')}) {
    std::string n = cache_entry_name(url);
    EXPECT_EQ(n.find('/'), std::string::npos) << n;
    EXPECT_NE(n, "..");
    EXPECT_NE(n.front(), '.');
    EXPECT_LE(n.size(), 80u);
  }
}

TEST(GitCacheEntry, DefaultDirectoryFollowsXdg) {
  setenv("XDG_CACHE_HOME", "/var/cache/u", 1);
  EXPECT_EQ(default_cache_dir(), "/var/cache/u/plumbline/git");
  unsetenv("XDG_CACHE_HOME");
  setenv("HOME", "/home/u", 1);
  EXPECT_EQ(default_cache_dir(), "/home/u/.cache/plumbline/git");
}

}  // namespace
}  // namespace plumbline::git
