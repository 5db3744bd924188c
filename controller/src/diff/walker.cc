#include "diff/walker.h"

#include <algorithm>
#include <unordered_map>

#include "plumbline/core/field_table.h"
#include "plumbline/core/path.h"
#include "plumbline/core/quantity.h"

namespace plumbline::diff {
namespace {

// The member `key`, or none when absent or null (an explicit null is not a declaration).
template <typename Node>
Node child(Node node, std::string_view key) {
  if (!node) return {};
  Node value = node.find(key);
  return value && !value.is_null() ? value : Node();
}

// Key text; `scratch` holds it when it is not a string (ports[containerPort=8080]), so the
// common case of string keys allocates nothing.
template <typename Node>
std::string_view key_of(Node element, std::string_view key, std::string& scratch) {
  Node value = element.find(key);
  if (value.is_string()) return value.string();
  scratch = path::key_text(value.to_json());
  return scratch;
}

template <typename Node>
bool all_keyed(Node list, std::string_view key) {
  return !list.find_element([&](Node el) {
    if (!el.is_object()) return true;
    Node value = el.find(key);
    return !value || value.is_structured();
  });
}

template <typename Node>
std::string_view kind_of(Node object) {
  Node kind = child(object, "kind");
  return kind && kind.is_string() ? kind.string() : std::string_view();
}

// The pod spec and its canonical path, without building a string (find_pod_spec does).
template <typename Node>
std::pair<Node, std::string_view> pod_spec_of(Node object) {
  std::string_view name = kind_of(object);
  Node spec = child(object, "spec");
  if (name == "Pod") return {spec && spec.is_object() ? spec : Node(), "spec"};
  Node pod;
  std::string_view path = "spec.template.spec";
  if (name == "CronJob") {
    pod = child(child(child(child(spec, "jobTemplate"), "spec"), "template"), "spec");
    path = "spec.jobTemplate.spec.template.spec";
  } else {
    pod = child(child(spec, "template"), "spec");
  }
  return {pod && pod.is_object() ? pod : Node(), path};
}

// The pod template's metadata, next to its spec ("spec.template.metadata").
template <typename Node>
Node template_metadata(Node object) {
  Node spec = child(object, "spec");
  Node tmpl = kind_of(object) == "CronJob"
                  ? child(child(child(spec, "jobTemplate"), "spec"), "template")
                  : child(spec, "template");
  return child(tmpl, "metadata");
}

// Restores the path buffer when a scope ends, so every early return is safe.
class PathMark {
 public:
  explicit PathMark(std::string& path) : path_(path), size_(path.size()) {}
  ~PathMark() { path_.resize(size_); }
  PathMark(const PathMark&) = delete;
  PathMark& operator=(const PathMark&) = delete;

