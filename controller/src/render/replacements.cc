// kustomize replacements: copy one field of one resource (or a literal sourceValue) into fields
// of the resources the targets select. Declared inline or in `path:` files; each written field
// is "declared at" the fieldPaths line that wrote it.
#include <set>
#include <string>
#include <vector>

#include "plumbline/core/path.h"
#include "plumbline/core/utf8.h"
#include "plumbline/core/yaml.h"
#include "render/kustomize.h"
#include "render/origins.h"
#include "render/replacement_paths.h"
#include "render/selectors.h"

namespace plumbline::renderer {
namespace {

// One replacement and where it was declared: the file, the lines of that file's fields and
// the path of the replacement inside it ("replacements[0]" inline, "[1]" or "" in a file).
struct Declared {
  json spec;
  std::string file;
  std::shared_ptr<const FieldOrigins> fields;
  std::string path;
  std::string at;  // for messages: the entry ("replacements[0]", "[1]" in a file's list)

  SourceLocation line(const std::string& sub) const {
    std::string full = sub.empty() ? path : path.empty() ? sub : path + "." + sub;
    auto found = fields ? nearest_origin(*fields, full) : std::nullopt;
    return found ? *std::move(found) : SourceLocation{file, 0, 0};
  }
  std::string prefixed(const std::string& message) const {
    return at.empty() ? message : at + ": " + message;
  }
  Error error(const std::string& message) const { return invalid_input(prefixed(message), file); }
};

// The value a replacement writes: a copy of a node, and its text when it is a scalar.
struct Value {
  json node;
  std::string text;
  size_t size = 0;  // what one write costs against the render's replacement budget
};

Result<std::vector<Declared>> load(const FileTree& tree, const Layer& layer) {
  std::vector<Declared> out;
  auto list = layer.spec.find("replacements");
  if (list == layer.spec.end() || list->is_null()) return out;
  for (size_t i = 0; i < list->size(); ++i) {
    std::string at = "replacements[" + std::to_string(i) + "]";
    const json& entry = (*list)[i];
    if (!entry.is_object()) return invalid_input(at + ": must be a mapping", layer.file);
    auto path = entry.find("path");
    if (path == entry.end()) {
      out.push_back({entry, layer.file, layer.fields, at, at});
      continue;
    }
    if (entry.contains("source") || entry.contains("targets") || entry.contains("sourceValue")) {
      return invalid_input(at + ": cannot specify both path and inline replacement", layer.file);
    }
    if (entry.size() != 1) {
      for (const auto& [key, value] : entry.items()) {
        if (key != "path") return invalid_input(at + ": unknown field '" + key + "'", layer.file);
      }
    }
    if (!path->is_string()) return invalid_input(at + ".path: must be a string", layer.file);
    const std::string& name = path->get_ref<const std::string&>();
    auto file = join_tree_path(layer.dir, name);
    if (!file) {
      return Error(file.error().code(), at + ".path: '" + name + "' leaves the repository root",
                   layer.file);
    }
    auto text = tree.read_file(*file);
    if (!text) return not_found(at + ".path: no such file '" + name + "'", layer.file);
    PL_ASSIGN_OR_RETURN(auto documents,
                        parse_yaml_documents(*text, *file, {.field_origins = true}));
    if (documents.size() != 1 || !documents[0].value.is_structured()) {
      return invalid_input("a replacements file must be one mapping or one list", *file);
    }
    YamlDocument& document = documents[0];
    if (document.value.is_object()) {
      out.push_back({std::move(document.value), *file, document.fields, "", ""});
      continue;
    }
    for (size_t j = 0; j < document.value.size(); ++j) {
      std::string inner = path::index("", j);
      out.push_back({document.value[j], *file, document.fields, inner, inner});
    }
  }
  return out;
}

Status check_fields(const json& spec, std::initializer_list<const char*> known,
                    const std::string& at, const Declared& r) {
  if (!spec.is_object()) return r.error(at + ": must be a mapping");
  for (const auto& [key, value] : spec.items()) {
    bool ok = false;
    for (const char* name : known) ok = ok || key == name;
    if (!ok) return r.error(at + (at.empty() ? "" : ": ") + "unknown field '" + key + "'");
  }
  return {};
}

struct Options {
  std::string delimiter;
  long long index = 0;
  bool create = false;
};

Result<Options> options_of(const json& spec, const std::string& at, const Declared& r) {
  Options out;
  auto it = spec.find("options");
  if (it == spec.end() || it->is_null()) return out;
  PL_RETURN_IF_ERROR(
      check_fields(*it, {"delimiter", "index", "encoding", "create"}, at + ".options", r));
  if (it->contains("delimiter")) {
    if (!(*it)["delimiter"].is_string())
      return r.error(at + ".options.delimiter: must be a string");
    out.delimiter = (*it)["delimiter"].get<std::string>();
  }
  if (it->contains("index")) {
    if (!(*it)["index"].is_number_integer())
      return r.error(at + ".options.index: must be an integer");
    out.index = (*it)["index"].get<long long>();
  }
  if (it->contains("create")) {
    if (!(*it)["create"].is_boolean()) return r.error(at + ".options.create: must be a boolean");
    out.create = (*it)["create"].get<bool>();
  }
  return out;
}

std::vector<std::string> split(const std::string& text, const std::string& delimiter) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t at = text.find(delimiter, start);
    out.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + delimiter.size();
  }
}

