// The on-demand walk of one object: copy a value whole (validated, minified) or only the
// children a schema node keeps. Errors carry the field path, built as the failure unwinds.
#include "cache/projection_walk.h"

namespace plumbline {

std::string Walk::path() const {
  std::string out;
  for (auto it = trail.rbegin(); it != trail.rend(); ++it) {
    if (!out.empty() && (*it)[0] != '[') out += '.';
    out += *it;
  }
  return out;
}

std::string Walk::describe() const {
  std::string p = path();
  return p.empty() ? message : message + " at " + p;
}

bool Walk::copy(od::value v, std::string& out) {
  od::json_type type;
  PL_SJ(v.type().get(type));
  switch (type) {
    case od::json_type::object: {
      od::object object;
      PL_SJ(v.get_object().get(object));
      out += '{';
      bool first = true;
      if (!each_field(object, [&](std::string_view key, od::value value) {
            open_key(out, key, first);
            first = false;
            return copy(value, out) || at(key);
          })) {
        return false;
      }
      out += '}';
      return true;
    }
    case od::json_type::array: {
      od::array array;
      PL_SJ(v.get_array().get(array));
      out += '[';
      if (!each_element(array, [&](size_t i, od::value element) {
            if (i > 0) out += ',';
            return copy(element, out) || at("[" + std::to_string(i) + "]");
          })) {
        return false;
      }
      out += ']';
      return true;
    }
    case od::json_type::string: {
      std::string_view s;
      PL_SJ(v.get_string().get(s));
      put_string(out, s);
      return true;
    }
    case od::json_type::number: {
      std::string_view raw = trim_right(v.raw_json_token());
      if (!valid_number(raw)) return fail("invalid JSON: bad number '" + std::string(raw) + "'");
      out += raw;
      return true;
    }
    case od::json_type::boolean: {
      bool b = false;
      PL_SJ(v.get_bool().get(b));
      out += b ? "true" : "false";
      return true;
    }
    case od::json_type::null: {
      bool null = false;
      PL_SJ(v.is_null().get(null));
      if (!null) return fail("invalid JSON: bad literal");
      out += "null";
      return true;
    }
  }
  return fail("invalid JSON: unknown value type");
}

bool Walk::field(std::string_view key, od::value v, const ProjectionNode& node, std::string& out,
                 bool& first) {
  using Kind = ProjectionNode::Kind;
  if (node.kind == Kind::kAll) {
    open_key(out, key, first);
    first = false;
    return copy(v, out) || at(key);
  }
  od::json_type type;
  PL_SJ(v.type().get(type));
  // The kept children of one object, after `{` (the caller closes it). A child's failure
  // is placed by `under` (bad JSON is where the parser stopped, not under a field).
  auto kept_children = [&](od::object& object, bool& inner_first, auto under) {
    return each_field(object, [&](std::string_view name, od::value value) {
      const ProjectionNode* c = node.child(name);
      if (c == nullptr || field(name, value, *c, out, inner_first)) return true;  // or skipped
      return under();
    });
  };
  size_t mark = out.size();
  if (node.kind == Kind::kFilter) {
    // Readers ignore a filtered field that is not an object (child() of a non-object is null).
    if (type != od::json_type::object) return true;
    od::object object;
    PL_SJ(v.get_object().get(object));
    open_key(out, key, first);
    out += '{';
    bool inner_first = true;
    if (!kept_children(object, inner_first, [&] { return at(key); })) return false;
    if (inner_first && !node.keep_empty) {
      out.resize(mark);
      return true;
    }
    out += '}';
    first = false;
    return true;
  }
  // kList: readers skip a non-array list and elements that are not objects.
  if (type != od::json_type::array) return true;
  od::array array;
  PL_SJ(v.get_array().get(array));
  open_key(out, key, first);
  out += '[';
  bool first_element = true;
  if (!each_element(array, [&](size_t i, od::value element) {
        od::json_type element_type;
        if (auto e = element.type().get(element_type); e) return fail(e);
        if (element_type != od::json_type::object) return true;
        od::object object;
        if (auto e = element.get_object().get(object); e) return fail(e);
        if (!first_element) out += ',';
        first_element = false;
        out += '{';
        bool inner_first = true;
        auto under = [&] {
          at("[" + std::to_string(i) + "]");
          return at(key);
        };
        if (!kept_children(object, inner_first, under)) return false;
        out += '}';
        return true;
      })) {
    return false;
  }
  out += ']';
  first = false;
  return true;
}

bool Walk::read_string(od::value v, std::string_view field, std::string& to) {
  od::json_type type;
  PL_SJ(v.type().get(type));
  if (type != od::json_type::string) {
    return fail(std::string(field) + " must be a string, got " + std::string(type_name(type)));
  }
  std::string_view s;
  PL_SJ(v.get_string().get(s));
  to.assign(s);
  return true;
}

}  // namespace plumbline
