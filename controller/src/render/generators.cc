// configMapGenerator and secretGenerator: data from literals, files and env files, options,
// behavior create|merge|replace, and kustomize's content hash for the name suffix.
#include <openssl/evp.h>

#include <set>
#include <string>

#include "plumbline/core/base64.h"
#include "plumbline/core/digest.h"
#include "plumbline/core/strings.h"
#include "plumbline/core/yaml.h"
#include "render/kustomize.h"

namespace plumbline::renderer {
namespace {

// Go's encoding/json string form: kustomize hashes json.Marshal output, which escapes
// <, >, & and U+2028/9 and writes other control characters as \u00XX.
void go_json_string(const std::string& text, std::string& out) {
  static const char* kHex = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else if (c == 0xE2 && i + 2 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(text[i + 2]) == 0xA8 ||
                static_cast<unsigned char>(text[i + 2]) == 0xA9)) {
      out += static_cast<unsigned char>(text[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

// Go marshals maps with sorted keys; nlohmann objects iterate sorted too.
void go_json(const json& value, std::string& out) {
  if (value.is_object()) {
    out += '{';
    bool first = true;
    for (const auto& [key, item] : value.items()) {
      if (!first) out += ',';
      first = false;
      go_json_string(key, out);
      out += ':';
      go_json(item, out);
    }
    out += '}';
  } else if (value.is_array()) {
    out += '[';
    for (size_t i = 0; i < value.size(); ++i) {
      if (i) out += ',';
      go_json(value[i], out);
    }
    out += ']';
  } else if (value.is_string()) {
    go_json_string(value.get_ref<const std::string&>(), out);
  } else {
    out += value.dump();
  }
}

// kustomize writes long base64 values as 70-column lines (a YAML block scalar), and the
// hash covers that form, so ours must be byte-identical.
std::string wrapped_base64(const std::string& in) {
  std::string encoded = base64_encode(in);
  constexpr size_t kLine = 70;
  if (encoded.size() <= kLine) return encoded;
  std::string out;
  for (size_t i = 0; i < encoded.size(); i += kLine) {
    out += encoded.substr(i, kLine);
    out += '\n';
  }
  return out;
}

std::string strip_quotes(std::string value) {
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
      value.back() == value.front()) {
    return value.substr(1, value.size() - 2);
  }
  return value;
}

Status put(json& data, const std::string& key, const std::string& value, const std::string& at,
           const Layer& layer) {
  if (key.empty()) return invalid_input(at + ": empty key", layer.file);
  if (data.contains(key)) return invalid_input(at + ": duplicate key '" + key + "'", layer.file);
  data[key] = value;
  return {};
}

Result<std::string> read_relative(const FileTree& tree, const Layer& layer, const std::string& name,
                                  const std::string& at) {
  auto path = join_tree_path(layer.dir, name);
  if (!path) {
    return Error(path.error().code(), at + ": path '" + name + "' leaves the repository root",
                 layer.file);
  }
  auto text = tree.read_file(*path);
  if (!text) {
    if (text.error().code() == ErrorCode::kNotFound) {
      return not_found(at + ": no such file '" + name + "'", layer.file);
    }
    return Error(text.error().code(), at + ": " + text.error().to_string(), layer.file);
  }
  return std::move(*text);
}

Result<json> collect_data(const FileTree& tree, const Layer& layer, const json& entry,
                          const std::string& at) {
  json data = json::object();
  auto strings = [&](const char* field) -> Result<std::vector<std::string>> {
    std::vector<std::string> out;
    auto it = entry.find(field);
    if (it == entry.end() || it->is_null()) return out;
    if (it->is_string()) {
      out.push_back(it->get<std::string>());
      return out;
    }
    if (!it->is_array()) return invalid_input(at + "." + field + ": must be a list", layer.file);
    for (const auto& item : *it) {
      if (!item.is_string())
        return invalid_input(at + "." + field + ": must hold strings", layer.file);
      out.push_back(item.get<std::string>());
    }
    return out;
  };
  PL_ASSIGN_OR_RETURN(auto literals, strings("literals"));
  for (size_t i = 0; i < literals.size(); ++i) {
    std::string where = at + ".literals[" + std::to_string(i) + "]";
    auto eq = literals[i].find('=');
    if (eq == std::string::npos) return invalid_input(where + ": expected KEY=VALUE", layer.file);
    PL_RETURN_IF_ERROR(put(data, literals[i].substr(0, eq),
                           strip_quotes(literals[i].substr(eq + 1)), where, layer));
  }
  PL_ASSIGN_OR_RETURN(auto files, strings("files"));
  for (size_t i = 0; i < files.size(); ++i) {
    std::string where = at + ".files[" + std::to_string(i) + "]";
    std::string key = files[i], name = files[i];
    if (auto eq = files[i].find('='); eq != std::string::npos) {
      key = files[i].substr(0, eq);
      name = files[i].substr(eq + 1);
    } else if (auto slash = files[i].rfind('/'); slash != std::string::npos) {
      key = files[i].substr(slash + 1);
    }
    PL_ASSIGN_OR_RETURN(std::string content, read_relative(tree, layer, name, where));
    PL_RETURN_IF_ERROR(put(data, key, content, where, layer));
  }
  PL_ASSIGN_OR_RETURN(auto envs, strings("envs"));
  PL_ASSIGN_OR_RETURN(auto env, strings("env"));
  envs.insert(envs.end(), env.begin(), env.end());
  for (size_t i = 0; i < envs.size(); ++i) {
    std::string where = at + ".envs[" + std::to_string(i) + "]";
    PL_ASSIGN_OR_RETURN(std::string content, read_relative(tree, layer, envs[i], where));
    size_t start = 0;
    int line_number = 0;
    while (start < content.size()) {
      size_t end = content.find('\n', start);
      if (end == std::string::npos) end = content.size();
      std::string line = content.substr(start, end - start);
      start = end + 1;
      ++line_number;
      if (line_number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line = line.substr(3);
      std::string trimmed(trim(line, " \t\r"));
      if (trimmed.empty() || trimmed[0] == '#') continue;
      auto eq = trimmed.find('=');
      if (eq == std::string::npos) {
        // kustomize would read the variable from its own process environment; a render
        // must not depend on the machine, so this is an error here.
        return invalid_input(
            where + ": line " + std::to_string(line_number) + ": expected KEY=VALUE", layer.file);
      }
      std::string value = line.substr(line.find('=') + 1);
      if (!value.empty() && value.back() == '\r') value.pop_back();
      PL_RETURN_IF_ERROR(
          put(data, std::string(trim(trimmed.substr(0, eq), " \t\r")), value, where, layer));
    }
  }
  return data;
}

Status merge_map(json& object, const char* field, const json& extra) {
  if (!extra.is_object() || extra.empty()) return {};
  json& target = object["metadata"][field];
  if (!target.is_object()) target = json::object();
  for (const auto& [key, value] : extra.items()) {
    if (!value.is_string())
      return invalid_input(std::string(field) + "." + key + ": must be a string");
    target[key] = value;
  }
  return {};
}

Status generate(const FileTree& tree, const Layer& layer, const char* field, bool secret,
                Resources& resources) {
  auto list = layer.spec.find(field);
  if (list == layer.spec.end() || list->is_null()) return {};
  json global = layer.spec.value("generatorOptions", json::object());
  if (!global.is_object()) global = json::object();
  for (size_t i = 0; i < list->size(); ++i) {
    std::string at = std::string(field) + "[" + std::to_string(i) + "]";
    const json& entry = (*list)[i];
    if (!entry.is_object()) return invalid_input(at + ": must be a mapping", layer.file);
    for (const auto& [key, value] : entry.items()) {
      static const std::set<std::string> kKnown = {
          "name", "namespace", "behavior", "literals", "files", "envs", "env", "options", "type"};
      if (!kKnown.count(key))
        return invalid_input(at + ": unknown field '" + key + "'", layer.file);
    }
    auto string_field = [&](const char* key) -> std::string {
      auto it = entry.find(key);
      return it != entry.end() && it->is_string() ? it->get<std::string>() : std::string{};
    };
    std::string name = string_field("name");
    if (name.empty()) return invalid_input(at + ": needs a name", layer.file);
    std::string behavior = string_field("behavior");
    if (behavior.empty()) behavior = "create";
    if (behavior != "create" && behavior != "merge" && behavior != "replace") {
      return invalid_input(at + ": unknown behavior '" + behavior + "'", layer.file);
    }
    json options = entry.value("options", json::object());
    if (!options.is_object()) return invalid_input(at + ".options: must be a mapping", layer.file);
    PL_ASSIGN_OR_RETURN(json data, collect_data(tree, layer, entry, at));
    if (secret) {
      for (auto& [key, value] : data.items()) value = wrapped_base64(value.get<std::string>());
    }
    bool no_hash = false;
    for (const json* o : {&global, &options}) {
      auto it = o->find("disableNameSuffixHash");
      if (it != o->end() && it->is_boolean()) no_hash = it->get<bool>();
    }
    std::string ns = string_field("namespace");

    json object = {{"apiVersion", "v1"},
                   {"kind", secret ? "Secret" : "ConfigMap"},
                   {"metadata", {{"name", name}}}};
    if (!ns.empty()) object["metadata"]["namespace"] = ns;
    if (!data.empty()) object["data"] = data;
    if (secret) {
      std::string type = string_field("type");
      object["type"] = type.empty() ? "Opaque" : type;
    }
    for (const json* o : {&global, &options}) {
      Status labels = merge_map(object, "labels", o->value("labels", json::object()));
      if (!labels.ok()) return invalid_input(at + ": " + labels.error().message(), layer.file);
      Status annotations =
          merge_map(object, "annotations", o->value("annotations", json::object()));
      if (!annotations.ok())
        return invalid_input(at + ": " + annotations.error().message(), layer.file);
      auto immutable = o->find("immutable");
      if (immutable != o->end() && immutable->is_boolean() && immutable->get<bool>()) {
        object["immutable"] = true;
      }
    }

    if (behavior == "create") {
      Resource resource{
          Manifest{std::move(object), SourceLocation{layer.file, 0, 0}, nullptr, name},
          {name},
          !no_hash,
          {ns}};
      resources.push_back(std::move(resource));
      continue;
    }
    // merge/replace act on a generated object of the same name from a base.
    Resource* existing = nullptr;
    for (auto& resource : resources) {
      const json& candidate = resource.manifest.object;
      if (kind_of(candidate) != (secret ? "Secret" : "ConfigMap")) continue;
      if (resource.manifest.base_name != name) continue;
      if (!ns.empty() && namespace_of(candidate) != ns) continue;
      existing = &resource;
      break;
    }
    if (!existing) {
      return not_found(at + ": behavior '" + behavior + "' but no " +
                           (secret ? "Secret" : "ConfigMap") + " named '" + name +
                           "' in the resources",
                       layer.file);
    }
    json& target = existing->manifest.object;
    if (behavior == "replace") {
      target.erase("data");
      if (!data.empty()) target["data"] = data;
    } else {
      if (!target["data"].is_object()) target["data"] = json::object();
      for (auto& [key, value] : data.items()) target["data"][key] = value;
    }
    for (const char* meta : {"labels", "annotations"}) {
      auto it = object["metadata"].find(meta);
      if (it != object["metadata"].end()) PL_RETURN_IF_ERROR(merge_map(target, meta, *it));
    }
    if (object.contains("immutable")) target["immutable"] = true;
    existing->hash_suffix = existing->hash_suffix && !no_hash;
    if (auto it = options.find("disableNameSuffixHash"); it != options.end() && it->is_boolean()) {
      existing->hash_suffix = !it->get<bool>();
    }
  }
  return {};
}

}  // namespace

Status run_generators(const FileTree& tree, const Layer& layer, Resources& resources) {
  PL_RETURN_IF_ERROR(generate(tree, layer, "configMapGenerator", false, resources));
  return generate(tree, layer, "secretGenerator", true, resources);
}

std::string generator_hash(const json& object) {
  // kustomize hashes the kind, an empty name, the data (and binaryData, Secret type) only.
  json subject = {{"kind", kind_of(object)}, {"name", ""}};
  subject["data"] = object.contains("data") ? object["data"] : json::object();
  if (object.contains("binaryData")) subject["binaryData"] = object["binaryData"];
  if (kind_of(object) == "Secret") subject["type"] = object.value("type", json(""));
  std::string encoded;
  go_json(subject, encoded);
  std::string hex = sha256_hex(encoded).substr(0, 10);
  // kustomize swaps some hex digits for letters so a suffix never looks like a number.
  for (char& c : hex) {
    switch (c) {
      case '0':
        c = 'g';
        break;
      case '1':
        c = 'h';
        break;
      case '3':
        c = 'k';
        break;
      case 'a':
        c = 'm';
        break;
      case 'e':
        c = 't';
        break;
      default:
        break;
    }
  }
  return hex;
}

}  // namespace plumbline::renderer
