// GitSource over http:// (git http-backend behind lighttpd: anonymous, basic auth, netrc)
// and ssh:// (sshd: known hosts, keys from memory, host keys that fail closed). No mocks.
#include "integration/git_source_fixture.h"

namespace plumbline {
namespace {

using namespace git_testing;

// ---------------------------------------------------------------------------------------------
// git http-backend behind lighttpd: /git anonymous, /private behind basic auth.

class GitHttpTest : public GitSourceTest {
 protected:
  void SetUp() override {
    GitSourceTest::SetUp();
    if (!have_executable("/usr/sbin/lighttpd") ||
        !have_executable("/usr/lib/git-core/git-http-backend")) {
      GTEST_SKIP() << "lighttpd or git-http-backend not installed (scripts/install-deps)";
    }
    port_ = free_port();
    servers_.push_back(std::make_unique<ServerProcess>());
    start_git_http(*servers_.back(), root_, srv_, port_);
  }

  std::string url(const std::string& prefix) {
    return "http://127.0.0.1:" + std::to_string(port_) + "/" + prefix + "/repo.git";
  }

  int port_ = 0;
};

TEST_F(GitHttpTest, AnonymousClone) {
  auto snap = open_git_snapshot(options(url("git")));
  ASSERT_TRUE(snap.ok()) << snap.error().to_string() << read_file(root_ / "lighttpd-error.log");
  EXPECT_EQ(snap->revision, first_sha_);
  EXPECT_EQ(snap->tree->read_file("README.md").value(), "v1\n");
}

TEST_F(GitHttpTest, BasicAuthWithPasswordTokenAndNetrc) {
  auto o = options(url("private"));
  o.auth.allow_cleartext_http = true;  // a local test server; https:// only otherwise
  o.auth.username = "deploy";
  o.auth.password = "s3cret-pass";
  auto snap = open_git_snapshot(o);
  ASSERT_TRUE(snap.ok()) << snap.error().to_string();
  EXPECT_EQ(snap->revision, first_sha_);

  // The same credentials from a netrc file, for a fresh cache.
  write_file(root_ / "netrc",
             "machine other.example login x password y\n"
             "machine 127.0.0.1\n  login deploy\n  password s3cret-pass\n");
  auto n = options(url("private"));
  n.cache_dir = root_ / "cache-netrc";
  n.auth.netrc_file = root_ / "netrc";
  n.auth.allow_cleartext_http = true;
  auto via_netrc = open_git_snapshot(n);
  ASSERT_TRUE(via_netrc.ok()) << via_netrc.error().to_string();
  EXPECT_FALSE(via_netrc->reused_cache);
}

TEST_F(GitHttpTest, CredentialsGoOnlyToTheirHostAndNeverInCleartext) {
  auto o = options(url("private"));
  o.auth.username = "deploy";
  o.auth.password = "s3cret-pass";
  auto cleartext = open_git_snapshot(o);
  ASSERT_FALSE(cleartext.ok());
  EXPECT_EQ(cleartext.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(cleartext.error().message(), HasSubstr("not sent over cleartext http://"));

  o.auth.allow_cleartext_http = true;
  o.auth.host = "git.example.com";  // configured for another host than the repository's
  auto other = open_git_snapshot(o);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(other.error().message(),
              HasSubstr("credentials for git.example.com are not sent to 127.0.0.1"));

  // /moved/ redirects to localhost: the same server under another name, off-site for libgit2.
  auto r = options("http://127.0.0.1:" + std::to_string(port_) + "/moved/repo.git");
  r.auth.allow_cleartext_http = true;
  r.auth.username = "deploy";
  r.auth.password = "s3cret-pass";
  auto redirected = open_git_snapshot(r);
  ASSERT_FALSE(redirected.ok());
  EXPECT_EQ(redirected.error().code(), ErrorCode::kPermissionDenied)
      << redirected.error().to_string();
  EXPECT_THAT(redirected.error().message(), HasSubstr("are not sent to localhost"));
}

TEST_F(GitHttpTest, WrongOrMissingCredentialsAreUnauthenticated) {
  auto o = options(url("private"));
  o.auth.allow_cleartext_http = true;
  o.auth.username = "deploy";
  o.auth.password = "wrong-password";
  auto snap = open_git_snapshot(o);
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.error().code(), ErrorCode::kUnauthenticated) << snap.error().to_string();
  EXPECT_EQ(snap.error().where(), url("private"));
  EXPECT_THAT(snap.error().message(), HasSubstr("rejected the credentials for user 'deploy'"));
  EXPECT_THAT(snap.error().to_string(), ::testing::Not(HasSubstr("wrong-password")));

  auto none = open_git_snapshot(options(url("private")));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), ErrorCode::kUnauthenticated) << none.error().to_string();
}

// ---------------------------------------------------------------------------------------------
// sshd: key auth, and a host-key check that fails closed.

