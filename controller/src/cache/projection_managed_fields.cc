// managedFields in the projection: manager, operation, time and fieldsV1 pruned to the kept
// subtrees ('.' markers on the way are kept, so ownership depth is unchanged; a node pruned to
// nothing is dropped, never turned into a `{}` leaf, which would read as owned).
#include "cache/projection_walk.h"

namespace plumbline {
namespace {

// Whether `field` ("f:name") names a key field of the k: element `element_key`
// (k:{"name":"X","protocol":"TCP"}).
bool is_key_field(std::string_view element_key, std::string_view field) {
  if (element_key.empty() || field.substr(0, 2) != "f:") return false;
  std::string_view name = field.substr(2);
  for (size_t at = element_key.find(name); at != std::string_view::npos;
       at = element_key.find(name, at + 1)) {
    if (at >= 2 && element_key[at - 1] == '"' &&
        (element_key[at - 2] == '{' || element_key[at - 2] == ',') &&
        element_key.substr(at + name.size(), 2) == "\":") {
      return true;
    }
  }
  return false;
}

}  // namespace

bool Walk::copy_fields(od::value v, std::string& out, std::string_view element_key, bool& emptied) {
  emptied = false;
  od::json_type type;
  PL_SJ(v.type().get(type));
  if (type != od::json_type::object) return copy(v, out);
  od::object object;
  PL_SJ(v.get_object().get(object));
  out += '{';
  bool first = true;
  size_t seen = 0;
  if (!each_field(object, [&](std::string_view name, od::value value) {
        ++seen;
        if (is_key_field(element_key, name)) return true;
        size_t mark = out.size();
        open_key(out, name, first);
        bool child_emptied = false;
        if (!copy_fields(value, out, name.substr(0, 2) == "k:" ? name : std::string_view{},
                         child_emptied)) {
          return at(name);
        }
        if (child_emptied) {
          out.resize(mark);
        } else {
          first = false;
        }
        return true;
      })) {
    return false;
  }
  if (first && seen > 0) {
    emptied = true;
    return true;
  }
  out += '}';
  return true;
}

bool Walk::fields_v1(std::string_view key, od::value v, const ProjectionNode& node,
                     std::string& out, bool& first, bool element) {
  using Kind = ProjectionNode::Kind;
  const Kind kind = element ? Kind::kFilter : node.kind;
  od::json_type type;
  PL_SJ(v.type().get(type));
  // Anything that is not an object is a leaf for find_owner.
  if (type != od::json_type::object) {
    open_key(out, key, first);
    first = false;
    return copy(v, out) || at(key);
  }
  if (kind == Kind::kAll) {
    size_t start = out.size();
    open_key(out, key, first);
    bool emptied = false;
    if (!copy_fields(v, out, {}, emptied)) return at(key);
    if (emptied) {
      out.resize(start);
    } else {
      first = false;
    }
    return true;
  }
  od::object object;
  PL_SJ(v.get_object().get(object));
  size_t mark = out.size();
  open_key(out, key, first);
  out += '{';
  bool inner_first = true;
  size_t seen = 0;
  if (!each_field(object, [&](std::string_view name, od::value value) {
        ++seen;
        if (name == ".") {
          open_key(out, name, inner_first);
          inner_first = false;
          return copy(value, out) || at(key);
        }
        if (kind == Kind::kList) {
          // k:{"name":"app"}: an element of a keyed list, filtered like the list's elements.
          if (name.substr(0, 2) != "k:") return true;
          return fields_v1(name, value, node, out, inner_first, true) || at(key);
        }
        if (name.substr(0, 2) != "f:") return true;
        const ProjectionNode* c = node.child(name.substr(2));
        if (c == nullptr || c->object_only) return true;
        return fields_v1(name, value, *c, out, inner_first) || at(key);
      })) {
    return false;
  }
  if (inner_first && seen > 0) {
    out.resize(mark);  // pruned to nothing: drop it, an empty object would read as owned
    return true;
  }
  out += '}';
  first = false;
  return true;
}

bool Walk::managed_fields(od::value v, const ProjectionNode& root, std::string& out) {
  od::json_type type;
  PL_SJ(v.type().get(type));
  if (type != od::json_type::array) return true;  // find_owner ignores anything else
  od::array entries;
  PL_SJ(v.get_array().get(entries));
  std::string fields;
  bool read_all = each_element(entries, [&](size_t i, od::value entry_value) {
    od::json_type entry_type;
    if (auto e = entry_value.type().get(entry_type); e) return fail(e);
    if (entry_type != od::json_type::object) return true;
    od::object entry;
    if (auto e = entry_value.get_object().get(entry); e) return fail(e);
    std::string_view manager, operation, time;
    bool has_manager = false;
    fields.clear();
    bool read = each_field(entry, [&](std::string_view key, od::value value) {
      std::string_view* text = key == "manager"     ? &manager
                               : key == "operation" ? &operation
                               : key == "time"      ? &time
                                                    : nullptr;
      if (text == nullptr && key != "fieldsV1") return true;
      od::json_type t;
      if (auto e = value.type().get(t); e) return fail(e);
      if (text != nullptr) {
        if (t != od::json_type::string) return true;  // find_owner: not a manager / no time
        if (auto e = value.get_string().get(*text); e) return fail(e);
        if (key == "manager") has_manager = true;
        return true;
      }
      if (t != od::json_type::object) return true;  // owns nothing (find_owner)
      bool first = true;
      fields.clear();
      if (fields_v1("fieldsV1", value, root, fields, first)) return true;
      at("[" + std::to_string(i) + "]");
      return at("managedFields");
    });
    if (!read) return false;
    // find_owner skips entries without a string manager or fieldsV1; an empty fieldsV1 owns
    // nothing.
    if (!has_manager || fields.empty() || fields == "\"fieldsV1\":{}") return true;
    out += out.empty() ? "\"managedFields\":[" : ",";
    out += "{\"manager\":";
    put_string(out, manager);
    if (!operation.empty()) {
      out += ",\"operation\":";
      put_string(out, operation);
    }
    if (!time.empty()) {
      out += ",\"time\":";
      put_string(out, time);
    }
    out += ',';
    out += fields;
    out += '}';
    return true;
  });
  if (!read_all) return false;
  if (!out.empty()) out += ']';
  return true;
}

}  // namespace plumbline
