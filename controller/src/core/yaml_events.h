// core/yaml_events.h — libyaml's event parser, feeding the same handler as yaml-cpp's.
//
// yaml-cpp 0.7's scanner costs about 3x libyaml's on the same bytes, and in a render of
// thousands of workloads it is most of the time; libyaml reads well-formed YAML and yaml-cpp
// stays the reference for everything else (see parse_yaml_documents).
#pragma once

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/mark.h>

#include <string_view>

namespace plumbline::yaml_events {

// Feeds `handler` the events yaml-cpp's parser would give for `text`: the same marks,
// non-specific tags ("?" plain, "!" otherwise), OnNull for plain null scalars and empty nodes,
// anchor ids numbered per document. Returns false, having fed part of the events, when
// libyaml refuses the text or it uses an undefined alias: the caller starts over with
// yaml-cpp, whose error messages the loader reports. Exceptions from the handler propagate.
bool parse(std::string_view text, YAML::EventHandler& handler);

}  // namespace plumbline::yaml_events
