#include "plumbline/git/repo_location.h"

#include <cctype>
#include <cstdlib>

#include "plumbline/core/digest.h"
#include "plumbline/core/mask.h"
#include "plumbline/core/strings.h"

namespace plumbline::git {
namespace {

// Splits "host:port" (the authority of a URL without its userinfo). Errors name loc.display,
// which has no userinfo.
Status parse_authority(std::string_view hostport, RepoLocation& loc) {
  if (!hostport.empty() && hostport.front() == '[') {  // [::1]:8080
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) return invalid_input("bad IPv6 host in URL", loc.display);
    loc.host = std::string(hostport.substr(1, close - 1));
    hostport = hostport.substr(close + 1);
    if (!hostport.empty() && hostport.front() == ':') {
      hostport.remove_prefix(1);
      loc.port = std::atoi(std::string(hostport).c_str());
    }
  } else if (size_t colon = hostport.rfind(':'); colon != std::string_view::npos) {
    loc.host = std::string(hostport.substr(0, colon));
    std::string port(hostport.substr(colon + 1));
    if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos) {
      return invalid_input("bad port '" + port + "' in URL", loc.display);
    }
    loc.port = std::atoi(port.c_str());
  } else {
    loc.host = std::string(hostport);
  }
  if (loc.host.empty()) return invalid_input("URL has no host", loc.display);
  return {};
}

}  // namespace

Result<RepoLocation> classify_repo(std::string_view repo) {
  RepoLocation loc;
  loc.url = std::string(repo);
  loc.display = redact_url(repo);  // before anything can fail: errors name only this form
  if (repo.empty()) return invalid_input("no repository given");

  if (size_t sep = repo.find("://"); sep != std::string_view::npos) {
    std::string scheme = to_lower_ascii(repo.substr(0, sep));
    std::string_view rest = repo.substr(sep + 3);
    // The userinfo by redact_url's rule (a password may hold '/' or '@'); the password is not
    // kept, because nothing downstream may print it.
    std::string_view userinfo = url_userinfo(repo);
    if (!userinfo.empty() || (!rest.empty() && rest.front() == '@'))
      rest.remove_prefix(userinfo.size() + 1);
    loc.user = std::string(userinfo.substr(0, userinfo.find(':')));
    std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    if (scheme == "file") {
      loc.kind = RepoKind::kFile;
      return loc;
    }
    if (scheme == "http") {
      loc.kind = RepoKind::kHttp;
      loc.port = 80;
    } else if (scheme == "https") {
      loc.kind = RepoKind::kHttps;
      loc.port = 443;
    } else if (scheme == "git") {
      loc.kind = RepoKind::kGit;
      loc.port = 9418;
    } else if (scheme == "ssh" || scheme == "ssh+git" || scheme == "git+ssh") {
      loc.kind = RepoKind::kSsh;
      loc.port = 22;
    } else {
      return invalid_input("unsupported URL scheme '" + scheme +
                               "' (use https://, http://, ssh://, git://, file:// or a path)",
                           std::string(repo));
    }
    PL_RETURN_IF_ERROR(parse_authority(authority, loc));
    return loc;
  }

  // scp-like: a ':' before any '/' (git's rule); "./a:b" and "/a:b" stay local paths.
  size_t colon = repo.find(':');
  size_t slash = repo.find('/');
  if (colon != std::string_view::npos && colon > 0 &&
      (slash == std::string_view::npos || colon < slash)) {
    loc.kind = RepoKind::kSsh;
    loc.port = 22;
    std::string_view userhost = repo.substr(0, colon);
    if (size_t at = userhost.rfind('@'); at != std::string_view::npos) {
      loc.user = std::string(userhost.substr(0, at));
      userhost = userhost.substr(at + 1);
    }
    loc.host = std::string(userhost);
    if (loc.host.empty()) return invalid_input("SSH address has no host", loc.display);
    return loc;
  }
  loc.kind = RepoKind::kLocalPath;
  return loc;
}

std::string cache_entry_name(std::string_view display_url) {
  // Drop the scheme so the readable part starts with the host.
  std::string_view readable = display_url;
  if (size_t sep = readable.find("://"); sep != std::string_view::npos) {
    readable.remove_prefix(sep + 3);
  }
  std::string name;
  for (char c : readable) {
    bool safe = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    char out = safe ? c : '-';
    if (out == '-' && !name.empty() && name.back() == '-') continue;  // collapse runs
    name += out;
    if (name.size() >= 60) break;  // stay far below NAME_MAX with the hash
  }
  while (!name.empty() && (name.front() == '-' || name.front() == '.')) name.erase(0, 1);
  while (!name.empty() && name.back() == '-') name.pop_back();
  if (!name.empty()) name += '-';
  return name + sha256_hex(display_url).substr(0, 16);
}

std::filesystem::path default_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && xdg[0] == '/') {
    return std::filesystem::path(xdg) / "plumbline" / "git";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] != '\0') {
    return std::filesystem::path(home) / ".cache" / "plumbline" / "git";
  }
  std::error_code ec;
  return std::filesystem::temp_directory_path(ec) / "plumbline-git-cache";
}

}  // namespace plumbline::git

namespace plumbline::git {

std::string repository_identity(std::string_view url) {
  Result<RepoLocation> loc = classify_repo(url);
  if (!loc.ok() || loc->host.empty()) return "";
  // The path after the authority (URLs; display has no userinfo) or after the ':' (scp-like).
  std::string_view display = loc->display;
  std::string_view path;
  if (size_t sep = display.find("://"); sep != std::string_view::npos) {
    std::string_view rest = display.substr(sep + 3);
    size_t slash = rest.find('/');
    path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    path = path.substr(0, path.find_first_of("?#"));
  } else {
    path = display.substr(display.find(':') + 1);
  }
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.size() >= 4 && to_lower_ascii(path.substr(path.size() - 4)) == ".git")
    path.remove_suffix(4);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.empty()) return "";
  return to_lower_ascii(loc->host) + "/" + to_lower_ascii(path);
}

}  // namespace plumbline::git
