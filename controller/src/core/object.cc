#include "plumbline/core/object.h"

namespace plumbline {
namespace {

std::string string_at(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

}  // namespace

ObjectRef ObjectRef::of(const json& object) {
  ObjectRef ref;
  if (!object.is_object()) return ref;
  ref.api_version = string_at(object, "apiVersion");
  ref.kind = string_at(object, "kind");
  auto meta = object.find("metadata");
  if (meta != object.end() && meta->is_object()) {
    ref.ns = string_at(*meta, "namespace");
    ref.name = string_at(*meta, "name");
  }
  return ref;
}

std::string ObjectRef::to_string() const {
  return ns.empty() ? kind + " " + name : kind + " " + ns + "/" + name;
}

json ObjectRef::to_json() const {
  json out = {{"apiVersion", api_version}, {"kind", kind}};
  if (!ns.empty()) out["namespace"] = ns;
  out["name"] = name;
  return out;
}

std::string api_group(std::string_view api_version) {
  auto slash = api_version.find('/');
  return slash == std::string_view::npos ? std::string{}
                                         : std::string(api_version.substr(0, slash));
}

std::string SourceLocation::to_string() const {
  if (file.empty()) return {};
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  if (line > 0 && column > 0) out += ":" + std::to_string(column);
  return out;
}

const std::string& Manifest::match_name() const {
  if (!base_name.empty()) return base_name;
  static const std::string kEmpty;
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return kEmpty;
  auto name = meta->find("name");
  return name != meta->end() && name->is_string() ? name->get_ref<const std::string&>() : kEmpty;
}

std::optional<SourceLocation> nearest_origin(const FieldOrigins& origins,
                                             std::string_view canonical_path) {
  std::string_view path = canonical_path;
  while (!path.empty()) {
    if (auto found = origins.find(path)) return found;
    // Drop the last segment: "a.b[name=x].c" -> "a.b[name=x]" -> "a.b" -> "a".
    auto cut = path.find_last_of(".[");
    if (cut == std::string_view::npos) break;
    path = path.substr(0, cut);
  }
  return std::nullopt;
}

SourceLocation Manifest::locate(std::string_view canonical_path) const {
  auto found = fields ? nearest_origin(*fields, canonical_path) : std::nullopt;
  return found ? *std::move(found) : origin;
}

Status validate_identity(const json& object, const SourceLocation& where) {
  if (!object.is_object()) {
    return invalid_input("a manifest must be a mapping, got " + std::string(object.type_name()),
                         where.to_string());
  }
  for (const char* key : {"apiVersion", "kind"}) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
      return invalid_input(std::string("manifest has no ") + key, where.to_string());
    }
  }
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) {
    return invalid_input(object["kind"].get<std::string>() + " has no metadata", where.to_string());
  }
  auto name = meta->find("name");
  if (name == meta->end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    return invalid_input(object["kind"].get<std::string>() + " has no metadata.name",
                         where.to_string());
  }
  return {};
}

std::string resource_version(const json& object) {
  if (!object.is_object()) return "";
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  auto version = meta->find("resourceVersion");
  return version != meta->end() && version->is_string() ? version->get<std::string>() : "";
}

const json* member_of(const json* node, std::string_view key) {
  if (node == nullptr || !node->is_object()) return nullptr;
  auto it = node->find(key);
  return it == node->end() ? nullptr : &*it;
}

}  // namespace plumbline
