// plumbline/mask.h — secret values never leave plumbline.
//
// Values of env vars whose names look secret and all Secret data are replaced by
// "<redacted sha256:1a2b3c4d>" (the first 8 hex digits of the value's SHA-256), so equal
// values give equal digests and a change still shows, but the value does not.
//
//   if (is_secret_name("DB_PASSWORD", opts)) value = redact(value);
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plumbline/object.h"

namespace plumbline {

struct MaskOptions {
  // Case-insensitive substrings of env var names whose values are secret.
  std::vector<std::string> secret_name_patterns = {"PASSWORD", "PASSWD",     "SECRET",  "TOKEN",
                                                   "KEY",      "CREDENTIAL", "PRIVATE", "AUTH",
                                                   "CERT",     "SALT",       "DSN"};
};

bool is_secret_name(std::string_view name, const MaskOptions& options = {});

// "<redacted sha256:xxxxxxxx>" of the value's text (JSON dump for non-strings).
std::string redact(std::string_view value);
json redact_value(const json& value);

// A copy of an object with Secret data/stringData and secret-named env values redacted
// (pod templates of any workload kind). Used before printing whole objects.
json mask_object(const json& object, const MaskOptions& options = {});

}  // namespace plumbline