std::string effective_namespace(const std::string& ns) { return ns.empty() ? "default" : ns; }

// The source resource: exactly one, by exact group, version, kind, name and namespace.
Result<const Resource*> select_source(const json& source, const Declared& r,
                                      const Resources& resources) {
  std::string want[5];
  const char* keys[5] = {"group", "version", "kind", "name", "namespace"};
  std::string described;
  for (int k = 0; k < 5; ++k) {
    auto it = source.find(keys[k]);
    if (it == source.end() || it->is_null()) continue;
    if (!it->is_string()) return r.error(std::string("source.") + keys[k] + ": must be a string");
    want[k] = it->get<std::string>();
    if (!want[k].empty())
      described += (described.empty() ? "" : " ") + std::string(keys[k]) + "=" + want[k];
  }
  const Resource* found = nullptr;
  for (const auto& resource : resources) {
    const json& object = resource.manifest.object;
    std::string api_version = object.value("apiVersion", json("")).is_string()
                                  ? object.value("apiVersion", std::string{})
                                  : std::string{};
    std::string version = api_version.substr(
        api_version.find('/') == std::string::npos ? 0 : api_version.find('/') + 1);
    if ((!want[0].empty() && api_group(api_version) != want[0]) ||
        (!want[1].empty() && version != want[1]) ||
        (!want[2].empty() && kind_of(object) != want[2])) {
      continue;
    }
    bool selected = false;
    for (size_t i = 0; i < resource.names.size() && !selected; ++i) {
      const std::string& ns =
          i < resource.namespaces.size() ? resource.namespaces[i] : namespace_of(object);
      selected = (want[3].empty() || resource.names[i] == want[3]) &&
                 (want[4].empty() || effective_namespace(ns) == effective_namespace(want[4]));
    }
    if (!selected) continue;
    if (found) return r.error("source: multiple matches for selector " + described);
    found = &resource;
  }
  if (!found) return not_found(r.prefixed("source: nothing selected by " + described), r.file);
  return found;
}

