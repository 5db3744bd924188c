// Pointing fields of helm's output at values lines. Helm's templates are text: which value a
// rendered field came from cannot be known in general. The rule here is deliberately narrow,
// so that a pointer is right or absent: a rendered scalar points at a values leaf when exactly
// one leaf (after later files override earlier ones) holds the same value and the two keys'
// names are related. Everything else points at the template file (helm.cc).
#include <algorithm>
#include <cctype>
#include <map>
#include <unordered_map>
#include <vector>

#include "plumbline/core/path.h"
#include "plumbline/core/yaml.h"
#include "render/helm.h"

namespace plumbline::renderer {
namespace {

// "LOG_LEVEL" and "logLevel" -> "loglevel".
std::string normalized(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

// Equal, one inside the other ("port" in "containerport"; the shorter of at least four
// characters), or a common start of at least five characters ("replicas", "replicacount").
bool related(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return false;
  if (a == b) return true;
  const std::string& shorter = a.size() < b.size() ? a : b;
  const std::string& longer = a.size() < b.size() ? b : a;
  if (shorter.size() >= 4 && longer.find(shorter) != std::string::npos) return true;
  size_t common = 0;
  while (common < a.size() && common < b.size() && a[common] == b[common]) ++common;
  return common >= 5;
}

// Whether the values path ends the rendered path, segment by segment ("resources.limits.cpu"
// of "spec.template.spec.containers[name=app].resources.limits.cpu").
bool ends_with_path(const std::string& rendered, const std::string& values) {
  if (!rendered.ends_with(values)) return false;
  if (rendered.size() == values.size()) return true;
  char before = rendered[rendered.size() - values.size() - 1];
  return before == '.' || before == ']';
}

// A scalar as helm may print it: 3 and "3" are one value (`| quote`).
std::string scalar_text(const json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

bool attributable(const json& value) {
  if (value.is_string()) return !value.get_ref<const std::string&>().empty();
  return value.is_number() || value.is_boolean();
}

void collect_leaves(const json& node, const std::string& at, const std::string& key,
                    const std::string& file, const FieldOrigins* fields,
                    std::map<std::string, ValuesLeaf>& out) {
  if (node.is_object()) {
    out.erase(at);  // a scalar an earlier file had here
    for (const auto& [name, child] : node.items()) {
      collect_leaves(child, path::field(at, name), name, file, fields, out);
    }
    return;
  }
  // Lists are replaced whole by a later file and not looked into.
  out.erase(at);
  if (node.is_structured() || !attributable(node) || at.empty()) return;
  SourceLocation where{file, 0, 0};
  if (fields != nullptr) {
    if (auto found = nearest_origin(*fields, at)) where = *std::move(found);
  }
  out[at] = ValuesLeaf{at, key, node, where};
}

// Drops the leaves an inline text sets or replaces (they have no line in the repository).
void drop_overridden(const json& node, const std::string& at,
                     std::map<std::string, ValuesLeaf>& out) {
  if (node.is_object()) {
    for (const auto& [name, child] : node.items())
      drop_overridden(child, path::field(at, name), out);
    return;
  }
  if (at.empty()) {
    out.clear();
    return;
  }
  for (auto it = out.lower_bound(at); it != out.end() && it->first.starts_with(at);) {
    bool below =
        it->first.size() == at.size() || it->first[at.size()] == '.' || it->first[at.size()] == '[';
    it = below ? out.erase(it) : std::next(it);
  }
}

struct Index {
  std::unordered_multimap<std::string, const ValuesLeaf*> by_value;
};

void match_leaves(const json& node, const std::string& at, const std::string& parent_field,
                  const std::string& field_name, const std::string& element_name,
                  const Index& index, FieldOrigins& out) {
  if (node.is_object()) {
    std::string name;
    if (auto it = node.find("name"); it != node.end() && it->is_string()) name = *it;
    for (const auto& [key, child] : node.items()) {
      match_leaves(child, path::field(at, key), field_name, key, name, index, out);
    }
    return;
  }
  if (node.is_array()) {
    path::ListRule rule = path::list_rule(parent_field, field_name);
    for (size_t i = 0; i < node.size(); ++i) {
      const json& element = node[i];
      std::string child_at = path::list_element(at, rule, path::element_identity(rule, element), i);
      match_leaves(element, child_at, parent_field, field_name, element_name, index, out);
    }
    return;
  }
  if (!attributable(node)) return;
  auto [first, last] = index.by_value.equal_range(scalar_text(node));
  const std::string own = normalized(field_name), element = normalized(element_name);
  // The candidates with a related key (an env entry's name counts when equal); of several,
  // the one whose path ends the rendered path, else none rather than a wrong one.
  std::vector<const ValuesLeaf*> found;
  for (auto it = first; it != last; ++it) {
    const std::string key = normalized(it->second->key);
    if (related(own, key) || (!element.empty() && element == key)) found.push_back(it->second);
  }
  if (found.size() > 1) {
    std::erase_if(found, [&](const ValuesLeaf* leaf) { return !ends_with_path(at, leaf->path); });
  }
  if (found.size() == 1) out.set(at, found.front()->where);
}

}  // namespace

Result<std::vector<ValuesLeaf>> values_leaves(const FileTree& tree, const ExternalRun& run) {
  std::map<std::string, ValuesLeaf> leaves;
  auto add_file = [&](const std::string& file) -> Status {
    PL_ASSIGN_OR_RETURN(std::string text, tree.read_file(file));
    PL_ASSIGN_OR_RETURN(auto documents, parse_yaml_documents(text, file, {.field_origins = true}));
    if (documents.empty() || !documents[0].value.is_object()) return {};
    collect_leaves(documents[0].value, "", "", file, documents[0].fields.get(), leaves);
    return {};
  };
  std::string chart_values = run.chart_dir.empty() ? "values.yaml" : run.chart_dir + "/values.yaml";
  if (auto type = tree.stat(chart_values); type.ok() && *type == EntryType::kFile) {
    PL_RETURN_IF_ERROR(add_file(chart_values));
  }
  for (const ExternalRun::Values& values : run.values) {
    if (!values.tree_path.empty()) {
      PL_RETURN_IF_ERROR(add_file(values.tree_path));
      continue;
    }
    auto documents = parse_yaml_documents(values.text, "inline values");
    if (documents.ok() && !documents->empty()) drop_overridden((*documents)[0].value, "", leaves);
  }
  std::vector<ValuesLeaf> out;
  out.reserve(leaves.size());
  for (auto& [at, leaf] : leaves) out.push_back(std::move(leaf));
  return out;
}

std::shared_ptr<const FieldOrigins> values_origins(const json& object,
                                                   const std::vector<ValuesLeaf>& leaves) {
  if (leaves.empty()) return nullptr;
  Index index;
  for (const ValuesLeaf& leaf : leaves) index.by_value.emplace(scalar_text(leaf.value), &leaf);
  FieldOrigins found;
  match_leaves(object, "", "", "", "", index, found);
  if (found.empty()) return nullptr;
  return std::make_shared<const FieldOrigins>(std::move(found));
}

}  // namespace plumbline::renderer
