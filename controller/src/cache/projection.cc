// The Projector: whole API objects (JSON text) -> the compact LiveObject the LiveCache keeps,
// and the LIST / WATCH body parsers. simdjson on-demand reads the input once, front to back;
// only the kept fields are copied (validated and re-written minified), everything else is
// skipped without being materialized.
//
// What is kept mirrors what diff/walker.cc, diff/managed_fields.cc and policy/rules.cc read:
// identity, metadata.labels, spec.replicas (replicas), the pod template's labels (labels) and
// in the pod spec: resources, runtimeClassName, hostNetwork/PID/IPC, the per-category fields
// of securityContext and, per container, name, image, resources, env, envFrom and the
// per-category fields of securityContext. managedFields keep manager, operation, time and
// fieldsV1 pruned to the same subtrees ('.' markers on the way are kept, so ownership depth is
// unchanged; a node pruned to nothing is dropped, never turned into a `{}` leaf).
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plumbline/cache/live_store.h"
#include "plumbline/core/field_table.h"
#include "plumbline/core/utf8.h"
#include "plumbline/policy/policy.h"

namespace plumbline {

namespace od = simdjson::ondemand;

// ---------------------------------------------------------------------------------------------
// The schema: which fields of an object are kept.

namespace {

struct Node {
  enum class Kind {
    kAll,     // copied whole
    kFilter,  // an object: only the listed children
    kList,    // an array of objects, each filtered by `children` (fieldsV1: k: entries)
  };
  std::string_view name;
  Kind kind = Kind::kAll;
  std::vector<Node> children;
  bool keep_empty = false;   // object form: written even when nothing inside is kept
  bool object_only = false;  // not looked up in fieldsV1 (container name: never a finding path)

  const Node* child(std::string_view key) const {
    for (const Node& c : children) {
      if (c.name == key) return &c;
    }
    return nullptr;
  }
};

Node all(std::string_view name) { return Node{name, Node::Kind::kAll, {}, false, false}; }
Node filter(std::string_view name, std::vector<Node> children, bool keep_empty = false) {
  return Node{name, Node::Kind::kFilter, std::move(children), keep_empty, false};
}

}  // namespace

struct Projector::Schema {
  // The `spec` of an object per pod-template shape, and for a kind not known when `spec` is
  // read (the union of the three shapes; find_pod_spec decides later which one counts).
  Node spec_pod, spec_cronjob, spec_template, spec_unknown;
  Node metadata_fields;  // f:metadata in fieldsV1 (labels, when in scope)
  Node object_metadata;  // kept metadata fields besides identity: labels always, and in scope
  // fieldsV1 roots: {f:metadata, f:spec} for each spec shape.
  Node fields_pod, fields_cronjob, fields_template, fields_unknown;