Result<Value> source_value(const Declared& r, const Resources& resources) {
  const json& spec = r.spec;
  if (auto literal = spec.find("sourceValue"); literal != spec.end()) {
    if (!literal->is_string()) return r.error("sourceValue: must be a string");
    const std::string& text = literal->get_ref<const std::string&>();
    return Value{plain_scalar(text), text};
  }
  const json& source = spec["source"];
  PL_RETURN_IF_ERROR(check_fields(
      source, {"group", "version", "kind", "name", "namespace", "fieldPath", "options"}, "source",
      r));
  PL_ASSIGN_OR_RETURN(const Resource* resource, select_source(source, r, resources));
  std::string field_path = source.value("fieldPath", json("")).is_string()
                               ? source.value("fieldPath", std::string{})
                               : std::string{};
  if (field_path.empty()) field_path = "metadata.name";
  PL_ASSIGN_OR_RETURN(const json* found,
                      lookup_field(resource->manifest.object, split_field_path(field_path)));
  if (!found || found->is_null() || (found->is_structured() && found->empty())) {
    return r.error("source: fieldPath '" + field_path + "' is missing for replacement source " +
                   kind_of(resource->manifest.object) + " '" + name_of(resource->manifest.object) +
                   "'");
  }
  PL_ASSIGN_OR_RETURN(Options options, options_of(source, "source", r));
  if (options.delimiter.empty()) {
    return Value{*found, found->is_structured() ? std::string{} : scalar_text(*found)};
  }
  if (found->is_structured())
    return r.error("source: delimiter option can only be used with scalars");
  auto parts = split(scalar_text(*found), options.delimiter);
  if (options.index < 0 || options.index >= static_cast<long long>(parts.size())) {
    return r.error("source: options.index " + std::to_string(options.index) +
                   " is out of bounds for value " + scalar_text(*found));
  }
  return Value{json(parts[options.index]), parts[options.index]};
}

// A scalar field keeps its type where the text allows it (kustomize copies only the text).
json typed_like(const json& target, const std::string& text, bool created) {
  json plain_value = plain_scalar(text);
  if (created || target.is_null()) return plain_value;
  if (target.is_string()) return text;
  if (target.is_boolean() == plain_value.is_boolean() &&
      target.is_number() == plain_value.is_number())
    return plain_value;
  return text;
}

Status write(Resource& resource, const FieldMatch& match, const Value& value,
             const Options& options, const SourceLocation& site, const Declared& r,
             size_t& budget) {
  if (value.size > budget) {
    return r.error("replacements write more than " + std::to_string(kMaxReplacementBytes >> 20) +
                   " MiB in this render");
  }
  budget -= value.size;
  json& field = resource.manifest.object.at(match.pointer);
  bool scalar_target = match.created || !field.is_structured();
  std::string text = value.text;
  if (!options.delimiter.empty()) {
    if (!scalar_target) return r.error("targets: delimiter option can only be used with scalars");
    auto parts = split(match.created ? std::string{} : scalar_text(field), options.delimiter);
    if (options.index < 0) {
      parts.insert(parts.begin(), text);
    } else if (options.index >= static_cast<long long>(parts.size())) {
      parts.push_back(text);
    } else {
      parts[options.index] = text;
    }
    text.clear();
    for (size_t i = 0; i < parts.size(); ++i) text += (i ? options.delimiter : "") + parts[i];
    field = typed_like(field, text, match.created);
  } else if (!scalar_target || (match.created && value.node.is_structured())) {
    field = value.node;
  } else {
    field = typed_like(field, text, match.created);
  }
  record_write(resource.manifest, path::from_pointer(resource.manifest.object, match.pointer),
               site);
  return {};
}

