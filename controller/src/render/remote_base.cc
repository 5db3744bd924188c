// kustomize's remote base URLs (its api/internal/git/repospec.go grammar, re-read): scheme,
// user, host, the repository path and the directory in it, and the query.
#include "plumbline/render/remote_base.h"

#include <array>
#include <cctype>

#include "plumbline/core/mask.h"
#include "plumbline/core/strings.h"

namespace plumbline {
namespace {

constexpr std::array<std::string_view, 5> kSchemes = {"https://", "http://", "ssh://", "file://",
                                                      "git://"};

std::string_view strip_forced_git(std::string_view entry) {
  return starts_with_ignoring_case(entry, "git::") ? entry.substr(5) : entry;
}

// "https://", … when `entry` starts with one we fetch; "" otherwise.
std::string_view scheme_of(std::string_view entry) {
  for (std::string_view scheme : kSchemes) {
    if (starts_with_ignoring_case(entry, scheme)) return scheme;
  }
  return {};
}

// kustomize's user names: a letter, then letters, digits and '-', then '@'.
size_t user_length(std::string_view text) {
  if (text.empty() || !std::isalpha(static_cast<unsigned char>(text[0]))) return 0;
  size_t i = 1;
  while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '-'))
    ++i;
  return i < text.size() && text[i] == '@' ? i + 1 : 0;
}

bool is_github(std::string_view text) {
  return starts_with_ignoring_case(text, "github.com/") ||
         starts_with_ignoring_case(text, "github.com:");
}

// "v1%2E0" -> "v1.0"; a '%' not followed by two hex digits is an error.
Result<std::string> percent_decode(std::string_view text, std::string_view entry) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i] == '+' ? ' ' : text[i];
      continue;
    }
    if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      return invalid_input("malformed %-escape in the query", std::string(entry));
    }
    out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

Status parse_query(std::string_view query, std::string_view shown, RemoteBase& base) {
  std::string ref, version;
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view raw = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    PL_ASSIGN_OR_RETURN(std::string value, percent_decode(raw, shown));
    if (key == "ref") {
      ref = value;
    } else if (key == "version") {
      version = value;
    } else if (key != "timeout" && key != "submodules") {
      return invalid_input("unknown query parameter '" + std::string(key) +
                               "' (kustomize reads ref, version, timeout and submodules)",
                           std::string(shown));
    }
  }
  base.ref = ref.empty() ? version : ref;  // ref wins, as in kustomize
  if (base.ref.starts_with("-")) {
    return invalid_input("ref '" + base.ref + "' starts with '-'", std::string(shown));
  }
  return {};
}

// Splits "org/repo.git//dir" into the repository path and the directory in it.
Result<std::pair<std::string, std::string>> split_repository(std::string_view rest, bool file,
                                                             std::string_view shown) {
  std::string_view repo, dir;
  if (size_t git_root = rest.find("_git/"); git_root != std::string_view::npos) {
    size_t next = rest.find('/', git_root + 5);
    repo = rest.substr(0, next);
    dir = next == std::string_view::npos ? "" : rest.substr(next + 1);
  } else if (size_t marker = rest.find("//"); marker != std::string_view::npos) {
    repo = rest.substr(0, marker);
    dir = rest.substr(marker + 2);
  } else if (size_t suffix = rest.find(".git");
             suffix != std::string_view::npos &&
             (suffix + 4 == rest.size() || rest[suffix + 4] == '/')) {
    repo = rest.substr(0, suffix + 4);
    dir = rest.substr(suffix + 4);
  } else if (file) {
    repo = rest;
  } else {
    // No marker: kustomize's historical default, two segments (org/repo).
    size_t first = rest.find('/');
    size_t second = first == std::string_view::npos ? first : rest.find('/', first + 1);
    if (first == std::string_view::npos || first == 0 || first + 1 == rest.size()) {
      return invalid_input(
          "no repository path after the host (org/repo, or mark its end with '//' or '.git')",
          std::string(shown));
    }
    repo = rest.substr(0, second);
    dir = second == std::string_view::npos ? "" : rest.substr(second + 1);
  }
  while (!repo.empty() && repo.back() == '/') repo.remove_suffix(1);
  if (repo.empty() && !file) {
    return invalid_input("no repository path after the host", std::string(shown));
  }
  auto normalized = join_tree_path("", dir.starts_with("/") ? dir.substr(1) : dir);
  if (!normalized) {
    return invalid_input("the directory '" + std::string(dir) + "' leaves the repository",
                         std::string(shown));
  }
  return std::pair{std::string(repo), std::move(*normalized)};
}

}  // namespace

