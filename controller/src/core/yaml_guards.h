// core/yaml_guards.h — the checks on a YAML text before either parser reads it (yaml.cc).
#pragma once

#include <string_view>

#include "plumbline/core/error.h"

namespace plumbline::yaml_guards {

// A NUL byte (binary, or UTF-16/32) is refused: YAML forbids it and yaml-cpp loops on it.
Status check_no_nul(std::string_view text, std::string_view file);
// Invalid UTF-8 (overlong forms and surrogates included) is refused, naming the line.
Status check_utf8(std::string_view text, std::string_view file);
// Flow collections nested deeper than 256 levels are refused (yaml-cpp recurses per level).
Status check_flow_depth(std::string_view text, std::string_view file);

}  // namespace plumbline::yaml_guards
