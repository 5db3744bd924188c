#include "plumbline/core/path.h"

#include <algorithm>

#include "plumbline/core/field_table.h"
#include "plumbline/core/utf8.h"

namespace plumbline::path {
namespace {

bool needs_quotes(std::string_view name) {
  return name.empty() || name.find_first_of(".[]'\\") != std::string_view::npos;
}

std::string escape_bracket(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// Glob match where '*' matches any run of characters (segments are matched one by one).
bool glob(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool segment_matches(const Segment& pattern, const Segment& segment) {
  using K = Segment::Kind;
  if (pattern.kind == K::kElement && pattern.value == "*") {
    return segment.kind == K::kKeyed || segment.kind == K::kElement;  // list[*]
  }
  if (pattern.kind != segment.kind) return false;
  switch (pattern.kind) {
    case K::kField:
      return glob(pattern.name, segment.name);
    case K::kKeyed:
      return glob(pattern.key, segment.key) && glob(pattern.value, segment.value);
    case K::kElement:
      return glob(pattern.value, segment.value);
  }
  return false;
}

}  // namespace

ListRule list_rule(std::string_view parent_field, std::string_view name) {
  // The compared fields' own lists (env, sysctls, supplementalGroups) and the container lists
  // come from the field table; the rest are lists met inside compared fields.
  if (is_container_list(name)) return {ListKind::kKeyed, kContainerKey};
  for (const ComparedField& f : compared_fields()) {
    if (f.list.kind != ListKind::kAtomic && f.name == name) return f.list;
  }
  static constexpr std::string_view kByName[] = {"volumes", "imagePullSecrets", "resourceClaims"};
  if (name == "hostAliases") return {ListKind::kKeyed, "ip"};
  if (std::find(std::begin(kByName), std::end(kByName), name) != std::end(kByName)) {
    return {ListKind::kKeyed, "name"};
  }
  if (name == "ports") return {ListKind::kKeyed, "containerPort"};
  if (name == "volumeMounts") return {ListKind::kKeyed, "mountPath"};
  if (name == "volumeDevices") return {ListKind::kKeyed, "devicePath"};
  if ((name == "add" || name == "drop") && parent_field == "capabilities")
    return {ListKind::kSet, {}};
  return {ListKind::kAtomic, {}};
}

ApiList api_list(std::string_view field) {
  static constexpr std::string_view kByName[] = {"containers", "initContainers",
                                                 "ephemeralContainers", "env", "volumes"};
  if (std::find(std::begin(kByName), std::end(kByName), field) != std::end(kByName)) {
    return {true, "name"};
  }
  return {false, {}};  // add/drop, sysctls, supplementalGroups, envFrom, args, …: atomic
}

std::string field(std::string_view base, std::string_view name) {
  std::string out(base);
  if (needs_quotes(name)) {
    out += "['";
    for (char c : name) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    out += "']";
    return out;
  }
  if (!out.empty()) out += '.';
  out += name;
  return out;
}

std::string keyed(std::string_view base, std::string_view key, std::string_view value) {
  std::string out(base);
  out += '[';
  out += key;
  out += '=';
  out += escape_bracket(value);
  out += ']';
  return out;
}

std::string element(std::string_view base, std::string_view value) {
  std::string out(base);
  out += '[';
  out += escape_bracket(value);
  out += ']';
  return out;
}

std::string index(std::string_view base, size_t i) { return element(base, std::to_string(i)); }

const json* element_identity(const ListRule& rule, const json& element) {
  if (rule.kind == ListKind::kKeyed && element.is_object()) {
    auto key = element.find(rule.key);
    return key == element.end() ? nullptr : &*key;
  }
  if (rule.kind == ListKind::kSet && !element.is_structured()) return &element;
  return nullptr;
}

std::string list_element(std::string_view base, const ListRule& rule, const json* identity,
                         size_t i) {
  if (identity == nullptr) return index(base, i);
  if (rule.kind == ListKind::kKeyed) return keyed(base, rule.key, key_text(*identity));
  return element(base, key_text(*identity));
}

std::string key_text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  return to_json_text(value);
}

Result<std::vector<Segment>> parse(std::string_view text) {
  std::vector<Segment> out;
  size_t i = 0;
  auto fail = [&](std::string what) {
    return invalid_input(what + " at offset " + std::to_string(i) + " in path '" +
                         std::string(text) + "'");
  };
  while (i < text.size()) {
    if (text[i] == '.') {
      if (out.empty() || i + 1 >= text.size()) return fail("unexpected '.'");
      ++i;
    }
    if (text[i] == '[') {
      ++i;
      if (i < text.size() && text[i] == '\'') {  // ['quoted.field']
        ++i;
        Segment seg;
        while (i < text.size() && text[i] != '\'') {
          if (text[i] == '\\' && i + 1 < text.size()) ++i;
          seg.name += text[i++];
        }
        if (i + 1 >= text.size() || text[i + 1] != ']') return fail("unterminated ['...']");
        i += 2;
        out.push_back(std::move(seg));
        continue;
      }
      if (out.empty()) return fail("a path cannot start with '['");
      std::string body;
      bool closed = false;
      size_t eq = std::string::npos;
      while (i < text.size()) {
        char c = text[i++];
        if (c == '\\' && i < text.size()) {
          body += text[i++];
          continue;
        }
        if (c == ']') {
          closed = true;
          break;
        }
        if (c == '=' && eq == std::string::npos) eq = body.size();
        body += c;
      }
      if (!closed) return fail("unterminated '['");
      Segment seg;
      if (eq != std::string::npos) {
        seg.kind = Segment::Kind::kKeyed;
        seg.key = body.substr(0, eq);
        seg.value = body.substr(eq + 1);
      } else {
        seg.kind = Segment::Kind::kElement;
        seg.value = body;
      }
      out.push_back(std::move(seg));
      continue;
    }
    size_t end = text.find_first_of(".[", i);
    if (end == std::string_view::npos) end = text.size();
    if (end == i) return fail("empty field name");
    Segment seg;
    seg.name = std::string(text.substr(i, end - i));
    out.push_back(std::move(seg));
    i = end;
  }
  if (out.empty()) return invalid_input("empty path");
  return out;
}

bool matches(std::string_view pattern, std::string_view target) {
  auto pat = parse(pattern);
  auto segs = parse(target);
  if (!pat || !segs || pat->size() > segs->size()) return false;
  for (size_t i = 0; i < pat->size(); ++i) {
    if (!segment_matches((*pat)[i], (*segs)[i])) return false;
  }
  return true;
}

std::optional<json::json_pointer> resolve(const json& object, std::string_view text) {
  auto segs = parse(text);
  if (!segs) return std::nullopt;
  json::json_pointer ptr;
  const json* node = &object;
  for (const Segment& seg : *segs) {
    if (seg.kind == Segment::Kind::kField) {
      if (!node->is_object()) return std::nullopt;
      auto it = node->find(seg.name);
      if (it == node->end()) return std::nullopt;
      ptr /= seg.name;
      node = &*it;
      continue;
    }
    if (!node->is_array()) return std::nullopt;
    std::optional<size_t> found;
    for (size_t i = 0; i < node->size() && !found; ++i) {
      const json& el = (*node)[i];
      if (seg.kind == Segment::Kind::kKeyed) {
        if (el.is_object() && el.contains(seg.key) && key_text(el[seg.key]) == seg.value) found = i;
      } else if (key_text(el) == seg.value) {
        found = i;
      }
    }
    // A numeric element segment on an atomic list is an index.
    if (!found && seg.kind == Segment::Kind::kElement && !seg.value.empty() &&
        std::all_of(seg.value.begin(), seg.value.end(), ::isdigit)) {
      size_t i = std::stoul(seg.value);
      if (i < node->size()) found = i;
    }
    if (!found) return std::nullopt;
    ptr /= *found;
    node = &(*node)[*found];
  }
  return ptr;
}

std::string from_pointer(const json& object, const json::json_pointer& pointer) {
  std::vector<std::string> tokens;
  for (json::json_pointer p = pointer; !p.empty(); p = p.parent_pointer())
    tokens.push_back(p.back());
  std::reverse(tokens.begin(), tokens.end());
  std::string out;
  std::string parent_field, last_field;
  const json* node = &object;
  for (const std::string& token : tokens) {
    if (node->is_object()) {
      out = field(out, token);
      parent_field = last_field;
      last_field = token;
      node = &(*node)[token];
    } else if (node->is_array()) {
      size_t i = std::stoul(token);
      if (i >= node->size()) break;
      const json& el = (*node)[i];
      ListRule rule = list_rule(parent_field, last_field);
      out = list_element(out, rule, element_identity(rule, el), i);
      node = &el;
    } else {
      break;
    }
  }
  return out;
}

}  // namespace plumbline::path
