// compare_environments: two rendered environments, matched by kind and base name. References
// to objects of the same environment are rewritten to base names first, so namePrefix,
// nameSuffix and generator hash suffixes never show up as differences.
#include "plumbline/diff/compare.h"

#include <algorithm>
#include <unordered_map>

#include "diff/walker.h"
#include "plumbline/core/workload.h"

namespace plumbline {
namespace {

// (kind, metadata.name) -> base name of one environment.
class BaseNames {
 public:
  explicit BaseNames(const ManifestSet& set) {
    for (const Manifest& m : set) {
      ObjectRef ref = m.ref();
      names_.emplace(ref.kind + '\x1f' + ref.name, m.match_name());
    }
  }
  void rewrite(const char* kind, json* name) const {
    if (name == nullptr || !name->is_string()) return;
    auto it = names_.find(std::string(kind) + '\x1f' + name->get<std::string>());
    if (it != names_.end()) *name = it->second;
  }

 private:
  std::unordered_map<std::string, std::string> names_;
};

json* at(json* node, const char* key) {
  if (node == nullptr || !node->is_object()) return nullptr;
  auto it = node->find(key);
  return it == node->end() ? nullptr : &*it;
}

template <typename F>
void each(json* list, F&& f) {
  if (list == nullptr || !list->is_array()) return;
  for (json& el : *list) f(el);
}

void rewrite_references(json& object, const BaseNames& names) {
  json* pod = find_pod_spec_mut(object);
  if (pod == nullptr) return;
  for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
    each(at(pod, list), [&](json& c) {
      each(at(&c, "env"), [&](json& var) {
        json* from = at(&var, "valueFrom");
        names.rewrite("ConfigMap", at(at(from, "configMapKeyRef"), "name"));
        names.rewrite("Secret", at(at(from, "secretKeyRef"), "name"));
      });
      each(at(&c, "envFrom"), [&](json& src) {
        names.rewrite("ConfigMap", at(at(&src, "configMapRef"), "name"));
        names.rewrite("Secret", at(at(&src, "secretRef"), "name"));
      });
    });
  }
  each(at(pod, "volumes"), [&](json& v) {
    names.rewrite("ConfigMap", at(at(&v, "configMap"), "name"));
    names.rewrite("Secret", at(at(&v, "secret"), "secretName"));
    each(at(at(&v, "projected"), "sources"), [&](json& s) {
      names.rewrite("ConfigMap", at(at(&s, "configMap"), "name"));
      names.rewrite("Secret", at(at(&s, "secret"), "name"));
    });
  });
}

std::string match_key(const Manifest& m) {
  auto kind = m.object.is_object() ? m.object.find("kind") : m.object.end();
  std::string key = kind != m.object.end() && kind->is_string() ? kind->get<std::string>() : "";
  return key + '\x1f' + m.match_name();
}

Difference whole_object(const Manifest& m, DifferenceType type) {
  Difference d;
  d.kind = m.ref().kind;
  d.name = m.match_name();
  d.type = type;
  // The actual (prefixed) name on the side that has the object.
  json& value = type == DifferenceType::kOnlyInA ? d.a : d.b;
  value = m.ref().name;
  (type == DifferenceType::kOnlyInA ? d.source_a : d.source_b) = m.origin;
  return d;
}

}  // namespace

EnvironmentComparison compare_environments(const ManifestSet& a, const ManifestSet& b,
                                           const DiffOptions& options) {
  EnvironmentComparison out;
  out.objects_a = a.size();
  out.objects_b = b.size();
  BaseNames names_a(a), names_b(b);
  std::unordered_map<std::string, size_t> index;
  index.reserve(b.size());
  for (size_t i = 0; i < b.size(); ++i) index.emplace(match_key(b[i]), i);
  std::vector<bool> matched(b.size(), false);

  diff::Walker walker(options, diff::Mode::kCompare);
  std::vector<diff::RawFinding> scratch;
  for (const Manifest& ma : a) {
    auto it = index.find(match_key(ma));
    if (it == index.end()) {
      out.differences.push_back(whole_object(ma, DifferenceType::kOnlyInA));
      continue;
    }
    matched[it->second] = true;
    const Manifest& mb = b[it->second];
    if (!find_pod_spec(ma.object) && !find_pod_spec(mb.object)) continue;
    // Copies: the rewrite must not touch the caller's manifests (compare is not a hot path).
    json oa = ma.object, ob = mb.object;
    rewrite_references(oa, names_a);
    rewrite_references(ob, names_b);
    scratch.clear();
    walker.walk_object(diff::JsonNode(&oa), diff::JsonNode(&ob), scratch);
    for (diff::RawFinding& f : scratch) {
      Difference d;
      d.kind = ma.ref().kind;
      d.name = ma.match_name();
      d.category = f.category;
      d.type = f.side == diff::Side::kBoth       ? DifferenceType::kChanged
               : f.side == diff::Side::kLeftOnly ? DifferenceType::kOnlyInA
                                                 : DifferenceType::kOnlyInB;
      d.a = std::move(f.left);
      d.b = std::move(f.right);
      d.source_a = ma.locate(f.path);
      d.source_b = mb.locate(f.path);
      d.path = std::move(f.path);
      out.differences.push_back(std::move(d));
    }
  }
  for (size_t i = 0; i < b.size(); ++i) {
    if (!matched[i]) out.differences.push_back(whole_object(b[i], DifferenceType::kOnlyInB));
  }
  std::sort(out.differences.begin(), out.differences.end(),
            [](const Difference& x, const Difference& y) {
              if (x.kind != y.kind) return x.kind < y.kind;
              if (x.name != y.name) return x.name < y.name;
              if (x.path != y.path) return x.path < y.path;
              return x.type < y.type;
            });
  return out;
}

}  // namespace plumbline