Status apply_target(const Declared& r, size_t t, const Value& value, Resources& resources,
                    size_t& budget) {
  std::string at = path::index("targets", t);
  const json& target = r.spec["targets"][t];
  PL_RETURN_IF_ERROR(check_fields(target, {"select", "reject", "fieldPaths", "options"}, at, r));
  if (!target.contains("select") || target["select"].is_null())
    return r.error(at + ": target must specify resources to select");
  PL_ASSIGN_OR_RETURN(auto select, ResourceSelector::compile(
                                       target["select"],
                                       (r.at.empty() ? "" : r.at + ".") + at + ".select", r.file));
  std::vector<ResourceSelector> rejects;
  if (auto list = target.find("reject"); list != target.end() && !list->is_null()) {
    if (!list->is_array()) return r.error(at + ".reject: must be a list");
    for (size_t i = 0; i < list->size(); ++i) {
      PL_ASSIGN_OR_RETURN(auto reject, ResourceSelector::compile((*list)[i],
                                                                 (r.at.empty() ? "" : r.at + ".") +
                                                                     path::index(at + ".reject", i),
                                                                 r.file));
      rejects.push_back(std::move(reject));
    }
  }
  json field_paths = target.value("fieldPaths", json::array());
  if (!field_paths.is_array()) return r.error(at + ".fieldPaths: must be a list");
  if (field_paths.empty()) field_paths.push_back("metadata.name");
  PL_ASSIGN_OR_RETURN(Options options, options_of(target, at, r));
  CreateKind create = !options.create          ? CreateKind::kNone
                      : value.node.is_object() ? CreateKind::kMapping
                      : value.node.is_array()  ? CreateKind::kSequence
                                               : CreateKind::kScalar;
  for (auto& resource : resources) {
    const json& object = resource.manifest.object;
    if (!select.matches_metadata(object)) continue;
    bool rejected = false;
    for (const auto& reject : rejects) {
      rejected = rejected || (reject.has_metadata() && reject.matches_metadata(object)) ||
                 (reject.has_id() && reject.matches_any_id(resource));
    }
    if (rejected || !select.matches_any_id(resource)) continue;
    for (size_t f = 0; f < field_paths.size(); ++f) {
      std::string field_at = path::index(at + ".fieldPaths", f);
      if (!field_paths[f].is_string()) return r.error(field_at + ": must be a string");
      const std::string& field_path = field_paths[f].get_ref<const std::string&>();
      std::vector<FieldMatch> matches;
      Status matched =
          match_fields(resource.manifest.object, split_field_path(field_path), create, matches);
      if (!matched.ok()) return r.error(field_at + ": " + matched.error().message());
      if (matches.empty()) {
        return r.error(field_at + ": unable to find field '" + field_path +
                       "' in replacement target " + kind_of(object) + " '" + name_of(object) + "'" +
                       (options.create ? "" : " (options.create is not set)"));
      }
      SourceLocation site = r.line(target.contains("fieldPaths") ? field_at : at);
      for (const auto& match : matches)
        PL_RETURN_IF_ERROR(write(resource, match, value, options, site, r, budget));
    }
  }
  return {};
}

}  // namespace

Status apply_replacements(const FileTree& tree, const Layer& layer, Resources& resources) {
  PL_ASSIGN_OR_RETURN(std::vector<Declared> replacements, load(tree, layer));
  for (const Declared& r : replacements) {
    PL_RETURN_IF_ERROR(check_fields(r.spec, {"source", "sourceValue", "targets"}, "", r));
    bool has_source = r.spec.contains("source") && !r.spec["source"].is_null();
    bool has_value = r.spec.contains("sourceValue") && !r.spec["sourceValue"].is_null();
    auto targets = r.spec.find("targets");
    if ((!has_source && !has_value) || targets == r.spec.end() || targets->is_null()) {
      return r.error("replacements must specify a source and at least one target");
    }
    if (has_source && has_value)
      return r.error("value and resource selectors are mutually exclusive");
    if (!targets->is_array()) return r.error("targets: must be a list");
    PL_ASSIGN_OR_RETURN(Value value, source_value(r, resources));
    value.size =
        value.text.size() + (value.node.is_structured() ? to_json_text(value.node).size() : 0);
    for (size_t t = 0; t < targets->size(); ++t)
      PL_RETURN_IF_ERROR(apply_target(r, t, value, resources, *layer.replacement_budget));
  }
  return {};
}

}  // namespace plumbline::renderer