  const Node& spec_for(std::string_view kind) const {
    if (kind.empty()) return spec_unknown;
    if (kind == "Pod") return spec_pod;
    if (kind == "CronJob") return spec_cronjob;
    return spec_template;
  }
  const Node& fields_for(std::string_view kind) const {
    if (kind.empty()) return fields_unknown;
    if (kind == "Pod") return fields_pod;
    if (kind == "CronJob") return fields_cronjob;
    return fields_template;
  }
};

namespace {

std::shared_ptr<const Projector::Schema> build_schema(const bool (&in)[16]) {
  // The in-scope fields of one level of the field table (core/field_table.h), copied whole.
  auto kept = [&](FieldLevel level) {
    std::vector<Node> out;
    for (const ComparedField& f : compared_fields(level)) {
      if (in[static_cast<size_t>(f.category)]) out.push_back(all(f.name));
    }
    return out;
  };
  // A pod spec's or container's fields, with their securityContext's in a filter.
  auto owned = [&](std::vector<Node> out, FieldLevel security) {
    std::vector<Node> context = kept(security);
    if (!context.empty()) out.push_back(filter(kSecurityContext, std::move(context)));
    return out;
  };

  std::vector<Node> container;
  Node name = all(kContainerKey);
  name.object_only = true;
  container.push_back(name);
  container = owned(container, FieldLevel::kContainerSecurity);
  for (Node& n : kept(FieldLevel::kContainer)) container.push_back(std::move(n));

  std::vector<Node> pod = owned(kept(FieldLevel::kPod), FieldLevel::kPodSecurity);
  for (std::string_view list : container_lists()) {
    pod.push_back(Node{list, Node::Kind::kList, container, false, false});
  }
  std::vector<Node> metadata = kept(FieldLevel::kMetadata);

  // spec.template {metadata.labels, spec}
  std::vector<Node> tmpl;
  if (!metadata.empty()) tmpl.push_back(filter("metadata", metadata));
  tmpl.push_back(filter("spec", pod, /*keep_empty=*/true));
  Node template_node = filter("template", tmpl);
  Node job_template = filter("jobTemplate", {filter("spec", {template_node})});

  auto schema = std::make_shared<Projector::Schema>();
  std::vector<Node> replicas = kept(FieldLevel::kObjectSpec);

  std::vector<Node> spec = replicas;  // Pod: the spec is the pod spec
  spec.insert(spec.end(), pod.begin(), pod.end());
  schema->spec_pod = filter("spec", spec, true);
  spec = replicas;
  spec.push_back(job_template);
  schema->spec_cronjob = filter("spec", spec);
  spec = replicas;
  spec.push_back(template_node);
  schema->spec_template = filter("spec", spec);
  spec = replicas;
  spec.insert(spec.end(), pod.begin(), pod.end());
  spec.push_back(template_node);
  spec.push_back(job_template);
  schema->spec_unknown = filter("spec", spec, true);

  schema->metadata_fields = filter("metadata", metadata);
  // Labels are always kept (environment membership, policy selectors); other metadata fields
  // of the table when in scope.
  schema->object_metadata = filter("metadata", {all("labels")});
  for (const Node& n : metadata) {
    if (schema->object_metadata.child(n.name) == nullptr)
      schema->object_metadata.children.push_back(n);
  }
  auto fields = [&](const Node& spec_node) {
    return filter("", {schema->metadata_fields, spec_node});
  };
  schema->fields_pod = fields(schema->spec_pod);
  schema->fields_cronjob = fields(schema->spec_cronjob);
  schema->fields_template = fields(schema->spec_template);
  schema->fields_unknown = fields(schema->spec_unknown);
  return schema;
}

// ---------------------------------------------------------------------------------------------
// Minified JSON output.

void put_string(std::string& out, std::string_view s) {
  out += '"';
  size_t run = 0;  // start of the pending run of characters that need no escaping
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s, run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      }
    }
  }
  out.append(s, run, s.size() - run);
  out += '"';
}

// RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool valid_number(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string_view type_name(od::json_type t) {
  switch (t) {
    case od::json_type::array:
      return "an array";
    case od::json_type::object:
      return "an object";
    case od::json_type::number:
      return "a number";
    case od::json_type::string:
      return "a string";
    case od::json_type::boolean:
      return "a boolean";
    case od::json_type::null:
      return "null";
  }
  return "a value";
}

// ---------------------------------------------------------------------------------------------
// One projection: the on-demand walk and its error (with the field path, built on the way out).

class Walk {
 public:
  // The message of the first failure; `path` is filled in as the failure unwinds.
  std::string message;
  std::vector<std::string> trail;  // innermost segment first

  bool fail(simdjson::error_code e) {
    message =
        e == simdjson::INCOMPLETE_ARRAY_OR_OBJECT || e == simdjson::TAPE_ERROR
            ? std::string("invalid JSON (truncated or malformed): ") + simdjson::error_message(e)
            : std::string("invalid JSON: ") + simdjson::error_message(e);
    return false;
  }
  bool fail(std::string m) {
    message = std::move(m);
    return false;
  }
  // Records that the failure happened under `segment` (a field name or "[i]").
  bool at(std::string_view segment) {
    trail.emplace_back(segment);
    return false;
  }
  std::string path() const {
    std::string out;
    for (auto it = trail.rbegin(); it != trail.rend(); ++it) {
      if (!out.empty() && (*it)[0] != '[') out += '.';
      out += *it;
    }
    return out;
  }
  // "<message> at <path>" or just the message.
  std::string describe() const {
    std::string p = path();
    return p.empty() ? message : message + " at " + p;
  }

  // Copies any value, validating it, minified.
  bool copy(od::value v, std::string& out);
  // Object form: `"key":<projected>` unless the node drops it; `first` says whether a comma
  // is needed and becomes false once something is written.
  bool field(std::string_view key, od::value v, const Node& node, std::string& out, bool& first);
  // fieldsV1 form of the same node.
  // `element`: `node` is a kList and `v` one of its k: entries (filtered by its children).
  bool fields_v1(std::string_view key, od::value v, const Node& node, std::string& out, bool& first,
                 bool element = false);
  // A kept fieldsV1 subtree, copied whole except the key fields inside k: elements (f:name in
  // k:{"name":"X"}): elements are matched by key, so their key fields are never a finding's
  // path. `element_key` is the k: key `v` sits under, if any. `emptied`: `v` was a non-empty
  // object and nothing of it is left; the caller drops it (`{}` would read as an owned leaf).
  bool copy_fields(od::value v, std::string& out, std::string_view element_key, bool& emptied);
};

