// Pure parts of GitSource's authentication: netrc, known_hosts and the fail-closed host-key
// decision, and GitAuth::from_environment.

#include <gtest/gtest.h>
#include <stdlib.h>

#include "git/credentials.h"
#include "plumbline/core/base64.h"
#include "plumbline/git/git_source.h"

namespace plumbline::git {
namespace {

TEST(GitNetrc, ParsesMachinesDefaultAndSkipsMacdef) {
  auto entries = parse_netrc(
      "# comment line\n"
      "machine git.example.com login alice password s3cret\n"
      "macdef init\n"
      "machine evil.example login mallory password nope\n"
      "\n"
      "machine other.example\n"
      "  login bob\n"
      "  account ignored\n"
      "  password pw2\n"
      "default login anon password anonpw\n");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].machine, "git.example.com");
  EXPECT_EQ(entries[0].login, "alice");
  EXPECT_EQ(entries[0].password, "s3cret");
  EXPECT_EQ(entries[1].machine, "other.example");
  EXPECT_EQ(entries[1].login, "bob");
  EXPECT_EQ(entries[1].password, "pw2");
  EXPECT_EQ(entries[2].machine, "");

  EXPECT_EQ(netrc_lookup(entries, "GIT.example.com")->login, "alice");
  EXPECT_EQ(netrc_lookup(entries, "unknown.example")->login, "anon");
  EXPECT_FALSE(netrc_lookup(parse_netrc("machine a login b password c"), "x").has_value());
  EXPECT_TRUE(parse_netrc("").empty());
  // A dangling keyword at the end must not read past the tokens.
  EXPECT_EQ(parse_netrc("machine a login").size(), 1u);
}

TEST(GitBase64, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(base64_decode("aGVsbG8=").value(), "hello");
  EXPECT_EQ(base64_decode("aGVsbG8").value(), "hello");
  EXPECT_EQ(base64_decode("").value(), "");
  EXPECT_FALSE(base64_decode("a$bc").has_value());
  EXPECT_FALSE(base64_decode("a").has_value());
}

// Real ed25519 keys (ssh-keygen output); only the public parts are here.
constexpr const char* kKeyA =
    "AAAAC3NzaC1lZDI1NTE5AAAAIH4p2EJhcUwBivo49lW9dc8U0IVaI5ZaJjFSCVJ+iW5o";
constexpr const char* kKeyB =
    "AAAAC3NzaC1lZDI1NTE5AAAAIKd6oQcrVgE9gPETM4cLXAVVNyJNTja+xZGSyzHhaWir";

TEST(GitKnownHosts, ParsesPlainBracketedHashedAndMarkers) {
  std::string text = std::string("# comment\n\n") + "git.example.com,10.0.0.1 ssh-ed25519 " +
                     kKeyA + " comment\n" + "[git.example.com]:2222 ssh-ed25519 " + kKeyB + "\n" +
                     "@cert-authority *.example.com ssh-ed25519 " + kKeyB + "\n" +
                     "@revoked bad.example ssh-ed25519 " + kKeyA + "\n" +
                     "broken-line-without-key\n" + "host ssh-rsa !!notbase64!!\n";
  auto known = parse_known_hosts(text);
  ASSERT_EQ(known.size(), 3u);
  EXPECT_EQ(known[0].patterns, (std::vector<std::string>{"git.example.com", "10.0.0.1"}));
  EXPECT_EQ(known[0].key_type, "ssh-ed25519");
  EXPECT_EQ(known[0].key, base64_decode(kKeyA).value());
  EXPECT_TRUE(known_host_matches(known[0], "10.0.0.1"));
  EXPECT_TRUE(known_host_matches(known[1], "[git.example.com]:2222"));
  EXPECT_FALSE(known_host_matches(known[1], "git.example.com"));
  EXPECT_TRUE(known[2].revoked);
}

TEST(GitKnownHosts, NameUsesBracketsForNonDefaultPorts) {
  EXPECT_EQ(known_hosts_name("github.com", 22), "github.com");
  EXPECT_EQ(known_hosts_name("127.0.0.1", 2222), "[127.0.0.1]:2222");
}

TEST(GitKnownHosts, HashedHostnames) {
  // `ssh-keygen -H` form of "git.example.com": |1|base64(salt)|base64(HMAC-SHA1(salt, host)).
  auto known = parse_known_hosts(
      std::string("|1|AAECAwQFBgcICQoLDA0ODxAREhM=|5DHGyoq+K/vX4lJK0U2p7IteoFw= ssh-ed25519 ") +
      kKeyA + "\n");
  ASSERT_EQ(known.size(), 1u);
  EXPECT_TRUE(known_host_matches(known[0], "git.example.com"));
  EXPECT_FALSE(known_host_matches(known[0], "git.example.org"));
}

