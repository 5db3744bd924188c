// Resource selection for patch and replacement targets.
#include "render/selectors.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

namespace plumbline::renderer {
namespace {

// metadata.labels or metadata.annotations (string values; others are no label).
Labels metadata_map(const json& object, const char* field) {
  Labels out;
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return out;
  auto it = meta->find(field);
  if (it == meta->end() || !it->is_object()) return out;
  for (const auto& [key, value] : it->items()) {
    if (value.is_string()) out[key] = value.get<std::string>();
  }
  return out;
}

}  // namespace

Result<TargetPattern> TargetPattern::compile(const std::string& pattern, const std::string& at,
                                             const std::string& file) {
  if (pattern.empty()) return TargetPattern(nullptr);
  RE2::Options options;
  options.set_log_errors(false);
  options.set_never_capture(true);
  auto re = std::make_unique<RE2>(pattern, options);
  if (!re->ok()) return invalid_input(at + ": bad regular expression: " + re->error(), file);
  return TargetPattern(std::move(re));
}

namespace {

bool selector_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool selector_special(char c) {
  return selector_space(c) || c == '!' || c == '=' || c == ',' || c == '(' || c == ')' ||
         c == '<' || c == '>';
}
bool label_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}
// A label value, or the name part of a key: at most 63 of [A-Za-z0-9-_.], starting and
// ending with a letter or digit ("" only where `empty_ok`).
bool label_name(std::string_view text, bool empty_ok) {
  if (text.empty()) return empty_ok;
  if (text.size() > 63 || !std::isalnum(static_cast<unsigned char>(text.front())) ||
      !std::isalnum(static_cast<unsigned char>(text.back()))) {
    return false;
  }
  return std::all_of(text.begin(), text.end(), label_char);
}
// [prefix/]name with a DNS-subdomain prefix.
bool label_key(std::string_view key) {
  size_t slash = key.rfind('/');
  if (slash == std::string_view::npos) return label_name(key, false);
  std::string_view prefix = key.substr(0, slash);
  bool prefix_ok = !prefix.empty() && prefix.size() <= 253 &&
                   std::all_of(prefix.begin(), prefix.end(), [](char c) {
                     return std::islower(static_cast<unsigned char>(c)) ||
                            std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.';
                   });
  return prefix_ok && label_name(key.substr(slash + 1), false);
}

}  // namespace

Result<LabelSelector> parse_selector(std::string_view text) {
  LabelSelector out;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < text.size() && selector_space(text[i])) ++i;
  };
  auto word = [&] {
    skip_space();
    size_t start = i;
    while (i < text.size() && !selector_special(text[i])) ++i;
    return std::string(text.substr(start, i - start));
  };
  auto fail = [&](const std::string& why) {
    return invalid_input("selector '" + std::string(text) + "': " + why);
  };
  skip_space();
  if (i == text.size()) return out;  // "" selects everything
  while (true) {
    LabelSelector::Requirement r;
    skip_space();
    if (i < text.size() && text[i] == '!') {
      ++i;
      r.key = word();
      r.op = LabelSelector::Op::kDoesNotExist;
    } else {
      r.key = word();
      skip_space();
      std::string_view rest = text.substr(i);
      if (rest.empty() || rest.front() == ',') {
        r.op = LabelSelector::Op::kExists;
      } else if (rest.starts_with("==") || rest.starts_with("=") || rest.starts_with("!=")) {
        r.op = rest.starts_with("!=") ? LabelSelector::Op::kNotIn : LabelSelector::Op::kIn;
        i += rest.starts_with("=") && !rest.starts_with("==") ? 1 : 2;
        r.values.push_back(word());
      } else if (rest.front() == '<' || rest.front() == '>') {
        return fail("the operators < and > are not supported");
      } else {
        std::string op = word();
        if (op != "in" && op != "notin") {
          return fail("expected =, ==, !=, in or notin after '" + r.key + "', got '" + op + "'");
        }
        r.op = op == "in" ? LabelSelector::Op::kIn : LabelSelector::Op::kNotIn;
        skip_space();
        if (i == text.size() || text[i] != '(') return fail("expected '(' after " + op);
        ++i;
        while (true) {
          r.values.push_back(word());
          skip_space();
          if (i < text.size() && text[i] == ',') {
            ++i;
            continue;
          }
          if (i < text.size() && text[i] == ')') {
            ++i;
            break;
          }
          return fail("expected ',' or ')' in the values of '" + r.key + "'");
        }
        if (r.values.size() == 1 && r.values[0].empty()) {
          return fail("'" + op + "' needs at least one value");
        }
      }
    }
    if (!label_key(r.key)) return fail("invalid key '" + r.key + "'");
    for (const std::string& value : r.values) {
      if (!label_name(value, true)) return fail("invalid value '" + value + "'");
    }
    out.requirements.push_back(std::move(r));
    skip_space();
    if (i == text.size()) return out;
    if (text[i] != ',') return fail("expected ',' after a requirement");
    ++i;
  }
}

