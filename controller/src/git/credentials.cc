#include "git/credentials.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>

#include "plumbline/core/base64.h"
#include "plumbline/core/digest.h"
#include "plumbline/core/strings.h"
#include "plumbline/git/git_source.h"
#include "plumbline/git/repo_location.h"

namespace plumbline {
namespace git {
namespace {

std::vector<std::string_view> split_whitespace(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

std::string hmac_sha1(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

}  // namespace

bool same_host(std::string_view a, std::string_view b) { return equals_ignoring_case(a, b); }

std::optional<std::string> credential_refusal(std::string_view asked_url,
                                              std::string_view bound_host, bool allow_cleartext) {
  auto asked = classify_repo(asked_url);
  if (!asked) return "credentials asked for an unreadable URL";
  if (!same_host(asked->host, bound_host)) {
    return "credentials for " + std::string(bound_host) + " are not sent to " +
           (asked->host.empty() ? std::string("a local path") : asked->host) +
           " (an off-site redirect or another host)";
  }
  if (asked->kind == RepoKind::kHttp && !allow_cleartext) {
    return "credentials are not sent over cleartext http://; use https://";
  }
  return std::nullopt;
}

std::vector<NetrcEntry> parse_netrc(std::string_view text) {
  std::vector<NetrcEntry> entries;
  // macdef bodies are free text up to a blank line; cut them out before tokenizing.
  std::string cleaned;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    auto words = split_whitespace(line);
    if (!words.empty() && words[0] == "macdef") {
      while (pos < text.size()) {
        size_t next = text.find('\n', pos);
        if (next == std::string_view::npos) next = text.size();
        bool blank = split_whitespace(text.substr(pos, next - pos)).empty();
        pos = next + 1;
        if (blank) break;
      }
      continue;
    }
    if (!words.empty() && words[0].front() == '#') continue;
    cleaned.append(line);
    cleaned += '\n';
  }
  auto tokens = split_whitespace(cleaned);
  NetrcEntry* current = nullptr;
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string_view token = tokens[i];
    bool has_value = i + 1 < tokens.size();
    if (token == "machine" && has_value) {
      entries.push_back({std::string(tokens[++i]), "", ""});
      current = &entries.back();
    } else if (token == "default") {
      entries.push_back({"", "", ""});
      current = &entries.back();
    } else if (token == "login" && has_value) {
      if (current != nullptr) current->login = std::string(tokens[i + 1]);
      ++i;
    } else if (token == "password" && has_value) {
      if (current != nullptr) current->password = std::string(tokens[i + 1]);
      ++i;
    } else if (token == "account" && has_value) {
      ++i;
    }
  }
  return entries;
}

std::optional<NetrcEntry> netrc_lookup(const std::vector<NetrcEntry>& entries,
                                       std::string_view host) {
  for (const auto& entry : entries) {
    if (!entry.machine.empty() && equals_ignoring_case(entry.machine, host)) return entry;
  }
  for (const auto& entry : entries) {
    if (entry.machine.empty()) return entry;
  }
  return std::nullopt;
}

std::vector<KnownHost> parse_known_hosts(std::string_view text) {
  std::vector<KnownHost> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    auto words = split_whitespace(text.substr(pos, end - pos));
    pos = end + 1;
    if (words.empty() || words[0].front() == '#') continue;
    KnownHost entry;
    size_t i = 0;
    if (words[0].front() == '@') {
      // @cert-authority keys sign host certificates; we do not verify certificates, so such
      // a line must not make any plain key acceptable.
      if (words[0] != "@revoked") continue;
      entry.revoked = true;
      i = 1;
    }
    if (words.size() < i + 3) continue;
    std::string_view hosts = words[i];
    size_t start = 0;
    while (start <= hosts.size()) {
      size_t comma = hosts.find(',', start);
      if (comma == std::string_view::npos) comma = hosts.size();
      if (comma > start) entry.patterns.emplace_back(hosts.substr(start, comma - start));
      start = comma + 1;
    }
    entry.key_type = std::string(words[i + 1]);
    auto key = base64_decode(words[i + 2]);
    if (!key || key->empty()) continue;
    entry.key = std::move(*key);
    out.push_back(std::move(entry));
  }
  return out;
}

std::string known_hosts_name(std::string_view host, int port) {
  if (port == 0 || port == 22) return std::string(host);
  return "[" + std::string(host) + "]:" + std::to_string(port);
}

bool known_host_matches(const KnownHost& entry, std::string_view name) {
  for (const auto& pattern : entry.patterns) {
    if (pattern.rfind("|1|", 0) == 0) {
      // |1|base64(salt)|base64(HMAC-SHA1(salt, name))
      std::string_view rest = std::string_view(pattern).substr(3);
      size_t bar = rest.find('|');
      if (bar == std::string_view::npos) continue;
      auto salt = base64_decode(rest.substr(0, bar));
      auto hash = base64_decode(rest.substr(bar + 1));
      if (salt && hash && hmac_sha1(*salt, name) == *hash) return true;
    } else if (pattern.front() != '!' && equals_ignoring_case(pattern, name)) {
      return true;
    }
  }
  return false;
}

HostKeyVerdict check_host_key(const std::vector<KnownHost>& known, std::string_view name,
                              const PresentedKey& key) {
  bool host_listed = false;
  bool matched = false;
  for (const auto& entry : known) {
    if (!known_host_matches(entry, name)) continue;
    host_listed = true;
    bool same = false;
    if (!key.raw.empty()) {
      same = entry.key == key.raw && (key.key_type.empty() || key.key_type == entry.key_type);
    } else if (!key.sha256.empty()) {
      same = sha256_bytes(entry.key) == key.sha256;
    }
    if (same && entry.revoked) return HostKeyVerdict::kMismatch;
    if (same) matched = true;
  }
  if (matched) return HostKeyVerdict::kMatch;
  return host_listed ? HostKeyVerdict::kMismatch : HostKeyVerdict::kUnknownHost;
}

}  // namespace git

GitAuth GitAuth::from_environment() {
  auto env = [](const char* name) -> std::string {
    const char* value = std::getenv(name);
    return value == nullptr ? std::string() : std::string(value);
  };
  std::filesystem::path home = env("HOME");
  GitAuth auth;
  std::string token = env("PLUMBLINE_GIT_TOKEN");
  auth.username = env("PLUMBLINE_GIT_USERNAME");
  if (!token.empty()) {
    if (auth.username.empty()) auth.username = "x-access-token";  // GitHub/Gitea convention
    auth.password = token;
  } else {
    auth.password = env("PLUMBLINE_GIT_PASSWORD");
  }
  std::string netrc = env("PLUMBLINE_GIT_NETRC");
  if (!netrc.empty()) {
    auth.netrc_file = netrc;
  } else if (!home.empty()) {
    auth.netrc_file = home / ".netrc";
  }
  auth.ssh_key_file = env("PLUMBLINE_GIT_SSH_KEY");
  auth.ssh_key_passphrase = env("PLUMBLINE_GIT_SSH_PASSPHRASE");
  auth.host = env("PLUMBLINE_GIT_HOST");
  std::string known_hosts = env("PLUMBLINE_GIT_KNOWN_HOSTS");
  if (!known_hosts.empty()) {
    auth.known_hosts_file = known_hosts;
  } else if (!home.empty()) {
    auth.known_hosts_file = home / ".ssh" / "known_hosts";
  }
  return auth;
}

}  // namespace plumbline
