// git/credentials.h — internal, pure: netrc and known_hosts parsing and the host-key decision.
// Kept free of libgit2 types so the fail-closed rules are unit-tested without a server.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/error.h"

namespace plumbline::git {

struct NetrcEntry {
  std::string machine;  // empty for the "default" entry
  std::string login;
  std::string password;
};

// Parses "machine H login U password P" entries (any whitespace, one or many lines), "default",
// and skips "account" values and "macdef" bodies (which run to the next blank line).
std::vector<NetrcEntry> parse_netrc(std::string_view text);

// The entry for `host` (exact, case-insensitive), else the "default" entry.
std::optional<NetrcEntry> netrc_lookup(const std::vector<NetrcEntry>& entries,
                                       std::string_view host);

struct KnownHost {
  std::vector<std::string> patterns;  // "host", "[host]:port", or one hashed "|1|salt|hash"
  std::string key_type;               // "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa", …
  std::string key;                    // raw key bytes (base64-decoded)
  bool revoked = false;               // "@revoked" marker
};

// Parses OpenSSH known_hosts text. Comments, blank lines, @cert-authority lines and lines that
// do not parse are skipped (they can never make a key acceptable).
std::vector<KnownHost> parse_known_hosts(std::string_view text);

// "host" for port 22, else "[host]:port" — the name OpenSSH writes into known_hosts.
std::string known_hosts_name(std::string_view host, int port);

// Whether an entry's patterns name `name` (plain, comma list, or |1| HMAC-SHA1 hashed). No
// wildcards: a wildcard entry would let one key vouch for hosts nobody listed explicitly.
bool known_host_matches(const KnownHost& entry, std::string_view name);

enum class HostKeyVerdict { kMatch, kUnknownHost, kMismatch };

// The key the server presented: raw bytes when available, else its SHA-256 digest.
struct PresentedKey {
  std::string key_type;  // may be empty when libgit2 did not say
  std::string raw;       // raw key blob, or empty
  std::string sha256;    // 32-byte digest, or empty
};

// kMatch only when a non-revoked entry for `name` carries the same key. An entry for the host
// with a different key, or a revoked matching key, is kMismatch; no entry at all is
// kUnknownHost. Both non-match verdicts must fail the connection.
HostKeyVerdict check_host_key(const std::vector<KnownHost>& known, std::string_view name,
                              const PresentedKey& key);

// Host names compare case-insensitively.
bool same_host(std::string_view a, std::string_view b);

// Why credentials may not be sent to `asked_url`, the URL libgit2 asks them for (after any
// redirect); nullopt when they may. Refused: a host other than `bound_host` (case-insensitive),
// and http:// unless `allow_cleartext`.
std::optional<std::string> credential_refusal(std::string_view asked_url,
                                              std::string_view bound_host, bool allow_cleartext);

}  // namespace plumbline::git
