// Commit signatures made by real `git commit -S` (SSH keys from ssh-keygen, an OpenPGP key
// from gpg) and read by open_git_snapshot, checked by verify_commit: good signatures, unknown
// signers, tampered commits, unsigned commits, the other format; and the CLI's
// --verify-ssh-allowed-signers / --verify-openpgp-keys.
#include "plumbline/git/commit_signature.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "app/cli.h"
#include "plumbline/git/git_source.h"
#include "signing_keys.h"

namespace plumbline {
namespace {

using ::testing::HasSubstr;
using testing::SignedRepo;
using testing::SigningKeys;

class CommitSignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::signing_tools_available()) GTEST_SKIP() << "git, ssh-keygen or gpg missing";
    repo_.emplace(keys_.dir() / "repo");
    repo_->write("env/app.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n");
  }
  CommitSignature signature_of_head() {
    Result<GitSnapshot> snap = open_git_snapshot({.repo = repo_->path(), .ref = "main"});
    EXPECT_TRUE(snap.ok()) << snap.error().to_string();
    EXPECT_EQ(snap->revision, repo_->head());
    return snap->signature;
  }
  TrustedKeys ssh_keys(const std::string& allowed) {
    return {.format = SignatureFormat::kSsh, .keys = allowed, .origin = "allowed_signers"};
  }
  SigningKeys keys_;
  std::optional<SignedRepo> repo_;
};

TEST_F(CommitSignatureTest, SshSignaturesOfEachKeyTypeVerify) {
  for (const std::string type : {"ed25519", "ecdsa", "rsa"}) {
    std::string key = keys_.ssh_key("alice-" + type, type);
    std::string commit = repo_->commit_ssh(key, "signed with " + type);
    Result<Signer> signer = verify_commit(ssh_keys(keys_.allowed_signer("alice@example.test", key)),
                                          commit, signature_of_head());
    ASSERT_TRUE(signer.ok()) << type << ": " << signer.error().to_string();
    EXPECT_EQ(signer->principal, "alice@example.test");
    EXPECT_EQ(signer->fingerprint, SigningKeys::ssh_fingerprint(key)) << type;
  }
}

TEST_F(CommitSignatureTest, SshUnknownSignerIsRefusedByFingerprint) {
  std::string alice = keys_.ssh_key("alice"), bob = keys_.ssh_key("bob");
  std::string commit = repo_->commit_ssh(bob, "signed by bob");
  Result<Signer> signer = verify_commit(ssh_keys(keys_.allowed_signer("alice@example.test", alice)),
                                        commit, signature_of_head());
  ASSERT_FALSE(signer.ok());
  EXPECT_EQ(signer.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(signer.error().message(),
            "commit " + commit + " is signed by " + SigningKeys::ssh_fingerprint(bob) +
                ", which is not in the allowed signers (allowed_signers)");
}

TEST_F(CommitSignatureTest, SshTamperedCommitIsRefused) {
  std::string alice = keys_.ssh_key("alice");
  repo_->commit_ssh(alice, "signed");
  std::string forged = repo_->tamper_head("evil.yaml", "kind: Secret");
  Result<Signer> signer = verify_commit(ssh_keys(keys_.allowed_signer("alice@example.test", alice)),
                                        forged, signature_of_head());
  ASSERT_FALSE(signer.ok());
  EXPECT_EQ(signer.error().message(),
            "commit " + forged + " has a signature by " + SigningKeys::ssh_fingerprint(alice) +
                " that does not match the commit (changed after signing, or forged)");
}

TEST_F(CommitSignatureTest, UnsignedCommitIsRefused) {
  std::string alice = keys_.ssh_key("alice");
  std::string commit = repo_->commit_unsigned("not signed");
  Result<Signer> signer = verify_commit(ssh_keys(keys_.allowed_signer("alice@example.test", alice)),
                                        commit, signature_of_head());
  ASSERT_FALSE(signer.ok());
  EXPECT_EQ(signer.error().message(),
            "commit " + commit + " is not signed (an ssh signature by a trusted key is required)");
}

TEST_F(CommitSignatureTest, AllowedSignersOptions) {
  std::string alice = keys_.ssh_key("alice");
  std::string commit = repo_->commit_ssh(alice, "signed");
  std::string line = keys_.allowed_signer("x", alice).substr(2);  // "key-type key comment"
  // namespaces that leave out git: the key does not sign commits.
  Result<Signer> other_namespace =
      verify_commit(ssh_keys("alice namespaces=\"file\" " + line), commit, signature_of_head());
  ASSERT_FALSE(other_namespace.ok());
  EXPECT_THAT(other_namespace.error().message(), HasSubstr("not in the allowed signers"));
  EXPECT_TRUE(verify_commit(ssh_keys("# team\n\nalice namespaces=\"file,git\" " + line), commit,
                            signature_of_head())
                  .ok());
  // A certificate authority line never vouches for a key itself.
  EXPECT_FALSE(
      verify_commit(ssh_keys("alice cert-authority " + line), commit, signature_of_head()).ok());
  // Time limits are not applied, so they are refused rather than ignored.
  Result<Signer> timed = verify_commit(ssh_keys("alice valid-before=\"20300101\" " + line), commit,
                                       signature_of_head());
  ASSERT_FALSE(timed.ok());
  EXPECT_EQ(timed.error().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(timed.error().to_string(),
            "allowed_signers:1: allowed signers option 'valid-before=\"20300101\"' is not "
            "supported (only namespaces=\"…\" and cert-authority); the list is refused rather "
            "than read in part");
}

TEST_F(CommitSignatureTest, OpenPgpSignatureVerifies) {
  std::string fpr = keys_.gpg_key("Alice <alice@example.test>");
  ASSERT_EQ(fpr.size(), 40u);
  std::string commit = repo_->commit_gpg(keys_, fpr, "signed with gpg");
  TrustedKeys trusted{
      .format = SignatureFormat::kOpenPgp, .keys = keys_.gpg_public_key(fpr), .origin = "keys.asc"};
  Result<Signer> signer = verify_commit(trusted, commit, signature_of_head());
  ASSERT_TRUE(signer.ok()) << signer.error().to_string();
  EXPECT_EQ(signer->fingerprint, fpr);
  EXPECT_EQ(signer->principal, "Alice <alice@example.test>");

  // Changed after signing.
  std::string forged = repo_->tamper_head("evil.yaml", "kind: Secret");
  Result<Signer> tampered = verify_commit(trusted, forged, signature_of_head());
  ASSERT_FALSE(tampered.ok());
  EXPECT_EQ(tampered.error().message(),
            "commit " + forged + " has a signature by " + fpr +
                " that does not match the commit (changed after signing, or forged)");
}

TEST_F(CommitSignatureTest, OpenPgpUnknownSignerAndOtherFormatAreRefused) {
  std::string alice = keys_.gpg_key("Alice <alice@example.test>");
  std::string mallory = keys_.gpg_key("Mallory <mallory@example.test>");
  TrustedKeys trusted{.format = SignatureFormat::kOpenPgp,
                      .keys = keys_.gpg_public_key(alice),
                      .origin = "Secret plumbline-system/signers"};
  std::string commit = repo_->commit_gpg(keys_, mallory, "signed by mallory");
  Result<Signer> unknown = verify_commit(trusted, commit, signature_of_head());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(unknown.error().message(),
            "commit " + commit + " is signed by " + mallory +
                ", which is not among the trusted OpenPGP keys (Secret plumbline-system/signers)");

  std::string ssh = keys_.ssh_key("alice");
  commit = repo_->commit_ssh(ssh, "ssh-signed");
  Result<Signer> other = verify_commit(trusted, commit, signature_of_head());
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().message(),
            "commit " + commit + " is signed with SSH, but OpenPGP signatures are expected");
  commit = repo_->commit_gpg(keys_, alice, "gpg-signed");
  other = verify_commit(ssh_keys(keys_.allowed_signer("alice", ssh)), commit, signature_of_head());
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().message(),
            "commit " + commit + " is signed with OpenPGP, but SSH signatures are expected");
  // Keys that are no keys.
  trusted.keys = "not a key";
  Result<Signer> no_keys = verify_commit(trusted, commit, signature_of_head());
  ASSERT_FALSE(no_keys.ok());
  EXPECT_EQ(no_keys.error().code(), ErrorCode::kInvalidInput);
}

