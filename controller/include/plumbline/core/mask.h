// plumbline/core/mask.h — secret values never leave plumbline.
//
// Values of env vars whose names look secret, values that hold a URL with credentials, and
// all Secret data are replaced by
// "<redacted sha256:1a2b3c4d>" (the first 8 hex digits of the value's SHA-256), so equal
// values give equal digests and a change still shows, but the value does not.
//
//   if (is_secret_name("DB_PASSWORD", opts)) value = redact(value);
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/object.h"

namespace plumbline {

struct MaskOptions {
  // Case-insensitive substrings of env var names whose values are secret.
  // "PASS" covers PASSWORD, PASSWD, DB_PASS and *_PASSPHRASE; "PWD" MYSQL_PWD and *_PWD.
  // Masking a harmless value (BYPASS_CACHE) costs nothing: a change still shows by digest.
  std::vector<std::string> secret_name_patterns = {"PASS", "PWD",  "SECRET",  "TOKEN",
                                                   "KEY",  "CRED", "PRIVATE", "AUTH",
                                                   "CERT", "SALT", "DSN",     "SIGNATURE"};
};

bool is_secret_name(std::string_view name, const MaskOptions& options = {});

// A URL as plumbline may print or store it: no userinfo in any form (`user:pass@`, `TOKEN@`,
// a password holding '/' or '@') and every query value `<redacted>`; scp-like addresses and
// paths unchanged. "https://u:p@git.example/ops.git?token=t" ->
// "https://git.example/ops.git?token=<redacted>".
std::string redact_url(std::string_view url);
// The userinfo of a URL by the rule redact_url removes it ("u:p" of https://u:p@h/x), or "".
std::string_view url_userinfo(std::string_view url);
// Every `scheme://…` in a free text (an error message from libgit2 or a server) redacted.
std::string redact_urls_in(std::string_view text);
// Whether the text holds a URL with userinfo or a query (DATABASE_URL=postgres://u:p@h/db).
bool url_has_credentials(std::string_view text);

// "<redacted sha256:xxxxxxxx>" of the value's text (JSON dump for non-strings).
std::string redact(std::string_view value);
json redact_value(const json& value);

// A copy of an object with Secret data/stringData and secret-named env values redacted
// (pod templates of any workload kind). Used before printing whole objects.
json mask_object(const json& object, const MaskOptions& options = {});
// Whether mask_object would change the object (without copying it): what must never be
// written where plumbline keeps data (the parse cache's files).
bool holds_masked_value(const json& object, const MaskOptions& options = {});

}  // namespace plumbline