 private:
  std::string& path_;
  size_t size_;
};

}  // namespace

template <typename Node>
BasicWalker<Node>::BasicWalker(const DiffOptions& options, Mode mode)
    : options_(options), mode_(mode) {
  for (Category c : options.scope) scope_[static_cast<size_t>(c)] = true;
  for (Category c : options.strict) strict_[static_cast<size_t>(c)] = true;
}

template <typename Node>
bool BasicWalker<Node>::any_in_scope(FieldLevel level) const {
  for (const ComparedField& f : compared_fields(level)) {
    if (in_scope(f.category)) return true;
  }
  return false;
}

template <typename Node>
void BasicWalker<Node>::walk_object(Node left, Node right, std::vector<RawFinding>& out) {
  out_ = &out;
  path_.clear();
  env_name_.reset();
  auto [left_pod, left_path] = pod_spec_of(left);
  auto [right_pod, right_path] = pod_spec_of(right);
  if (!left_pod && !right_pod) return;  // only pod templates are field-compared
  std::string_view pod_path = left_pod ? left_path : right_path;

  // spec.replicas: leaves of the object's spec.
  for (const ComparedField& f : compared_fields(FieldLevel::kObjectSpec)) {
    if (!in_scope(f.category)) continue;
    Node l = child(child(left, "spec"), f.name);
    Node r = child(child(right, "spec"), f.name);
    path_ = "spec";
    append_field(path_, f.name);
    if (l || r) leaf(f.category, level_parent(f.level), f.name, l, r);
  }
  if (any_in_scope(FieldLevel::kMetadata)) {
    path_ = "metadata";
    fields(FieldLevel::kMetadata, child(left, "metadata"), child(right, "metadata"));
    if (pod_path != "spec") {
      path_ = pod_path.substr(0, pod_path.size() - std::string_view(".spec").size());
      path_ += ".metadata";
      fields(FieldLevel::kMetadata, left_pod ? template_metadata(left) : Node(),
             right_pod ? template_metadata(right) : Node());
    }
  }
  path_ = pod_path;
  fields(FieldLevel::kPod, left_pod, right_pod);
  security(FieldLevel::kPodSecurity, left_pod, right_pod);
  for (std::string_view list : container_lists()) {
    container_list(list, child(left_pod, list), child(right_pod, list));
  }
  path_.clear();
}

template <typename Node>
void BasicWalker<Node>::fields(FieldLevel level, Node left_parent, Node right_parent) {
  std::string_view parent = level_parent(level);
  for (const ComparedField& f : compared_fields(level)) {
    field(f.category, parent, f.name, left_parent, right_parent);
  }
}

template <typename Node>
void BasicWalker<Node>::field(Category category, std::string_view parent, std::string_view name,
                              Node left_parent, Node right_parent) {
  if (!in_scope(category)) return;
  Node l = child(left_parent, name);
  Node r = child(right_parent, name);
  if (!l && !r) return;
  PathMark mark(path_);
  append_field(path_, name);
  subtree(category, parent, name, l, r);
}

template <typename Node>
void BasicWalker<Node>::security(FieldLevel level, Node left_owner, Node right_owner) {
  Node l = child(left_owner, kSecurityContext);
  Node r = child(right_owner, kSecurityContext);
  if (!l && !r) return;
  PathMark mark(path_);
  append_field(path_, kSecurityContext);
  fields(level, l, r);
}

template <typename Node>
void BasicWalker<Node>::container_list(std::string_view name, Node l, Node r) {
  if (l && !l.is_array()) l = Node();
  if (r && !r.is_array()) r = Node();
  if (!l && !r) return;
  Node left = l ? l : Node::empty_array();
  Node right = r ? r : Node::empty_array();
  PathMark mark(path_);
  append_field(path_, name);
  constexpr std::string_view kKey = kContainerKey;
  // Containers are few: a linear search is cheaper than building an index.
  auto key_of_element = [&](Node c) { return c.is_object() ? c.find(kKey) : Node(); };
  auto find = [&](Node list, Node key) {
    return list.find_element([&](Node c) {
      Node k = key_of_element(c);
      return k && k == key;
    });
  };
  std::string scratch;
  left.each_element([&](Node lc) {
    Node key = key_of_element(lc);
    if (!key) return;
    PathMark inner(path_);
    append_keyed(path_, kKey, key_of(lc, kKey, scratch));
    container(lc, find(right, key));
  });
  right.each_element([&](Node rc) {
    Node key = key_of_element(rc);
    if (!key || find(left, key)) return;
    PathMark inner(path_);
    append_keyed(path_, kKey, key_of(rc, kKey, scratch));
    container(Node(), rc);
  });
}

template <typename Node>
void BasicWalker<Node>::container(Node l, Node r) {
  fields(FieldLevel::kContainer, l, r);
  security(FieldLevel::kContainerSecurity, l, r);
}

template <typename Node>
void BasicWalker<Node>::subtree(Category category, std::string_view parent, std::string_view name,
                                Node l, Node r) {
  // The API drops `value: ""`, so an empty env value and no value are the same declaration.
  if (category == Category::kEnv && name == "value") {
    if (l && l.is_string() && l.string().empty()) l = Node();
    if (r && r.is_string() && r.string().empty()) r = Node();
  }
  if (l && l.is_null()) l = Node();
  if (r && r.is_null()) r = Node();
  if (!l && !r) return;
  if (l && r && l == r) return;  // one deep compare instead of a walk with path building

  bool l_obj = !l || l.is_object(), r_obj = !r || r.is_object();
  if (l_obj && r_obj) {
    members(category, name, l, r);
    return;
  }
  bool l_arr = !l || l.is_array(), r_arr = !r || r.is_array();
  if (l_arr && r_arr) {
    path::ListRule rule = path::list_rule(parent, name);
    Node left = l ? l : Node::empty_array();
    Node right = r ? r : Node::empty_array();
    if (rule.kind == path::ListKind::kKeyed && all_keyed(left, rule.key) &&
        all_keyed(right, rule.key)) {
      keyed_list(category, rule.key, left, right);
      return;
    }
    if (rule.kind == path::ListKind::kSet) {
      set_list(category, left, right);
      return;
    }
    // Atomic lists (envFrom, args) compare whole; a list added on the live side is an
    // addition like a list element, not a server default.
    if (l && r) {
      emit(category, Side::kBoth, l, r, false);
    } else {
      emit(category, l ? Side::kLeftOnly : Side::kRightOnly, l, r, false);
    }
    return;
  }
  leaf(category, parent, name, l, r);
}

// The members of two maps (either may be absent), each walked under `parent`.
template <typename Node>
void BasicWalker<Node>::members(Category category, std::string_view parent, Node l, Node r) {
  if (l) {
    l.each_member([&](std::string_view key, Node value) {
      PathMark mark(path_);
      append_field(path_, key);
      subtree(category, parent, key, value, child(r, key));
    });
  }
  if (r) {
    r.each_member([&](std::string_view key, Node value) {
      if (l && l.find(key)) return;
      PathMark mark(path_);
      append_field(path_, key);
      subtree(category, parent, key, Node(), value);
    });
  }
}

template <typename Node>
void BasicWalker<Node>::keyed_list(Category category, std::string_view key, Node left, Node right) {
  const bool env = category == Category::kEnv;
  auto element = [&](Node l, Node r) {
    std::string scratch;
    std::string_view value = key_of(l ? l : r, key, scratch);
    PathMark mark(path_);
    append_keyed(path_, key, value);
    auto saved = env_name_;
    // Whether the name looks secret is decided only when something is emitted (rarely).
    env_name_ = env ? std::optional<std::string_view>(value) : std::nullopt;
    if (l && r) {
      if (!(l == r)) members(category, "", l, r);
    } else {
      emit(category, l ? Side::kLeftOnly : Side::kRightOnly, l, r, true);
    }
    env_name_ = saved;
  };
  // Fast path: the same keys in the same order (the usual case) pair up by index.
  std::vector<Node> right_elements;
  right_elements.reserve(right.size());
  right.each_element([&](Node r) { right_elements.push_back(r); });
  bool aligned = left.size() == right_elements.size();
  if (aligned) {
    size_t i = 0;
    left.find_element([&](Node l) {
      aligned = l.find(key) == right_elements[i++].find(key);
      return !aligned;
    });
  }
  if (aligned) {
    size_t i = 0;
    left.each_element([&](Node l) { element(l, right_elements[i++]); });
    return;
  }
  std::string scratch;
  std::unordered_map<std::string, Node> index;
  index.reserve(right_elements.size());
  for (Node r : right_elements) index.emplace(key_of(r, key, scratch), r);
  std::unordered_map<std::string, bool> seen;
  left.each_element([&](Node l) {
    std::string k(key_of(l, key, scratch));
    auto it = index.find(k);
    if (it != index.end()) {
      element(l, it->second);
      index.erase(it);  // a duplicate key on the left side then reads as left-only
    } else if (!seen.count(k)) {
      element(l, Node());
    }
    seen[k] = true;
  });
  for (Node r : right_elements) {
    std::string k(key_of(r, key, scratch));
    if (!seen.count(k)) {
      seen[k] = true;
      element(Node(), r);
    }
  }
}

// Reached only when the two lists differ (subtree compares them whole first), so the
// elements' text is built here, not on the common path.
template <typename Node>
void BasicWalker<Node>::set_list(Category category, Node left, Node right) {
  auto texts = [](Node list) {
    std::vector<std::pair<std::string, Node>> out;
    list.each_element([&](Node v) { out.emplace_back(path::key_text(v.to_json()), v); });
    return out;
  };
  auto left_texts = texts(left), right_texts = texts(right);
  auto contains = [](const auto& list, const std::string& text) {
    return std::any_of(list.begin(), list.end(), [&](const auto& v) { return v.first == text; });
  };
  std::vector<std::string> done;
  auto side = [&](const auto& mine, const auto& other, Side only) {
    for (const auto& [text, v] : mine) {
      if (contains(other, text) || std::find(done.begin(), done.end(), text) != done.end()) {
        continue;
      }
      done.push_back(text);
      PathMark mark(path_);
      append_element(path_, text);
      emit(category, only, only == Side::kLeftOnly ? v : Node(),
           only == Side::kRightOnly ? v : Node(), true);
    }
  };
  side(left_texts, right_texts, Side::kLeftOnly);
  side(right_texts, left_texts, Side::kRightOnly);
}

template <typename Node>
bool BasicWalker<Node>::holds_credentials(Node value) {
  return value && value.is_string() && url_has_credentials(value.string());
}

template <typename Node>
void BasicWalker<Node>::leaf(Category category, std::string_view parent, std::string_view name,
                             Node l, Node r) {
  if (l && r && l == r) return;  // equal values are equal declarations, in any category
  bool mask = name == "value" && (secret_env() || holds_credentials(l) || holds_credentials(r));
  auto emit_leaf = [&](Side side) {
    RawFinding f{path_, category, side, nullptr, nullptr};
    if (l) f.left = mask ? redact_value(l.to_json()) : l.to_json();
    if (r) f.right = mask ? redact_value(r.to_json()) : r.to_json();
    out_->push_back(std::move(f));
  };
  if (l && r) {
    if (!values_equal(category, l.to_json(), r.to_json())) emit_leaf(Side::kBoth);
  } else if (l) {
    emit_leaf(Side::kLeftOnly);
  } else if (mode_ == Mode::kCompare || strict(category) ||
             closed_world(parent, name, r.to_json())) {
    emit_leaf(Side::kRightOnly);
  }
}

template <typename Node>
void BasicWalker<Node>::emit(Category category, Side side, Node l, Node r, bool element) {
  RawFinding f{path_, category, side, nullptr, nullptr};
  if (l) f.left = masked(l.to_json(), element);
  if (r) f.right = masked(r.to_json(), element);
  out_->push_back(std::move(f));
}

template <typename Node>
json BasicWalker<Node>::masked(const json& value, bool element) const {
  const json* inner = nullptr;
  if (element && value.is_object()) {
    if (auto it = value.find("value"); it != value.end()) inner = &*it;
  }
  bool credentials = inner != nullptr && inner->is_string() &&
                     url_has_credentials(inner->get_ref<const std::string&>());
  if (!secret_env() && !credentials) return value;
  if (element && value.is_object()) {
    json copy = value;
    if (auto it = copy.find("value"); it != copy.end()) *it = redact_value(*it);
    return copy;
  }
  // Only an env element or its value is ever emitted under a secret name; a valueFrom
  // reference name goes through leaf() unmasked.
  return redact_value(value);
}

template class BasicWalker<JsonNode>;
template class BasicWalker<EncodedNode>;

}  // namespace plumbline::diff