// The CLI: a verified commit is rendered; an unsigned one exits 2 naming it, and nothing of
// it is printed.
TEST_F(CommitSignatureTest, CliVerifiesBeforeReading) {
  std::string alice = keys_.ssh_key("alice");
  std::string signers = (keys_.dir() / "allowed_signers").string();
  std::ofstream(signers) << keys_.allowed_signer("alice@example.test", alice);
  std::string signed_commit = repo_->commit_ssh(alice, "signed");
  auto run = [&](std::vector<std::string> args, std::string& out, std::string& err) {
    std::ostringstream o, e;
    int code = app::main_entry(args, o, e);
    out = o.str();
    err = e.str();
    return code;
  };
  std::string out, err;
  ASSERT_EQ(run({"render", "--repo", repo_->path(), "--path", "env", "--verify-ssh-allowed-signers",
                 signers},
                out, err),
            0)
      << err;
  EXPECT_THAT(out, HasSubstr("kind: ConfigMap"));
  EXPECT_EQ(err, "plumbline: commit " + signed_commit + " is signed by " +
                     SigningKeys::ssh_fingerprint(alice) + " (alice@example.test)\n");

  std::string unsigned_commit = repo_->commit_unsigned("unsigned");
  EXPECT_EQ(run({"render", "--repo", repo_->path(), "--path", "env", "--verify-ssh-allowed-signers",
                 signers},
                out, err),
            2);
  EXPECT_EQ(out, "");
  EXPECT_THAT(err, HasSubstr("commit " + unsigned_commit + " is not signed"));

  // One of the two flags, once; and never on a plain directory.
  EXPECT_EQ(run({"render", "--repo", repo_->path(), "--path", "env", "--verify-ssh-allowed-signers",
                 signers, "--verify-openpgp-keys", signers},
                out, err),
            2);
  EXPECT_THAT(err, HasSubstr("give one of --verify-ssh-allowed-signers and"));
  EXPECT_EQ(run({"render", "--repo", (std::filesystem::path(repo_->path()) / "env").string(),
                 "--path", ".", "--verify-ssh-allowed-signers", signers},
                out, err),
            2);
  EXPECT_THAT(err, HasSubstr("verifying signatures needs a Git repository"));
}

}  // namespace
}  // namespace plumbline
