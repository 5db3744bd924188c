// signing_keys.h — real signing keys and signed commits for tests: SSH keys made with
// ssh-keygen, an OpenPGP key made with gpg in a private GNUPGHOME (its agent is stopped when
// the object goes away), and commits made with `git commit -S` in either format.
#pragma once

#include <stdio.h>
#include <sys/wait.h>

#include <string>

#include "temp_dir.h"

namespace plumbline::testing {

// Runs `command` with sh; stdout (and stderr) into the result, the exit status into `status`.
inline std::string shell(const std::string& command, int* status = nullptr) {
  std::string out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    if (status != nullptr) *status = -1;
    return out;
  }
  char buffer[4096];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  int rc = pclose(pipe);
  if (status != nullptr) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

inline std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

inline bool signing_tools_available() {
  int a = 0, b = 0, c = 0;
  shell("command -v git", &a);
  shell("command -v ssh-keygen", &b);
  shell("command -v gpg", &c);
  return a == 0 && b == 0 && c == 0;
}

class SigningKeys {
 public:
  SigningKeys() : dir_("plumbline-sign") {}
  ~SigningKeys() {
    if (!gpg_used_) return;
    shell("GNUPGHOME=" + gnupg_home() + " gpgconf --kill all");
  }
  SigningKeys(const SigningKeys&) = delete;
  SigningKeys& operator=(const SigningKeys&) = delete;

  const std::filesystem::path& dir() const { return dir_.path(); }

  // A new SSH key `name` (ed25519, ecdsa or rsa); returns its private key file.
  std::string ssh_key(const std::string& name, const std::string& type = "ed25519") {
    std::string file = (dir() / name).string();
    std::string bits = type == "ecdsa" ? " -b 256" : type == "rsa" ? " -b 3072" : "";
    shell("ssh-keygen -q -t " + type + bits + " -N '' -C " + name + " -f " + file);
    return file;
  }
  // "principal key-type base64 comment" for git's allowed_signers.
  std::string allowed_signer(const std::string& principal, const std::string& key_file) const {
    return principal + " " + trimmed(read(key_file + ".pub")) + "\n";
  }
  // "SHA256:…" as ssh-keygen prints it.
  static std::string ssh_fingerprint(const std::string& key_file) {
    std::string line = shell("ssh-keygen -l -E sha256 -f " + key_file + ".pub");
    size_t start = line.find("SHA256:");
    return start == std::string::npos ? "" : line.substr(start, line.find(' ', start) - start);
  }

  std::string gnupg_home() const { return (dir() / "gnupg").string(); }
  // A new OpenPGP key for `user_id` ("Alice <alice@example.test>"); returns its fingerprint.
  std::string gpg_key(const std::string& user_id) {
    gpg_used_ = true;
    std::filesystem::create_directories(gnupg_home());
    std::filesystem::permissions(gnupg_home(), std::filesystem::perms::owner_all);
    shell(gpg() + " --passphrase '' --quick-gen-key '" + user_id + "' ed25519 sign never");
    std::string listing = shell(gpg() + " --with-colons --list-keys '" + user_id + "'");
    size_t fpr = listing.find("\nfpr:");
    if (fpr == std::string::npos) return "";
    size_t start = listing.find_first_not_of(':', fpr + 5);
    return listing.substr(start, listing.find(':', start) - start);
  }
  std::string gpg_public_key(const std::string& fingerprint) const {
    return shell(gpg() + " --armor --export " + fingerprint);
  }
  std::string gpg() const { return "gpg --homedir " + gnupg_home() + " --batch --no-tty"; }

  static std::string read(const std::string& file) {
    std::ifstream in(file);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  TempDir dir_;
  bool gpg_used_ = false;
};

// A Git repository with an identity, on branch main.
class SignedRepo {
 public:
  explicit SignedRepo(const std::filesystem::path& path) : path_(path.string()) {
    std::filesystem::create_directories(path);
    git("init -q -b main");
    git("config user.name Tester");
    git("config user.email tester@example.test");
    git("config commit.gpgsign false");
  }
  const std::string& path() const { return path_; }
  std::string git(const std::string& args, int* status = nullptr) const {
    return shell("git -C " + path_ + " " + args, status);
  }
  void write(const std::string& relative, const std::string& text) const {
    std::filesystem::create_directories((std::filesystem::path(path_) / relative).parent_path());
    std::ofstream(std::filesystem::path(path_) / relative) << text;
    git("add -A");
  }
  std::string head() const { return trimmed(git("rev-parse HEAD")); }

  std::string commit_unsigned(const std::string& message) const {
    git("commit -q --allow-empty --no-gpg-sign -m '" + message + "'");
    return head();
  }
  std::string commit_ssh(const std::string& key_file, const std::string& message) const {
    git("-c gpg.format=ssh -c user.signingkey=" + key_file + " commit -q --allow-empty -S -m '" +
        message + "'");
    return head();
  }
  std::string commit_gpg(const SigningKeys& keys, const std::string& fingerprint,
                         const std::string& message) const {
    shell("GNUPGHOME=" + keys.gnupg_home() + " git -C " + path_ +
          " -c gpg.format=openpgp -c user.signingkey=" + fingerprint +
          " commit -q --allow-empty -S -m '" + message + "'");
    return head();
  }
  // HEAD rewritten with another tree but the same signature (`git hash-object -t commit`),
  // and main moved to it: a commit that was changed after it was signed.
  std::string tamper_head(const std::string& other_file, const std::string& text) const {
    std::string blob =
        trimmed(shell("printf '%s' '" + text + "' | git -C " + path_ + " hash-object -w --stdin"));
    std::string tree = trimmed(shell("printf '100644 blob " + blob + "\\t" + other_file +
                                     "\\n' | git -C " + path_ + " mktree"));
    std::string forged =
        trimmed(shell("git -C " + path_ + " cat-file commit HEAD | sed '1s/^tree .*/tree " + tree +
                      "/' | git -C " + path_ + " hash-object -w -t commit --stdin"));
    git("update-ref refs/heads/main " + forged);
    return forged;
  }

 private:
  std::string path_;
};

}  // namespace plumbline::testing