Result<ResourceSelector> ResourceSelector::compile(const json& target, const std::string& at,
                                                   const std::string& file) {
  if (!target.is_object()) return invalid_input(at + ": must be a mapping", file);
  for (const auto& [key, value] : target.items()) {
    static const std::set<std::string> kKnown = {
        "group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector"};
    if (!kKnown.count(key)) return invalid_input(at + ": unknown field '" + key + "'", file);
    if (!value.is_string()) return invalid_input(at + "." + key + ": must be a string", file);
  }
  auto pattern = [&](const char* key) {
    return TargetPattern::compile(target.value(key, std::string{}), at + "." + key, file);
  };
  PL_ASSIGN_OR_RETURN(TargetPattern group, pattern("group"));
  PL_ASSIGN_OR_RETURN(TargetPattern version, pattern("version"));
  PL_ASSIGN_OR_RETURN(TargetPattern kind, pattern("kind"));
  PL_ASSIGN_OR_RETURN(TargetPattern name, pattern("name"));
  PL_ASSIGN_OR_RETURN(TargetPattern ns, pattern("namespace"));
  ResourceSelector out(std::move(group), std::move(version), std::move(kind), std::move(name),
                       std::move(ns));
  for (auto [key, slot] : {std::pair{"labelSelector", &out.labels_},
                           std::pair{"annotationSelector", &out.annotations_}}) {
    std::string text = target.value(key, std::string{});
    if (text.empty()) continue;
    Result<LabelSelector> parsed = parse_selector(text);
    if (!parsed.ok()) return invalid_input(at + "." + key + ": " + parsed.error().message(), file);
    *slot = std::move(*parsed);
  }
  return out;
}

bool ResourceSelector::has_id() const {
  return !group_.empty() || !version_.empty() || !kind_.empty() || !name_.empty() ||
         !namespace_.empty();
}

namespace {

bool group_version_match(const TargetPattern& group, const TargetPattern& version,
                         const json& object) {
  std::string api_version = object.value("apiVersion", json("")).is_string()
                                ? object.value("apiVersion", std::string{})
                                : std::string{};
  std::string version_part = api_version.substr(
      api_version.find('/') == std::string::npos ? 0 : api_version.find('/') + 1);
  return group.matches(api_group(api_version)) && version.matches(version_part);
}

}  // namespace

bool ResourceSelector::matches_any_id(const Resource& resource) const {
  const json& object = resource.manifest.object;
  if (!group_version_match(group_, version_, object) || !kind_.matches(kind_of(object))) {
    return false;
  }
  for (size_t i = 0; i < resource.names.size(); ++i) {
    const std::string& ns =
        i < resource.namespaces.size() ? resource.namespaces[i] : namespace_of(object);
    if (name_.matches(resource.names[i]) && namespace_.matches(ns)) return true;
  }
  return false;
}

bool ResourceSelector::matches_id(const Resource& resource) const {
  const json& object = resource.manifest.object;
  std::string api_version = object.value("apiVersion", json("")).is_string()
                                ? object.value("apiVersion", std::string{})
                                : std::string{};
  std::string group = api_group(api_version);
  std::string version = api_version.substr(
      api_version.find('/') == std::string::npos ? 0 : api_version.find('/') + 1);
  if (!group_.matches(group) || !version_.matches(version)) return false;
  if (!kind_.matches(kind_of(object)) || !namespace_.matches(namespace_of(object))) return false;
  if (name_.empty()) return true;
  for (const auto& name : resource.names) {
    if (name_.matches(name)) return true;
  }
  return false;
}

bool ResourceSelector::matches_metadata(const json& object) const {
  if (labels_ && !labels_->matches(metadata_map(object, "labels"))) return false;
  return !annotations_ || annotations_->matches(metadata_map(object, "annotations"));
}

}  // namespace plumbline::renderer