bool is_remote_base(std::string_view entry) {
  std::string_view rest = strip_forced_git(entry);
  if (rest.size() != entry.size()) return true;
  if (size_t sep = rest.find("://"); sep != std::string_view::npos) {
    bool word = sep > 0;
    for (size_t i = 0; i < sep; ++i) {
      char c = rest[i];
      word =
          word && (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.');
    }
    if (word) return true;
  }
  if (is_github(rest)) return true;
  // user@host:path or user@host/org/repo: remote only when it parses (else a local path, as
  // kustomize falls back to one).
  return user_length(rest) > 0 && parse_remote_base(entry).ok();
}

Result<RemoteBase> parse_remote_base(std::string_view entry) {
  const std::string shown = redact_url(entry);
  if (entry.empty()) return invalid_input("empty remote base URL");
  for (char c : entry) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == ' ') {
      return invalid_input("a remote base URL holds no spaces or control characters", shown);
    }
  }
  std::string_view text = strip_forced_git(entry);
  std::string_view query;
  if (size_t q = text.find('?'); q != std::string_view::npos) {
    query = text.substr(q + 1);
    text = text.substr(0, q);
  }
  RemoteBase base;
  PL_RETURN_IF_ERROR(parse_query(query, shown, base));

  std::string scheme = to_lower_ascii(scheme_of(text));
  if (scheme.empty()) {
    if (size_t sep = text.find("://"); sep != std::string_view::npos) {
      return invalid_input("unsupported scheme '" + std::string(text.substr(0, sep)) +
                               "' (https, http, ssh, git or file)",
                           shown);
    }
  }
  text.remove_prefix(scheme.size());
  std::string user(text.substr(0, user_length(text)));
  text.remove_prefix(user.size());
  const bool github = is_github(text);
  const bool scp = scheme.empty() && (!user.empty() || github);
  if (scheme.empty() && !scp) {
    return invalid_input("not a URL (give a scheme such as https://, or user@host:path)", shown);
  }
  if (scheme == "file://") {
    // Everything after file:// is the repository's path on this machine.
    std::string rest = user + std::string(text);
    PL_ASSIGN_OR_RETURN(auto parts, split_repository(rest, true, shown));
    if (parts.first.empty()) {
      return invalid_input("no repository path after file://", shown);
    }
    base.repo = scheme + parts.first;
    base.path = std::move(parts.second);
    return base;
  }
  size_t sep = text.find('/');
  if (scp) {
    size_t colon = text.find(':');
    if (sep == std::string_view::npos ||
        (colon != std::string_view::npos && colon > 0 && colon < sep))
      sep = colon;
  }
  if (sep == 0 || sep == std::string_view::npos) {
    return invalid_input(sep == 0 ? "no host" : "no repository path after the host", shown);
  }
  std::string host(text.substr(0, sep + 1));  // with its separator: "host/" or "host:"
  std::string_view rest = text.substr(sep + 1);
  if (github) {
    // kustomize's GitHub rule: SSH when a user or ssh:// is given, else https.
    if (scheme == "ssh://" || !user.empty()) {
      scheme.clear();
      if (user.empty()) user = "git@";
      host = "github.com:";
    } else {
      scheme = "https://";
      host = "github.com/";
    }
  }
  PL_ASSIGN_OR_RETURN(auto parts, split_repository(rest, false, shown));
  base.repo = scheme + user + host + parts.first;
  base.path = std::move(parts.second);
  return base;
}

std::string RemoteBase::display() const {
  return redact_url(repo) + "//" + path + (ref.empty() ? "" : " (ref " + ref + ")");
}

bool is_pinned(const RemoteBase& base, const FetchedRepository& fetched) {
  if (base.ref.empty()) return false;
  return fetched.resolved_ref.starts_with("refs/tags/") ||
         (!fetched.revision.empty() && fetched.resolved_ref == fetched.revision);
}

Result<FetchedRepository> MemoryRemoteBases::fetch(const RemoteBase& base) {
  ++fetches;
  auto it = repositories_.find({base.repo, base.ref});
  if (it == repositories_.end()) {
    return not_found("no such repository or ref" + (base.ref.empty() ? "" : " '" + base.ref + "'"),
                     redact_url(base.repo));
  }
  return it->second;
}

}  // namespace plumbline
