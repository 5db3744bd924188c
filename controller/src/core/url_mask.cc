// Credentials in URLs: the userinfo of `scheme://userinfo@host/…` and the values of query
// parameters are removed from every URL plumbline prints or stores (see mask.h).
#include <cctype>
#include <string>

#include "plumbline/core/mask.h"

namespace plumbline {
namespace {

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// Where the userinfo of `rest` (the URL after "scheme://") ends: the position of its '@', or
// npos. Passwords may hold '/', '@' or ':' unencoded (git and curl accept them), so the last
// '@' before the query is taken — unless what precedes it reads as host and path
// ("host/org/repo@v1", "host:8080/repo@v1"), where the '@' belongs to the path.
size_t userinfo_end(std::string_view rest) {
  size_t query = rest.find_first_of("?#");
  size_t at = rest.substr(0, query).rfind('@');
  if (at == std::string_view::npos) return at;
  std::string_view candidate = rest.substr(0, at);
  size_t slash = candidate.find('/');
  if (slash == std::string_view::npos) return at;  // user@, TOKEN@, user:pass@
  size_t colon = candidate.find(':');
  if (colon == std::string_view::npos || colon > slash) return std::string_view::npos;
  // "user:pa/ss@" is a password with a slash; "host:8080/x@" is a port and a path.
  return all_digits(candidate.substr(colon + 1, slash - colon - 1)) ? std::string_view::npos : at;
}

// "a=1&token=x" -> "a=<redacted>&token=<redacted>": any parameter may carry a credential
// (token=, access_token=, X-Amz-Signature=, …) and none is needed to name the repository.
std::string redact_query(std::string_view query) {
  std::string out;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(start, end - start);
    if (!out.empty()) out += '&';
    size_t eq = pair.find('=');
    out += std::string(pair.substr(0, eq));
    if (eq != std::string_view::npos) out += "=<redacted>";
    start = end + 1;
  }
  return out;
}

bool is_scheme_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
}

}  // namespace

std::string_view url_userinfo(std::string_view url) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return {};
  std::string_view rest = url.substr(sep + 3);
  size_t at = userinfo_end(rest);
  return at == std::string_view::npos ? std::string_view() : rest.substr(0, at);
}

std::string redact_url(std::string_view url) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return std::string(url);  // scp-like or a path
  std::string out(url.substr(0, sep + 3));
  std::string_view rest = url.substr(sep + 3);
  if (size_t at = userinfo_end(rest); at != std::string_view::npos) rest.remove_prefix(at + 1);
  size_t query = rest.find('?');
  size_t fragment = rest.find('#', query == std::string_view::npos ? 0 : query);
  out += std::string(rest.substr(0, std::min(query, fragment)));
  if (query != std::string_view::npos) {
    out += '?';
    out += redact_query(rest.substr(query + 1, fragment == std::string_view::npos
                                                   ? std::string_view::npos
                                                   : fragment - query - 1));
  }
  return out;
}

bool url_has_credentials(std::string_view text) { return redact_urls_in(text) != text; }

std::string redact_urls_in(std::string_view text) {
  std::string out;
  size_t done = 0;
  for (size_t sep = text.find("://"); sep != std::string_view::npos;
       sep = text.find("://", sep + 3)) {
    size_t start = sep;
    while (start > done && is_scheme_char(text[start - 1])) --start;
    if (start == sep) continue;  // "://" without a scheme
    size_t end = text.find_first_of(" \t\r\n\"'<>`", sep);
    if (end == std::string_view::npos) end = text.size();
    out += std::string(text.substr(done, start - done));
    out += redact_url(text.substr(start, end - start));
    done = end;
    sep = end > 3 ? end - 3 : end;
  }
  out += std::string(text.substr(done));
  return out;
}

}  // namespace plumbline