TEST(GitHostKey, FailsClosed) {
  auto known = parse_known_hosts(std::string("git.example.com ssh-ed25519 ") + kKeyA + "\n" +
                                 "@revoked old.example ssh-ed25519 " + kKeyB + "\n" +
                                 "old.example ssh-ed25519 " + kKeyB + "\n");
  PresentedKey a{"ssh-ed25519", base64_decode(kKeyA).value(), ""};
  PresentedKey b{"ssh-ed25519", base64_decode(kKeyB).value(), ""};
  EXPECT_EQ(check_host_key(known, "git.example.com", a), HostKeyVerdict::kMatch);
  EXPECT_EQ(check_host_key(known, "git.example.com", b), HostKeyVerdict::kMismatch);
  EXPECT_EQ(check_host_key(known, "[git.example.com]:2222", a), HostKeyVerdict::kUnknownHost);
  EXPECT_EQ(check_host_key({}, "git.example.com", a), HostKeyVerdict::kUnknownHost);
  // A revoked key stays refused even when another line lists it.
  EXPECT_EQ(check_host_key(known, "old.example", b), HostKeyVerdict::kMismatch);
  // Same bytes announced as another type do not match.
  PresentedKey wrong_type{"ssh-rsa", a.raw, ""};
  EXPECT_EQ(check_host_key(known, "git.example.com", wrong_type), HostKeyVerdict::kMismatch);
  // Without raw key data the SHA-256 fingerprint decides; no data at all never matches.
  PresentedKey empty{};
  EXPECT_EQ(check_host_key(known, "git.example.com", empty), HostKeyVerdict::kMismatch);
}

TEST(GitAuthEnvironment, TokenUsernamePasswordAndFiles) {
  setenv("HOME", "/home/tester", 1);
  unsetenv("PLUMBLINE_GIT_USERNAME");
  unsetenv("PLUMBLINE_GIT_PASSWORD");
  unsetenv("PLUMBLINE_GIT_NETRC");
  unsetenv("PLUMBLINE_GIT_SSH_KEY");
  unsetenv("PLUMBLINE_GIT_KNOWN_HOSTS");
  setenv("PLUMBLINE_GIT_TOKEN", "tok", 1);
  GitAuth auth = GitAuth::from_environment();
  EXPECT_EQ(auth.username, "x-access-token");
  EXPECT_EQ(auth.password, "tok");
  EXPECT_EQ(auth.netrc_file, "/home/tester/.netrc");
  EXPECT_EQ(auth.known_hosts_file, "/home/tester/.ssh/known_hosts");
  EXPECT_TRUE(auth.ssh_key_file.empty());

  setenv("PLUMBLINE_GIT_USERNAME", "oauth2", 1);
  EXPECT_EQ(GitAuth::from_environment().username, "oauth2");

  unsetenv("PLUMBLINE_GIT_TOKEN");
  setenv("PLUMBLINE_GIT_USERNAME", "deploy", 1);
  setenv("PLUMBLINE_GIT_PASSWORD", "pw", 1);
  setenv("PLUMBLINE_GIT_NETRC", "/etc/plumbline/netrc", 1);
  setenv("PLUMBLINE_GIT_SSH_KEY", "/keys/id_ed25519", 1);
  setenv("PLUMBLINE_GIT_KNOWN_HOSTS", "/keys/known_hosts", 1);
  auth = GitAuth::from_environment();
  EXPECT_EQ(auth.username, "deploy");
  EXPECT_EQ(auth.password, "pw");
  EXPECT_EQ(auth.netrc_file, "/etc/plumbline/netrc");
  EXPECT_EQ(auth.ssh_key_file, "/keys/id_ed25519");
  EXPECT_EQ(auth.known_hosts_file, "/keys/known_hosts");
}

TEST(GitCredentialBinding, OnlyTheirHostAndNeverCleartext) {
  EXPECT_EQ(credential_refusal("https://git.example.com/ops.git", "GIT.example.com", false),
            std::nullopt);
  EXPECT_EQ(credential_refusal("ssh://git@git.example.com/ops.git", "git.example.com", false),
            std::nullopt);
  auto other = credential_refusal("https://evil.example/ops.git", "git.example.com", false);
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(other->find("not sent to evil.example"), std::string::npos) << *other;
  auto cleartext = credential_refusal("http://git.example.com/ops.git", "git.example.com", false);
  ASSERT_TRUE(cleartext.has_value());
  EXPECT_NE(cleartext->find("cleartext"), std::string::npos);
  EXPECT_EQ(credential_refusal("http://git.example.com/ops.git", "git.example.com", true),
            std::nullopt);
}

}  // namespace
}  // namespace plumbline::git
