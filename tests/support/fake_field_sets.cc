// The fake API server's field ownership: the fields an object sets (fieldsV1 paths),
// server-side apply's merge and strategic-merge patches, as the real apiserver does them for
// the fields plumbline tests touch.
#include "support/fake_field_sets.h"

#include "plumbline/core/path.h"

namespace plumbline::testing {

using FieldPath = FakeKubeClient::FieldPath;
using FieldSet = FakeKubeClient::FieldSet;

namespace {

// The element key of a merge list as fieldsV1 writes it: k:{"name":"app"}.
std::string element_key(const json& element, std::string_view key) {
  json k = json::object();
  k[std::string(key)] = element.at(std::string(key));
  return "k:" + k.dump();
}

// The fields a value sets, as fieldsV1 paths (leaves, and "." for merge-list elements).
void collect(const json& value, std::string_view name, FieldPath& at, FieldSet& out) {
  if (value.is_object() && !value.empty()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      at.push_back("f:" + it.key());
      collect(*it, it.key(), at, out);
      at.pop_back();
    }
    return;
  }
  path::ApiList list = path::api_list(name);
  if (value.is_array() && list.merge) {
    for (const json& element : value) {
      if (!element.is_object() || !element.contains(std::string(list.key))) continue;
      at.push_back(element_key(element, list.key));
      at.push_back(".");
      out.insert(at);
      at.pop_back();
      collect(element, "", at, out);
      at.pop_back();
    }
    return;
  }
  out.insert(at);
}

}  // namespace

// An object's own fields (identity and bookkeeping left out).
FieldSet fields_of(const json& object) {
  json body = object;
  body.erase("apiVersion");
  body.erase("kind");
  body.erase("status");
  if (body.contains("metadata")) {
    for (const char* k : {"name", "namespace", "resourceVersion", "managedFields", "uid",
                          "creationTimestamp", "generation"}) {
      body["metadata"].erase(k);
    }
    if (body["metadata"].empty()) body.erase("metadata");
  }
  FieldSet out;
  FieldPath at;
  collect(body, "", at, out);
  return out;
}

// The node a field path names, or nullptr.
json* node_at(json& root, const FieldPath& path, size_t n, json** parent, std::string* last) {
  json* node = &root;
  for (size_t i = 0; i < n; ++i) {
    const std::string& step = path[i];
    if (parent != nullptr) *parent = node;
    if (last != nullptr) *last = step;
    if (step.rfind("f:", 0) == 0) {
      if (!node->is_object() || !node->contains(step.substr(2))) return nullptr;
      node = &(*node)[step.substr(2)];
    } else if (step.rfind("k:", 0) == 0) {
      json key = json::parse(step.substr(2));
      json* found = nullptr;
      if (node->is_array()) {
        for (json& e : *node) {
          bool match = e.is_object();
          for (auto it = key.begin(); match && it != key.end(); ++it) {
            match = e.contains(it.key()) && e[it.key()] == *it;
          }
          if (match) found = &e;
        }
      }
      if (found == nullptr) return nullptr;
      node = found;
    } else {
      return node;  // "."
    }
  }
  return node;
}

// Deletes what a field path names (a field, or the list element its "." marks).
void erase_at(json& root, const FieldPath& path) {
  if (path.empty()) return;
  bool element = path.back() == ".";
  size_t n = element ? path.size() - 1 : path.size();
  json* parent = nullptr;
  std::string last;
  json* node = node_at(root, path, n, &parent, &last);
  if (node == nullptr || parent == nullptr) return;
  if (last.rfind("f:", 0) == 0) {
    parent->erase(last.substr(2));
  } else if (parent->is_array()) {
    for (size_t i = 0; i < parent->size(); ++i) {
      if (&(*parent)[i] == node) {
        parent->erase(i);
        break;
      }
    }
  }
}

// Server-side apply's merge: objects by key, merge lists by element key, the rest replaced.
void merge_into(json& live, const json& config, std::string_view name) {
  if (config.is_object() && live.is_object()) {
    for (auto it = config.begin(); it != config.end(); ++it) {
      if (!live.contains(it.key())) {
        live[it.key()] = *it;
      } else {
        merge_into(live[it.key()], *it, it.key());
      }
    }
    return;
  }
  path::ApiList list = path::api_list(name);
  if (config.is_array() && live.is_array() && list.merge) {
    std::string key(list.key);
    for (const json& element : config) {
      auto match = std::find_if(live.begin(), live.end(), [&](const json& e) {
        return e.is_object() && element.is_object() && e.contains(key) && element.contains(key) &&
               e[key] == element[key];
      });
      if (match == live.end()) {
        live.push_back(element);
      } else {
        merge_into(*match, element, "");
      }
    }
    return;
  }
  live = config;
}

// A strategic-merge patch: `$patch: delete` by key in merge lists, null deletes a field.
void strategic_merge(json& live, const json& patch, std::string_view name) {
  if (patch.is_object()) {
    if (!live.is_object()) live = json::object();
    for (auto it = patch.begin(); it != patch.end(); ++it) {
      if (it->is_null()) {
        live.erase(it.key());
      } else {
        strategic_merge(live[it.key()], *it, it.key());
      }
    }
    return;
  }
  path::ApiList list = path::api_list(name);
  if (patch.is_array() && list.merge) {
    if (!live.is_array()) live = json::array();
    std::string key(list.key);
    for (const json& element : patch) {
      auto match = std::find_if(live.begin(), live.end(), [&](const json& e) {
        return e.is_object() && e.contains(key) && e[key] == element.value(key, json());
      });
      if (element.value("$patch", "") == "delete") {
        if (match != live.end()) live.erase(match);
      } else if (match == live.end()) {
        live.push_back(element);
      } else {
        strategic_merge(*match, element, "");
      }
    }
    return;
  }
  live = patch;
}

json fields_json(const FieldSet& fields) {
  json out = json::object();
  for (const FieldPath& path : fields) {
    json* node = &out;
    for (const std::string& step : path) node = &(*node)[step];
    if (node->is_null()) *node = json::object();
  }
  return out;
}

}  // namespace plumbline::testing