class GitSshTest : public GitSourceTest {
 protected:
  void SetUp() override {
    GitSourceTest::SetUp();
    if (!have_executable("/usr/sbin/sshd") || !have_executable("/usr/bin/ssh-keygen")) {
      GTEST_SKIP() << "openssh-server not installed (scripts/install-deps)";
    }
    fs::create_directories("/run/sshd");  // sshd's privilege-separation directory
    port_ = free_port();
    host_key_ = root_ / "ssh_host_ed25519_key";
    client_key_ = root_ / "client_ed25519";
    sh("ssh-keygen -q -t ed25519 -N '' -f " + shell_quote(host_key_.string()));
    sh("ssh-keygen -q -t ed25519 -N '' -f " + shell_quote(client_key_.string()));
    fs::copy_file(client_key_.string() + ".pub", root_ / "authorized_keys");
    std::string user = trim(sh("id -un"));
    user_ = user;
    write_file(root_ / "sshd_config",
               "ListenAddress 127.0.0.1\n"
               "HostKey " +
                   host_key_.string() +
                   "\n"
                   "AuthorizedKeysFile " +
                   (root_ / "authorized_keys").string() +
                   "\n"
                   "PubkeyAuthentication yes\nPasswordAuthentication no\n"
                   "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
                   "StrictModes no\nUsePAM no\nPidFile " +
                   (root_ / "sshd.pid").string() + "\n");
    start_server({"/usr/sbin/sshd", "-D", "-e", "-f", (root_ / "sshd_config").string(), "-p",
                  std::to_string(port_), "-h", host_key_.string()},
                 "sshd", port_);
    host_public_key_ = trim(read_file(host_key_.string() + ".pub"));
  }

  std::string url() const {
    return "ssh://" + user_ + "@127.0.0.1:" + std::to_string(port_) + origin_.string();
  }

  GitSourceOptions ssh_options(const std::string& known_hosts) {
    auto o = options(url());
    write_file(root_ / "known_hosts", known_hosts);
    o.auth.known_hosts_file = root_ / "known_hosts";
    o.auth.ssh_key_file = client_key_;
    return o;
  }

  // "ssh-ed25519 AAAA…" without the comment.
  std::string host_key_fields() const {
    auto space = host_public_key_.find(' ', host_public_key_.find(' ') + 1);
    return host_public_key_.substr(0, space);
  }

  int port_ = 0;
  std::string user_;
  fs::path host_key_, client_key_;
  std::string host_public_key_;
};

TEST_F(GitSshTest, CloneWithKnownHostKey) {
  std::string name = "[127.0.0.1]:" + std::to_string(port_);
  auto snap = open_git_snapshot(ssh_options("# test\n" + name + " " + host_key_fields() + "\n"));
  ASSERT_TRUE(snap.ok()) << snap.error().to_string() << read_file(root_ / "sshd.log");
  EXPECT_EQ(snap->revision, first_sha_);
  EXPECT_EQ(snap->tree->read_file("README.md").value(), "v1\n");
}

// As an Environment's secretRef gives them: key and known_hosts as text, never on disk.
TEST_F(GitSshTest, KeyAndKnownHostsFromMemory) {
  std::string name = "[127.0.0.1]:" + std::to_string(port_);
  auto o = options(url());
  o.auth.origin = "Secret plumbline-system/git-ssh";
  o.auth.ssh_key = read_file(client_key_);
  o.auth.known_hosts = name + " " + host_key_fields() + "\n";
  o.auth.known_hosts_file = root_ / "no-such-file";
  auto snap = open_git_snapshot(o);
  ASSERT_TRUE(snap.ok()) << snap.error().to_string() << read_file(root_ / "sshd.log");
  EXPECT_EQ(snap->revision, first_sha_);

  o.auth.known_hosts = "other.example " + host_key_fields() + "\n";
  auto unknown = open_git_snapshot(o);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(
      unknown.error().message(),
      "host key for " + name + " is not in the known_hosts of Secret plumbline-system/git-ssh");

  o.auth.known_hosts = name + " " + host_key_fields() + "\n";
  fs::path stranger = root_ / "stranger";
  sh("ssh-keygen -q -t ed25519 -N '' -f " + shell_quote(stranger.string()));
  o.auth.ssh_key = read_file(stranger);
  auto refused = open_git_snapshot(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnauthenticated) << refused.error().to_string();
}

TEST_F(GitSshTest, UnknownHostKeyFailsClosed) {
  auto snap = open_git_snapshot(ssh_options("other.example " + host_key_fields() + "\n"));
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.error().code(), ErrorCode::kPermissionDenied) << snap.error().to_string();
  EXPECT_EQ(snap.error().message(), "host key for [127.0.0.1]:" + std::to_string(port_) +
                                        " is not in " + (root_ / "known_hosts").string());
}

TEST_F(GitSshTest, ChangedHostKeyFailsClosed) {
  fs::path other = root_ / "other_host_key";
  sh("ssh-keygen -q -t ed25519 -N '' -f " + shell_quote(other.string()));
  std::string wrong = trim(read_file(other.string() + ".pub"));
  std::string name = "[127.0.0.1]:" + std::to_string(port_);
  auto snap = open_git_snapshot(ssh_options(name + " " + wrong + "\n"));
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.error().code(), ErrorCode::kPermissionDenied) << snap.error().to_string();
  EXPECT_EQ(snap.error().message(),
            "host key for " + name + " does not match " + (root_ / "known_hosts").string());

  // A corrupted copy of the right key (one base64 character changed) must not pass either.
  std::string corrupt = host_key_fields();
  char& c = corrupt[corrupt.size() - 5];
  c = c == 'A' ? 'B' : 'A';
  auto corrupted = open_git_snapshot(ssh_options(name + " " + corrupt + "\n"));
  ASSERT_FALSE(corrupted.ok());
  EXPECT_EQ(corrupted.error().code(), ErrorCode::kPermissionDenied);
}

TEST_F(GitSshTest, WrongClientKeyIsUnauthenticated) {
  fs::path stranger = root_ / "stranger";
  sh("ssh-keygen -q -t ed25519 -N '' -f " + shell_quote(stranger.string()));
  std::string name = "[127.0.0.1]:" + std::to_string(port_);
  auto o = ssh_options(name + " " + host_key_fields() + "\n");
  o.auth.ssh_key_file = stranger;
  auto snap = open_git_snapshot(o);
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.error().code(), ErrorCode::kUnauthenticated) << snap.error().to_string();
}

}  // namespace
}  // namespace plumbline
