#include "diff/walker.h"

#include <algorithm>
#include <unordered_map>

#include "plumbline/core/field_table.h"
#include "plumbline/core/path.h"
#include "plumbline/core/quantity.h"

namespace plumbline::diff {
namespace {

const json* child(const json* node, std::string_view key) {
  if (node == nullptr || !node->is_object()) return nullptr;
  auto it = node->find(key);
  if (it == node->end() || it->is_null()) return nullptr;  // explicit null = not declared
  return &*it;
}

const json& empty_array() {
  static const json kEmpty = json::array();
  return kEmpty;
}

// Key text; `scratch` holds it when it is not a string (ports[containerPort=8080]), so the
// common case of string keys allocates nothing.
std::string_view key_of(const json& element, std::string_view key, std::string& scratch) {
  const json& value = *element.find(key);
  if (value.is_string()) return value.get_ref<const std::string&>();
  scratch = path::key_text(value);
  return scratch;
}

bool all_keyed(const json& list, std::string_view key) {
  return std::all_of(list.begin(), list.end(), [&](const json& el) {
    if (!el.is_object()) return false;
    auto it = el.find(key);
    return it != el.end() && !it->is_structured();
  });
}

// The pod spec and its canonical path, without building a string (find_pod_spec does).
std::pair<const json*, std::string_view> pod_spec_of(const json& object) {
  const json* kind = child(&object, "kind");
  std::string_view name;
  if (kind != nullptr && kind->is_string()) name = kind->get_ref<const std::string&>();
  const json* spec = child(&object, "spec");
  if (name == "Pod") return {spec && spec->is_object() ? spec : nullptr, "spec"};
  const json* pod = nullptr;
  std::string_view path = "spec.template.spec";
  if (name == "CronJob") {
    pod = child(child(child(child(spec, "jobTemplate"), "spec"), "template"), "spec");
    path = "spec.jobTemplate.spec.template.spec";
  } else {
    pod = child(child(spec, "template"), "spec");
  }
  return {pod && pod->is_object() ? pod : nullptr, path};
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

Walker::Walker(const DiffOptions& options, Mode mode) : options_(options), mode_(mode) {
  for (Category c : options.scope) scope_[static_cast<size_t>(c)] = true;
  for (Category c : options.strict) strict_[static_cast<size_t>(c)] = true;
}

bool Walker::any_in_scope(FieldLevel level) const {
  for (const ComparedField& f : compared_fields(level)) {
    if (in_scope(f.category)) return true;
  }
  return false;
}

void Walker::walk_object(const json& left, const json& right, std::vector<RawFinding>& out) {
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
    const json* l = child(child(&left, "spec"), f.name);
    const json* r = child(child(&right, "spec"), f.name);
    path_ = "spec";
    append_field(path_, f.name);
    if (l || r) leaf(f.category, level_parent(f.level), f.name, l, r);
  }
  if (any_in_scope(FieldLevel::kMetadata)) {
    path_ = "metadata";
    fields(FieldLevel::kMetadata, child(&left, "metadata"), child(&right, "metadata"));
    if (pod_path != "spec") {
      // The template's metadata sits next to its spec: "spec.template.metadata".
      path_ = pod_path.substr(0, pod_path.size() - std::string_view(".spec").size());
      path_ += ".metadata";
      auto tmpl = [](const json& o, const json* pod) -> const json* {
        if (pod == nullptr) return nullptr;
        const json* t = child(child(&o, "spec"), "template");
        if (o.is_object() && o.value("kind", "") == "CronJob") {
          t = child(child(child(child(&o, "spec"), "jobTemplate"), "spec"), "template");
        }
        return child(t, "metadata");
      };
      fields(FieldLevel::kMetadata, tmpl(left, left_pod), tmpl(right, right_pod));
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

void Walker::fields(FieldLevel level, const json* left_parent, const json* right_parent) {
  std::string_view parent = level_parent(level);
  for (const ComparedField& f : compared_fields(level)) {
    field(f.category, parent, f.name, left_parent, right_parent);
  }
}

void Walker::field(Category category, std::string_view parent, std::string_view name,
                   const json* left_parent, const json* right_parent) {
  if (!in_scope(category)) return;
  const json* l = child(left_parent, name);
  const json* r = child(right_parent, name);
  if (l == nullptr && r == nullptr) return;
  PathMark mark(path_);
  append_field(path_, name);
  subtree(category, parent, name, l, r);
}

void Walker::security(FieldLevel level, const json* left_owner, const json* right_owner) {
  const json* l = child(left_owner, kSecurityContext);
  const json* r = child(right_owner, kSecurityContext);
  if (l == nullptr && r == nullptr) return;
  PathMark mark(path_);
  append_field(path_, kSecurityContext);
  fields(level, l, r);
}

void Walker::container_list(std::string_view name, const json* l, const json* r) {
  if (l != nullptr && !l->is_array()) l = nullptr;
  if (r != nullptr && !r->is_array()) r = nullptr;
  if (l == nullptr && r == nullptr) return;
  const json& left = l ? *l : empty_array();
  const json& right = r ? *r : empty_array();
  PathMark mark(path_);
  append_field(path_, name);
  constexpr std::string_view kKey = kContainerKey;
  // Containers are few: a linear search is cheaper than building an index.
  auto key_of_element = [&](const json& c) -> const json* {
    if (!c.is_object()) return nullptr;
    auto it = c.find(kKey);
    return it == c.end() ? nullptr : &*it;
  };
  auto find = [&](const json& list, const json& key) -> const json* {
    for (const json& c : list) {
      const json* k = key_of_element(c);
      if (k != nullptr && *k == key) return &c;
    }
    return nullptr;
  };
  std::string scratch;
  for (const json& lc : left) {
    const json* key = key_of_element(lc);
    if (key == nullptr) continue;
    PathMark inner(path_);
    append_keyed(path_, kKey, key_of(lc, kKey, scratch));
    container(&lc, find(right, *key));
  }
  for (const json& rc : right) {
    const json* key = key_of_element(rc);
    if (key == nullptr || find(left, *key)) continue;
    PathMark inner(path_);
    append_keyed(path_, kKey, key_of(rc, kKey, scratch));
    container(nullptr, &rc);
  }
}

void Walker::container(const json* l, const json* r) {
  fields(FieldLevel::kContainer, l, r);
  security(FieldLevel::kContainerSecurity, l, r);
}

void Walker::subtree(Category category, std::string_view parent, std::string_view name,
                     const json* l, const json* r) {
  // The API drops `value: ""`, so an empty env value and no value are the same declaration.
  if (category == Category::kEnv && name == "value") {
    if (l && l->is_string() && l->get_ref<const std::string&>().empty()) l = nullptr;
    if (r && r->is_string() && r->get_ref<const std::string&>().empty()) r = nullptr;
  }
  if (l && l->is_null()) l = nullptr;
  if (r && r->is_null()) r = nullptr;
  if (l == nullptr && r == nullptr) return;
  if (l && r && *l == *r) return;  // one deep compare instead of a walk with path building

  bool l_obj = !l || l->is_object(), r_obj = !r || r->is_object();
  if (l_obj && r_obj) {
    if (l) {
      for (auto it = l->begin(); it != l->end(); ++it) {
        PathMark mark(path_);
        append_field(path_, it.key());
        subtree(category, name, it.key(), &*it, child(r, it.key()));
      }
    }
    if (r) {
      for (auto it = r->begin(); it != r->end(); ++it) {
        if (l && l->contains(it.key())) continue;
        PathMark mark(path_);
        append_field(path_, it.key());
        subtree(category, name, it.key(), nullptr, &*it);
      }
    }
    return;
  }
  bool l_arr = !l || l->is_array(), r_arr = !r || r->is_array();
  if (l_arr && r_arr) {
    path::ListRule rule = path::list_rule(parent, name);
    const json& left = l ? *l : empty_array();
    const json& right = r ? *r : empty_array();
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

void Walker::keyed_list(Category category, std::string_view key, const json& left,
                        const json& right) {
  const bool env = category == Category::kEnv;
  auto element = [&](const json* l, const json* r) {
    const json& any = l ? *l : *r;
    std::string scratch;
    std::string_view value = key_of(any, key, scratch);
    PathMark mark(path_);
    append_keyed(path_, key, value);
    auto saved = env_name_;
    // Whether the name looks secret is decided only when something is emitted (rarely).
    env_name_ = env ? std::optional<std::string_view>(value) : std::nullopt;
    if (l && r) {
      if (*l != *r) {
        for (auto it = l->begin(); it != l->end(); ++it) {
          PathMark m(path_);
          append_field(path_, it.key());
          subtree(category, "", it.key(), &*it, child(r, it.key()));
        }
        for (auto it = r->begin(); it != r->end(); ++it) {
          if (l->contains(it.key())) continue;
          PathMark m(path_);
          append_field(path_, it.key());
          subtree(category, "", it.key(), nullptr, &*it);
        }
      }
    } else {
      emit(category, l ? Side::kLeftOnly : Side::kRightOnly, l, r, true);
    }
    env_name_ = saved;
  };
  // Fast path: the same keys in the same order (the usual case) pair up by index.
  bool aligned = left.size() == right.size();
  for (size_t i = 0; aligned && i < left.size(); ++i) {
    aligned = left[i].find(key).value() == right[i].find(key).value();
  }
  if (aligned) {
    for (size_t i = 0; i < left.size(); ++i) element(&left[i], &right[i]);
    return;
  }
  std::string scratch;
  std::unordered_map<std::string, const json*> index;
  index.reserve(right.size());
  for (const json& r : right) index.emplace(key_of(r, key, scratch), &r);
  std::unordered_map<std::string, bool> seen;
  for (const json& l : left) {
    std::string k(key_of(l, key, scratch));
    auto it = index.find(k);
    if (it != index.end()) {
      element(&l, it->second);
      index.erase(it);  // a duplicate key on the left side then reads as left-only
    } else if (!seen.count(k)) {
      element(&l, nullptr);
    }
    seen[k] = true;
  }
  for (const json& r : right) {
    std::string k(key_of(r, key, scratch));
    if (!seen.count(k)) {
      seen[k] = true;
      element(nullptr, &r);
    }
  }
}

void Walker::set_list(Category category, const json& left, const json& right) {
  auto contains = [](const json& list, const std::string& text) {
    return std::any_of(list.begin(), list.end(),
                       [&](const json& v) { return path::key_text(v) == text; });
  };
  std::vector<std::string> done;
  auto side = [&](const json& mine, const json& other, Side only) {
    for (const json& v : mine) {
      std::string text = path::key_text(v);
      if (contains(other, text) || std::find(done.begin(), done.end(), text) != done.end()) {
        continue;
      }
      done.push_back(text);
      PathMark mark(path_);
      append_element(path_, text);
      emit(category, only, only == Side::kLeftOnly ? &v : nullptr,
           only == Side::kRightOnly ? &v : nullptr, true);
    }
  };
  side(left, right, Side::kLeftOnly);
  side(right, left, Side::kRightOnly);
}

bool Walker::holds_credentials(const json* value) {
  return value != nullptr && value->is_string() &&
         url_has_credentials(value->get_ref<const std::string&>());
}

void Walker::leaf(Category category, std::string_view parent, std::string_view name, const json* l,
                  const json* r) {
  bool mask = name == "value" && (secret_env() || holds_credentials(l) || holds_credentials(r));
  auto emit_leaf = [&](Side side) {
    RawFinding f{path_, category, side, nullptr, nullptr};
    if (l) f.left = mask ? redact_value(*l) : *l;
    if (r) f.right = mask ? redact_value(*r) : *r;
    out_->push_back(std::move(f));
  };
  if (l && r) {
    if (!values_equal(category, *l, *r)) emit_leaf(Side::kBoth);
  } else if (l) {
    emit_leaf(Side::kLeftOnly);
  } else if (mode_ == Mode::kCompare || strict(category) || closed_world(parent, name, *r)) {
    emit_leaf(Side::kRightOnly);
  }
}

void Walker::emit(Category category, Side side, const json* l, const json* r, bool element) {
  RawFinding f{path_, category, side, nullptr, nullptr};
  if (l) f.left = masked(*l, element);
  if (r) f.right = masked(*r, element);
  out_->push_back(std::move(f));
}

json Walker::masked(const json& value, bool element) const {
  const json* inner = nullptr;
  if (element && value.is_object()) {
    if (auto it = value.find("value"); it != value.end()) inner = &*it;
  }
  if (!secret_env() && !holds_credentials(inner)) return value;
  if (element && value.is_object()) {
    json copy = value;
    if (auto it = copy.find("value"); it != copy.end()) *it = redact_value(*it);
    return copy;
  }
  // Only an env element or its value is ever emitted under a secret name; a valueFrom
  // reference name goes through leaf() unmasked.
  return redact_value(value);
}

}  // namespace plumbline::diff
