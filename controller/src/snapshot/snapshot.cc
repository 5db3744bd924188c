#include "plumbline/snapshot.h"

#include "plumbline/yaml.h"

namespace plumbline {
namespace {

bool is_list_kind(const json& object) {
  if (!object.is_object() || !object.contains("kind") || !object["kind"].is_string()) return false;
  const auto& kind = object["kind"].get_ref<const std::string&>();
  return kind == "List" || (kind.size() > 4 && kind.ends_with("List") && object.contains("items"));
}

Status add_object(std::vector<json>& out, json object, const SourceLocation& where) {
  PL_RETURN_IF_ERROR(validate_identity(object, where));
  out.push_back(std::move(object));
  return {};
}

}  // namespace

Result<std::vector<json>> parse_live_snapshot(std::string_view text, std::string_view file) {
  PL_ASSIGN_OR_RETURN(auto docs, parse_yaml_documents(text, file));
  std::vector<json> out;
  size_t non_empty = 0;
  for (auto& doc : docs) {
    if (doc.value.is_null()) continue;
    ++non_empty;
    if (!doc.value.is_object()) {
      return invalid_input("a live snapshot must hold a List or objects, got a " +
                               std::string(doc.value.type_name()),
                           doc.location.to_string());
    }
    if (is_list_kind(doc.value)) {
      auto items = doc.value.find("items");
      if (items == doc.value.end() || !(items->is_array() || items->is_null())) {
        return invalid_input("List has no items array", doc.location.to_string());
      }
      if (items->is_null()) continue;
      size_t i = 0;
      for (auto& item : *items) {
        SourceLocation where = doc.location;
        where.file += " items[" + std::to_string(i++) + "]";
        // kubectl omits apiVersion/kind in typed lists (e.g. DeploymentList): derive them.
        if (item.is_object() && !item.contains("kind") && doc.value["kind"].get<std::string>() != "List") {
          auto list_kind = doc.value["kind"].get<std::string>();
          item["kind"] = list_kind.substr(0, list_kind.size() - 4);
          if (doc.value.contains("apiVersion")) item["apiVersion"] = doc.value["apiVersion"];
        }
        PL_RETURN_IF_ERROR(add_object(out, std::move(item), where));
      }
      continue;
    }
    PL_RETURN_IF_ERROR(add_object(out, std::move(doc.value), doc.location));
  }
  if (non_empty == 0) {
    return invalid_input("live snapshot is empty (expected `kubectl get -o yaml` output)", std::string(file));
  }
  return out;
}

}  // namespace plumbline
