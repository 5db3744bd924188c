// Label selectors: the API's semantics (In/NotIn/Exists/DoesNotExist; NotIn matches a
// missing key).
#include "plumbline/core/label_selector.h"

#include <algorithm>

namespace plumbline {

bool LabelSelector::matches(const Labels& labels) const {
  return std::all_of(requirements.begin(), requirements.end(), [&](const Requirement& r) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    bool listed = has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    switch (r.op) {
      case Op::kIn:
        return listed;
      case Op::kNotIn:
        return !listed;
      case Op::kExists:
        return has;
      case Op::kDoesNotExist:
        return !has;
    }
    return false;
  });
}

Result<LabelSelector> LabelSelector::from_json(const json& selector, const std::string& where) {
  LabelSelector out;
  if (selector.is_null()) return out;
  if (!selector.is_object()) return invalid_input("a label selector must be a mapping", where);
  for (const auto& [key, value] : selector.items()) {
    if (key != "matchLabels" && key != "matchExpressions") {
      return invalid_input("unknown field '" + key + "' in a label selector", where);
    }
  }
  if (auto it = selector.find("matchLabels"); it != selector.end() && !it->is_null()) {
    if (!it->is_object()) return invalid_input("matchLabels must be a mapping", where);
    for (const auto& [key, value] : it->items()) {
      if (!value.is_string()) {
        return invalid_input("matchLabels." + key + ": expected a string", where);
      }
      out.requirements.push_back({key, Op::kIn, {value.get<std::string>()}});
    }
  }
  if (auto it = selector.find("matchExpressions"); it != selector.end() && !it->is_null()) {
    if (!it->is_array()) return invalid_input("matchExpressions must be a list", where);
    for (size_t i = 0; i < it->size(); ++i) {
      const json& e = (*it)[i];
      std::string at = "matchExpressions[" + std::to_string(i) + "]";
      if (!e.is_object() || !e.contains("key") || !e["key"].is_string() ||
          !e.contains("operator") || !e["operator"].is_string()) {
        return invalid_input(at + ": needs key and operator (strings)", where);
      }
      Requirement r;
      r.key = e["key"].get<std::string>();
      const std::string op = e["operator"].get<std::string>();
      if (op == "In")
        r.op = Op::kIn;
      else if (op == "NotIn")
        r.op = Op::kNotIn;
      else if (op == "Exists")
        r.op = Op::kExists;
      else if (op == "DoesNotExist")
        r.op = Op::kDoesNotExist;
      else {
        return invalid_input(
            at + ".operator: must be In, NotIn, Exists or DoesNotExist (got '" + op + "')", where);
      }
      if (e.contains("values") && !e["values"].is_null()) {
        if (!e["values"].is_array()) return invalid_input(at + ".values: expected a list", where);
        for (const auto& v : e["values"]) {
          if (!v.is_string()) return invalid_input(at + ".values: expected strings", where);
          r.values.push_back(v.get<std::string>());
        }
      }
      bool set_op = r.op == Op::kIn || r.op == Op::kNotIn;
      if (set_op && r.values.empty()) {
        return invalid_input(at + ": " + op + " needs values", where);
      }
      if (!set_op && !r.values.empty()) {
        return invalid_input(at + ": " + op + " takes no values", where);
      }
      for (const auto& [key, value] : e.items()) {
        if (key != "key" && key != "operator" && key != "values") {
          return invalid_input(at + ": unknown field '" + key + "'", where);
        }
      }
      out.requirements.push_back(std::move(r));
    }
  }
  return out;
}

Labels labels_of(const json& metadata) {
  Labels out;
  if (!metadata.is_object()) return out;
  auto it = metadata.find("labels");
  if (it == metadata.end() || !it->is_object()) return out;
  for (const auto& [key, value] : it->items()) {
    if (value.is_string()) out[key] = value.get<std::string>();
  }
  return out;
}

}  // namespace plumbline