#define PL_SJ(expr)                                 \
  do {                                              \
    if (auto pl_sj_error_ = (expr); pl_sj_error_) { \
      return fail(pl_sj_error_);                    \
    }                                               \
  } while (false)

void open_key(std::string& out, std::string_view key, bool first) {
  if (!first) out += ',';
  put_string(out, key);
  out += ':';
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
      for (auto f : object) {
        od::field fd;
        PL_SJ(std::move(f).get(fd));
        std::string_view key;
        PL_SJ(fd.unescaped_key().get(key));
        open_key(out, key, first);
        first = false;
        if (!copy(fd.value(), out)) return at(key);
      }
      out += '}';
      return true;
    }
    case od::json_type::array: {
      od::array array;
      PL_SJ(v.get_array().get(array));
      out += '[';
      size_t i = 0;
      for (auto e : array) {
        od::value el;
        PL_SJ(std::move(e).get(el));
        if (i > 0) out += ',';
        if (!copy(el, out)) return at("[" + std::to_string(i) + "]");
        ++i;
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

bool Walk::field(std::string_view key, od::value v, const Node& node, std::string& out,
                 bool& first) {
  if (node.kind == Node::Kind::kAll) {
    open_key(out, key, first);
    first = false;
    return copy(v, out) || at(key);
  }
  od::json_type type;
  PL_SJ(v.type().get(type));
  size_t mark = out.size();
  if (node.kind == Node::Kind::kFilter) {
    // Readers ignore a filtered field that is not an object (child() of a non-object is null).
    if (type != od::json_type::object) return true;
    od::object object;
    PL_SJ(v.get_object().get(object));
    open_key(out, key, first);
    out += '{';
    bool inner_first = true;
    for (auto f : object) {
      od::field fd;
      PL_SJ(std::move(f).get(fd));
      std::string_view name;
      PL_SJ(fd.unescaped_key().get(name));
      const Node* c = node.child(name);
      if (c == nullptr) continue;  // skipped by the iterator
      if (!field(name, fd.value(), *c, out, inner_first)) return at(key);
    }
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
  size_t i = 0;
  bool first_element = true;
  for (auto e : array) {
    od::value el;
    PL_SJ(std::move(e).get(el));
    od::json_type el_type;
    PL_SJ(el.type().get(el_type));
    if (el_type == od::json_type::object) {
      od::object object;
      PL_SJ(el.get_object().get(object));
      if (!first_element) out += ',';
      first_element = false;
      out += '{';
      bool inner_first = true;
      for (auto f : object) {
        od::field fd;
        PL_SJ(std::move(f).get(fd));
        std::string_view name;
        PL_SJ(fd.unescaped_key().get(name));
        const Node* c = node.child(name);
        if (c == nullptr) continue;
        if (!field(name, fd.value(), *c, out, inner_first)) {
          at("[" + std::to_string(i) + "]");
          return at(key);
        }
      }
      out += '}';
    }
    ++i;
  }
  out += ']';
  first = false;
  return true;
}

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
  for (auto f : object) {
    od::field fd;
    PL_SJ(std::move(f).get(fd));
    std::string_view name;
    PL_SJ(fd.unescaped_key().get(name));
    ++seen;
    if (is_key_field(element_key, name)) continue;
    size_t mark = out.size();
    open_key(out, name, first);
    bool child_emptied = false;
    if (!copy_fields(fd.value(), out, name.substr(0, 2) == "k:" ? name : std::string_view{},
                     child_emptied)) {
      return at(name);
    }
    if (child_emptied) {
      out.resize(mark);
    } else {
      first = false;
    }
  }
  if (first && seen > 0) {
    emptied = true;
    return true;
  }
  out += '}';
  return true;
}

bool Walk::fields_v1(std::string_view key, od::value v, const Node& node, std::string& out,
                     bool& first, bool element) {
  const Node::Kind kind = element ? Node::Kind::kFilter : node.kind;
  od::json_type type;
  PL_SJ(v.type().get(type));
  // Anything that is not an object is a leaf for find_owner.
  if (type != od::json_type::object) {
    open_key(out, key, first);
    first = false;
    return copy(v, out) || at(key);
  }
  if (kind == Node::Kind::kAll) {
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
  for (auto f : object) {
    od::field fd;
    PL_SJ(std::move(f).get(fd));
    std::string_view name;
    PL_SJ(fd.unescaped_key().get(name));
    ++seen;
    if (name == ".") {
      open_key(out, name, inner_first);
      inner_first = false;
      if (!copy(fd.value(), out)) return at(key);
      continue;
    }
    if (kind == Node::Kind::kList) {
      // k:{"name":"app"}: an element of a keyed list, filtered like the list's elements.
      if (name.substr(0, 2) != "k:") continue;
      if (!fields_v1(name, fd.value(), node, out, inner_first, true)) return at(key);
      continue;
    }
    if (name.substr(0, 2) != "f:") continue;
    const Node* c = node.child(name.substr(2));
    if (c == nullptr || c->object_only) continue;
    if (!fields_v1(name, fd.value(), *c, out, inner_first)) return at(key);
  }
  if (inner_first && seen > 0) {
    out.resize(mark);  // pruned to nothing: drop it, an empty object would read as owned
    return true;
  }
  out += '}';
  first = false;
  return true;
}

std::string describe_object(std::string_view kind, std::string_view ns, std::string_view name) {
  std::string out(kind.empty() ? "object" : kind);
  if (name.empty()) return ns.empty() ? out : out + " in namespace " + std::string(ns);
  out += ' ';
  if (!ns.empty()) out.append(ns).append("/");
  return out.append(name);
}

}  // namespace

// The projection of one object held by an on-demand value; shared by project(), parse_list()
// and parse_watch_event().
class ProjectionAccess {
 public:
  static Result<LiveObject> project(const Projector& projector, od::value value,
                                    std::string_view fallback_api_version,
                                    std::string_view fallback_kind);
};

namespace {

// Reads a string field into `to`; a non-string is an error naming the field.
bool read_string(Walk& walk, od::value v, std::string_view field, std::string& to) {
  od::json_type type;
  if (auto e = v.type().get(type); e) return walk.fail(e);
  if (type != od::json_type::string) {
    return walk.fail(std::string(field) + " must be a string, got " + std::string(type_name(type)));
  }
  std::string_view s;
  if (auto e = v.get_string().get(s); e) return walk.fail(e);
  to.assign(s);
  return true;
}

struct MetadataOut {
  std::string labels;          // `"labels":...` or empty
  std::string managed_fields;  // `"managedFields":[...]` or empty
};

bool managed_fields(Walk& walk, od::value v, const Node& root, std::string& out) {
  od::json_type type;
  if (auto e = v.type().get(type); e) return walk.fail(e);
  if (type != od::json_type::array) return true;  // find_owner ignores anything else
  od::array entries;
  if (auto e = v.get_array().get(entries); e) return walk.fail(e);
  std::string fields;
  size_t i = 0;
  for (auto item : entries) {
    od::value entry_value;
    if (auto e = std::move(item).get(entry_value); e) return walk.fail(e);
    od::json_type entry_type;
    if (auto e = entry_value.type().get(entry_type); e) return walk.fail(e);
    std::string index = "[" + std::to_string(i++) + "]";
    if (entry_type != od::json_type::object) continue;
    od::object entry;
    if (auto e = entry_value.get_object().get(entry); e) return walk.fail(e);
    std::string_view manager, operation, time;
    bool has_manager = false;
    fields.clear();
    for (auto f : entry) {
      od::field fd;
      if (auto e = std::move(f).get(fd); e) return walk.fail(e);
      std::string_view key;
      if (auto e = fd.unescaped_key().get(key); e) return walk.fail(e);
      od::value value = fd.value();
      std::string_view* text = key == "manager"     ? &manager
                               : key == "operation" ? &operation
                               : key == "time"      ? &time
                                                    : nullptr;
      if (text != nullptr) {
        od::json_type t;
        if (auto e = value.type().get(t); e) return walk.fail(e);
        if (t != od::json_type::string) continue;  // find_owner: not a manager / no time
        if (auto e = value.get_string().get(*text); e) return walk.fail(e);
        if (key == "manager") has_manager = true;
      } else if (key == "fieldsV1") {
        od::json_type t;
        if (auto e = value.type().get(t); e) return walk.fail(e);
        if (t != od::json_type::object) continue;  // owns nothing (find_owner)
        bool first = true;
        fields.clear();
        if (!walk.fields_v1("fieldsV1", value, root, fields, first)) {
          walk.at(index);
          return walk.at("managedFields");
        }
      }
    }
    // find_owner skips entries without a string manager or fieldsV1; an empty fieldsV1 owns
    // nothing.
    if (!has_manager || fields.empty() || fields == "\"fieldsV1\":{}") continue;
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
  }
  if (!out.empty()) out += ']';
  return true;
}

}  // namespace

Result<LiveObject> ProjectionAccess::project(const Projector& projector, od::value value,
                                             std::string_view fallback_api_version,
                                             std::string_view fallback_kind) {
  const Projector::Schema& schema = *projector.schema_;
  Walk walk;
  LiveObject out;
  ObjectRef& ref = out.ref;
  auto error = [&]() -> Error {
    return invalid_input(
        walk.describe(),
        describe_object(ref.kind.empty() ? fallback_kind : ref.kind, ref.ns, ref.name));
  };

  od::json_type type;
  if (auto e = value.type().get(type); e) {
    walk.fail(e);
    return error();
  }
  if (type != od::json_type::object) {
    walk.fail("expected a JSON object, got " + std::string(type_name(type)));
    return error();
  }
  od::object root;
  if (auto e = value.get_object().get(root); e) {
    walk.fail(e);
    return error();
  }
  bool has_metadata = false, has_api_version = false, has_kind = false;
  std::string labels, managed, spec;  // labels: every kept metadata field
  bool labels_first = true;
  for (auto f : root) {
    od::field fd;
    std::string_view key;
    if (auto e = std::move(f).get(fd); e) {
      walk.fail(e);
      return error();
    }
    if (auto e = fd.unescaped_key().get(key); e) {
      walk.fail(e);
      return error();
    }
    if (key == "apiVersion") {
      if (!read_string(walk, fd.value(), "apiVersion", ref.api_version)) return error();
      has_api_version = true;
    } else if (key == "kind") {
      if (!read_string(walk, fd.value(), "kind", ref.kind)) return error();
      has_kind = true;
    } else if (key == "metadata") {
      od::value meta_value = fd.value();
      od::json_type meta_type;
      if (auto e = meta_value.type().get(meta_type); e) {
        walk.fail(e);
        return error();
      }
      if (meta_type != od::json_type::object) {
        walk.fail("metadata must be an object, got " + std::string(type_name(meta_type)));
        return error();
      }
      has_metadata = true;
      od::object meta;
      if (auto e = meta_value.get_object().get(meta); e) {
        walk.fail(e);
        return error();
      }
      std::string_view kind = has_kind ? std::string_view(ref.kind) : fallback_kind;
      for (auto mf : meta) {
        od::field m;
        std::string_view name;
        if (auto e = std::move(mf).get(m); e) {
          walk.fail(e);
          return error();
        }
        if (auto e = m.unescaped_key().get(name); e) {
          walk.fail(e);
          return error();
        }
        bool ok = true;
        if (name == "name") {
          ok = read_string(walk, m.value(), "metadata.name", ref.name);
        } else if (name == "namespace") {
          ok = read_string(walk, m.value(), "metadata.namespace", ref.ns);
        } else if (name == "uid") {
          ok = read_string(walk, m.value(), "metadata.uid", out.uid);
        } else if (name == "resourceVersion") {
          ok = read_string(walk, m.value(), "metadata.resourceVersion", out.resource_version);
        } else if (const Node* kept = schema.object_metadata.child(name)) {
          ok = walk.field(name, m.value(), *kept, labels, labels_first) || walk.at("metadata");
        } else if (name == "managedFields") {
          managed.clear();
          ok = managed_fields(walk, m.value(), schema.fields_for(kind), managed) ||
               walk.at("metadata");
        }
        if (!ok) return error();
      }
    } else if (key == "spec") {
      std::string_view kind = has_kind ? std::string_view(ref.kind) : fallback_kind;
      spec.clear();
      bool first = true;
      if (!walk.field("spec", fd.value(), schema.spec_for(kind), spec, first)) return error();
    }
  }
  // Trailing garbage after the object is found by the caller (document end).
  if (!has_api_version) ref.api_version.assign(fallback_api_version);
  if (!has_kind) ref.kind.assign(fallback_kind);
  auto missing = [&](std::string what) {
    walk.trail.clear();
    walk.fail("missing " + std::move(what));
    return error();
  };
  if (ref.api_version.empty()) return missing("apiVersion");
  if (ref.kind.empty()) return missing("kind");
  if (!has_metadata || ref.name.empty()) return missing("metadata.name");

  std::string& p = out.projection;
  p.reserve(64 + ref.api_version.size() + ref.kind.size() + ref.name.size() + ref.ns.size() +
            out.uid.size() + out.resource_version.size() + labels.size() + managed.size() +
            spec.size());
  p += "{\"apiVersion\":";
  put_string(p, ref.api_version);
  p += ",\"kind\":";
  put_string(p, ref.kind);
  p += ",\"metadata\":{\"name\":";
  put_string(p, ref.name);
  if (!ref.ns.empty()) {
    p += ",\"namespace\":";
    put_string(p, ref.ns);
  }
  if (!out.uid.empty()) {
    p += ",\"uid\":";
    put_string(p, out.uid);
  }
  if (!out.resource_version.empty()) {
    p += ",\"resourceVersion\":";
    put_string(p, out.resource_version);
  }
  if (!labels.empty()) (p += ',') += labels;
  if (!managed.empty()) (p += ',') += managed;
  p += '}';
  if (!spec.empty()) (p += ',') += spec;
  p += '}';
  p.shrink_to_fit();
  return out;
}

// ---------------------------------------------------------------------------------------------

std::vector<Category> projection_scope(const std::vector<Policy>& policies) {
  std::vector<Category> scope = diff_options_for(policies, "").scope;
  auto need = [&](Category c) {
    if (std::find(scope.begin(), scope.end(), c) == scope.end()) scope.push_back(c);
  };
  for (const Policy& p : policies) {
    const PolicyRules& r = p.rules;
    if (r.require_limits || r.qos_class) need(Category::kResources);
    if (r.gomaxprocs || r.gomemlimit) {
      need(Category::kResources);
      need(Category::kEnv);
    }
    if (r.selinux) need(Category::kSelinux);
    if (r.capabilities) need(Category::kCapabilities);
    if (r.sysctls) need(Category::kRuntime);
    if (r.env) need(Category::kEnv);
  }
  std::vector<Category> ordered;
  for (Category c : all_categories()) {
    if (std::find(scope.begin(), scope.end(), c) != scope.end()) ordered.push_back(c);
  }
  return ordered;
}

Projector::Projector(std::vector<Category> scope) : scope_(std::move(scope)) {
  for (Category c : scope_) in_scope_[static_cast<size_t>(c)] = true;
  schema_ = build_schema(in_scope_);
}

namespace {

// Input with SIMDJSON_PADDING readable bytes after it: in place when the string's capacity
// allows, else one padded copy.
class PaddedInput {
 public:
  explicit PaddedInput(const std::string& text) {
    if (text.capacity() - text.size() >= simdjson::SIMDJSON_PADDING) {
      view_ = simdjson::padded_string_view(text.data(), text.size(), text.capacity());
    } else {
      copy_ = simdjson::padded_string(text);
      view_ = copy_;
    }
  }
  explicit PaddedInput(std::string_view text) : copy_(text) { view_ = copy_; }
  simdjson::padded_string_view view() const { return view_; }
  bool copied() const { return copy_.size() > 0; }

 private:
  simdjson::padded_string copy_;
  simdjson::padded_string_view view_;
};

// Small documents (one object, one watch line) reuse a per-thread parser; it is bounded by
// the largest such document (etcd caps objects at 1.5 MiB). LIST bodies use their own.
od::parser& small_parser() {
  thread_local od::parser parser;
  return parser;
}

// The start of a document that is not an object, for the message.
Error not_an_object(std::string_view text, std::string where) {
  std::string start = utf8_prefix(text, 40);
  return invalid_input(
      "expected a JSON object, got '" + start + (text.size() > start.size() ? "...'" : "'"),
      std::move(where));
}

Error json_error(simdjson::error_code e, std::string where) {
  Walk walk;
  walk.fail(e);
  return invalid_input(walk.message, std::move(where));
}

// After the root value: only whitespace may follow (simdjson 3.0 has no document::at_end();
// current_location() is out of bounds at the end).
bool at_end(od::document& doc) { return doc.current_location().error() != simdjson::SUCCESS; }

Status check_end(od::document& doc, const std::string& where) {
  if (!at_end(doc))
    return invalid_input("invalid JSON: trailing content after the document", where);
  return {};
}

}  // namespace

Result<LiveObject> Projector::project(std::string_view object_json,
                                      std::string_view fallback_api_version,
                                      std::string_view fallback_kind) const {
  PaddedInput input(object_json);
  od::document doc;
  if (auto e = small_parser().iterate(input.view()).get(doc); e) return json_error(e, "object");
  od::value root;
  if (auto e = doc.get_value().get(root); e) return json_error(e, "object");
  PL_ASSIGN_OR_RETURN(LiveObject object,
                      ProjectionAccess::project(*this, root, fallback_api_version, fallback_kind));
  PL_RETURN_IF_ERROR(check_end(doc, object.ref.to_string()));
  return object;
}

std::string_view to_string(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded:
      return "ADDED";
    case WatchEventType::kModified:
      return "MODIFIED";
    case WatchEventType::kDeleted:
      return "DELETED";
    case WatchEventType::kBookmark:
      return "BOOKMARK";
    case WatchEventType::kError:
      return "ERROR";
  }
  return "?";
}

namespace {

// A Status object (a failed request): code, reason, message. Fields of other types are left
// at their defaults.
struct StatusInfo {
  int code = 0;
  std::string reason, message;
};

Result<StatusInfo> read_status(od::value value, const std::string& where) {
  StatusInfo status;
  od::object object;
  if (auto e = value.get_object().get(object); e) return json_error(e, where);
  for (auto f : object) {
    od::field fd;
    std::string_view key;
    if (auto e = std::move(f).get(fd); e) return json_error(e, where);
    if (auto e = fd.unescaped_key().get(key); e) return json_error(e, where);
    if (key == "code") {
      int64_t code = 0;
      if (fd.value().get_int64().get(code) == simdjson::SUCCESS)
        status.code = static_cast<int>(code);
    } else if (key == "reason" || key == "message") {
      std::string_view text;
      if (fd.value().get_string().get(text) == simdjson::SUCCESS) {
        (key == "reason" ? status.reason : status.message).assign(text);
      }
    }
  }
  return status;
}

std::string status_text(const StatusInfo& s) {
  std::string out = s.reason.empty() ? "Failure" : s.reason;
  if (!s.message.empty()) out += ": " + s.message;
  if (s.code != 0) out += " (code " + std::to_string(s.code) + ")";
  return out;
}

}  // namespace

Result<ListPage> parse_list(const std::string& body, const Projector& projector) {
  const std::string where = "LIST response";
  PaddedInput input(body);
  od::parser parser;  // sized to this body and freed with it
  od::document doc;
  if (auto e = parser.iterate(input.view()).get(doc); e) return json_error(e, where);
  // apiVersion and kind first (the apiserver writes them first; otherwise one extra pass over
  // the top-level keys), so that items can take them.
  ListPage page;
  std::string list_kind;
  {
    od::object top;
    if (auto e = doc.get_object().get(top); e) {
      if (e == simdjson::INCORRECT_TYPE) return not_an_object(body, where);
      return json_error(e, where);
    }
    size_t found = 0;
    for (auto f : top) {
      od::field fd;
      std::string_view key;
      if (auto e = std::move(f).get(fd); e) return json_error(e, where);
      if (auto e = fd.unescaped_key().get(key); e) return json_error(e, where);
      std::string* into = key == "apiVersion" ? &page.api_version
                          : key == "kind"     ? &list_kind
                                              : nullptr;
      if (into == nullptr) continue;
      std::string_view text;
      if (auto e = fd.value().get_string().get(text); e) {
        return invalid_input(std::string(key) + " must be a string", where);
      }
      into->assign(text);
      if (++found == 2) break;
    }
  }
  if (list_kind == "Status") {
    doc.rewind();
    od::value value;
    if (auto e = doc.get_value().get(value); e) return json_error(e, where);
    PL_ASSIGN_OR_RETURN(StatusInfo status, read_status(value, where));
    return Error(code_for_http_status(status.code), "the LIST failed: " + status_text(status),
                 where);
  }
  if (list_kind.size() > 4 && list_kind.compare(list_kind.size() - 4, 4, "List") == 0) {
    page.kind = list_kind.substr(0, list_kind.size() - 4);
  }
  std::string list_where = list_kind.empty() ? where : list_kind;
  doc.rewind();
  od::object top;
  if (auto e = doc.get_object().get(top); e) return json_error(e, list_where);
  bool has_items = false;
  for (auto f : top) {
    od::field fd;
    std::string_view key;
    if (auto e = std::move(f).get(fd); e) return json_error(e, list_where);
    if (auto e = fd.unescaped_key().get(key); e) return json_error(e, list_where);
    if (key == "metadata") {
      od::object meta;
      if (auto e = fd.value().get_object().get(meta); e) {
        if (e == simdjson::INCORRECT_TYPE)
          return invalid_input("metadata must be an object", list_where);
        return json_error(e, list_where);
      }
      for (auto mf : meta) {
        od::field m;
        std::string_view name;
        if (auto e = std::move(mf).get(m); e) return json_error(e, list_where);
        if (auto e = m.unescaped_key().get(name); e) return json_error(e, list_where);
        std::string* into = name == "resourceVersion" ? &page.resource_version
                            : name == "continue"      ? &page.continue_token
                                                      : nullptr;
        if (into == nullptr) continue;
        std::string_view text;
        if (auto e = m.value().get_string().get(text); e) {
          return invalid_input("metadata." + std::string(name) + " must be a string", list_where);
        }
        into->assign(text);
      }
    } else if (key == "items") {
      has_items = true;
      od::value items_value = fd.value();
      od::json_type type;
      if (auto e = items_value.type().get(type); e) return json_error(e, list_where);
      if (type == od::json_type::null) continue;  // an empty list may say "items": null
      od::array items;
      if (auto e = items_value.get_array().get(items); e) {
        if (e == simdjson::INCORRECT_TYPE)
          return invalid_input("items must be an array", list_where);
        return json_error(e, list_where);
      }
      size_t i = 0;
      for (auto item : items) {
        od::value v;
        if (auto e = std::move(item).get(v); e) return json_error(e, list_where);
        auto object = ProjectionAccess::project(projector, v, page.api_version, page.kind);
        if (!object) {
          Error err = std::move(object).error();
          return err.context(list_where + " item " + std::to_string(i));
        }
        page.items.push_back(std::move(*object));
        ++i;
      }
    }
  }
  PL_RETURN_IF_ERROR(check_end(doc, list_where));
  if (!has_items) return invalid_input("not a LIST response: no items", list_where);
  return page;
}

Result<WatchEvent> parse_watch_event(const std::string& line, const Projector& projector) {
  const std::string where = "watch event";
  PaddedInput input(line);
  od::document doc;
  if (auto e = small_parser().iterate(input.view()).get(doc); e) return json_error(e, where);
  // The type first (the apiserver writes it first), then the object.
  std::string type_text;
  bool has_type = false;
  {
    od::object top;
    if (auto e = doc.get_object().get(top); e) {
      if (e == simdjson::INCORRECT_TYPE) return not_an_object(line, where);
      return json_error(e, where);
    }
    for (auto f : top) {
      od::field fd;
      std::string_view key;
      if (auto e = std::move(f).get(fd); e) return json_error(e, where);
      if (auto e = fd.unescaped_key().get(key); e) return json_error(e, where);
      if (key != "type") continue;
      std::string_view text;
      if (auto e = fd.value().get_string().get(text); e) {
        return invalid_input("type must be a string", where);
      }
      type_text.assign(text);
      has_type = true;
      break;
    }
  }
  if (!has_type) return invalid_input("missing type", where);
  WatchEvent event;
  if (type_text == "ADDED") {
    event.type = WatchEventType::kAdded;
  } else if (type_text == "MODIFIED") {
    event.type = WatchEventType::kModified;
  } else if (type_text == "DELETED") {
    event.type = WatchEventType::kDeleted;
  } else if (type_text == "BOOKMARK") {
    event.type = WatchEventType::kBookmark;
  } else if (type_text == "ERROR") {
    event.type = WatchEventType::kError;
  } else {
    return invalid_input("unknown watch event type \"" + type_text + "\"", where);
  }
  std::string typed_where = where + " " + type_text;
  doc.rewind();
  od::object top;
  if (auto e = doc.get_object().get(top); e) return json_error(e, typed_where);
  bool has_object = false;
  for (auto f : top) {
    od::field fd;
    std::string_view key;
    if (auto e = std::move(f).get(fd); e) return json_error(e, typed_where);
    if (auto e = fd.unescaped_key().get(key); e) return json_error(e, typed_where);
    if (key != "object") continue;
    has_object = true;
    od::value value = fd.value();
    od::json_type type;
    if (auto e = value.type().get(type); e) return json_error(e, typed_where);
    if (type != od::json_type::object) {
      return invalid_input("object must be a JSON object, got " + std::string(type_name(type)),
                           typed_where);
    }
    if (event.type == WatchEventType::kError) {
      PL_ASSIGN_OR_RETURN(StatusInfo status, read_status(value, typed_where));
      event.error_code = status.code;
      event.error_reason = std::move(status.reason);
      event.error_message = std::move(status.message);
    } else if (event.type == WatchEventType::kBookmark) {
      // {"kind":"Deployment","apiVersion":"apps/v1","metadata":{"resourceVersion":"12746"}}
      od::object object;
      if (auto e = value.get_object().get(object); e) return json_error(e, typed_where);
      for (auto of : object) {
        od::field o;
        std::string_view name;
        if (auto e = std::move(of).get(o); e) return json_error(e, typed_where);
        if (auto e = o.unescaped_key().get(name); e) return json_error(e, typed_where);
        if (name != "metadata") continue;
        od::object meta;
        if (auto e = o.value().get_object().get(meta); e) {
          return invalid_input("metadata must be an object", typed_where);
        }
        std::string_view rv;
        auto found = meta.find_field_unordered("resourceVersion");
        if (found.error() == simdjson::SUCCESS && found.get_string().get(rv) == simdjson::SUCCESS) {
          event.object.resource_version.assign(rv);
        }
      }
      if (event.object.resource_version.empty()) {
        return invalid_input("missing metadata.resourceVersion", typed_where);
      }
    } else {
      auto object = ProjectionAccess::project(projector, value, {}, {});
      if (!object) {
        Error err = std::move(object).error();
        return err.context(typed_where);
      }
      event.object = std::move(*object);
    }
  }
  if (!has_object) return invalid_input("missing object", typed_where);
  PL_RETURN_IF_ERROR(check_end(doc, typed_where));
  return event;
}

}  // namespace plumbline
