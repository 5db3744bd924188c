// categorize(): the category of a canonical path. The walker (walker.cc) knows the category
// from its position and never calls this; both read core/field_table.h, for callers holding
// only a path (policy ignore rules, the corrector).
#include <string_view>
#include <vector>

#include "plumbline/core/field_table.h"
#include "plumbline/core/path.h"
#include "plumbline/core/workload.h"
#include "plumbline/diff/drift.h"

namespace plumbline {
namespace {

using path::Segment;

bool is_field(const std::vector<Segment>& segs, size_t i, std::string_view name) {
  return i < segs.size() && segs[i].kind == Segment::Kind::kField && segs[i].name == name;
}

// The number of segments of `prefix` matched at the start of `segs`, or 0 if it does not match.
size_t match_prefix(const std::vector<Segment>& segs, std::string_view prefix) {
  size_t i = 0;
  while (!prefix.empty()) {
    size_t dot = prefix.find('.');
    std::string_view name = prefix.substr(0, dot);
    if (!is_field(segs, i, name)) return 0;
    ++i;
    prefix = dot == std::string_view::npos ? std::string_view{} : prefix.substr(dot + 1);
  }
  return i;
}

// The category of the table's field of `level` named by segment i, if any.
std::optional<Category> field_at(const std::vector<Segment>& segs, size_t i, FieldLevel level) {
  if (i >= segs.size() || segs[i].kind != Segment::Kind::kField) return std::nullopt;
  if (const ComparedField* f = find_compared_field(level, segs[i].name)) return f->category;
  return std::nullopt;
}

// A field of the pod spec (level kPod) or of a container (kContainer), or one of their
// securityContext's (the level after it).
std::optional<Category> owned_field(const std::vector<Segment>& segs, size_t i, FieldLevel level,
                                    FieldLevel security) {
  if (is_field(segs, i, kSecurityContext)) return field_at(segs, i + 1, security);
  return field_at(segs, i, level);
}

std::optional<Category> pod_field(const std::vector<Segment>& segs, size_t i) {
  if (i >= segs.size() || segs[i].kind != Segment::Kind::kField) return std::nullopt;
  if (!is_container_list(segs[i].name)) {
    return owned_field(segs, i, FieldLevel::kPod, FieldLevel::kPodSecurity);
  }
  // containers[name=app].<field>
  if (i + 1 >= segs.size() || segs[i + 1].kind == Segment::Kind::kField) return std::nullopt;
  return owned_field(segs, i + 2, FieldLevel::kContainer, FieldLevel::kContainerSecurity);
}

}  // namespace

std::optional<Category> categorize(std::string_view kind, std::string_view canonical_path) {
  auto parsed = path::parse(canonical_path);
  if (!parsed) return std::nullopt;
  const std::vector<Segment>& segs = *parsed;
  std::string_view pod = pod_spec_path(kind);
  if (pod.empty()) pod = "spec.template.spec";  // unknown kinds with a pod template

  // spec.replicas: a leaf, so only the field itself.
  if (segs.size() == 2 && is_field(segs, 0, "spec")) {
    if (auto c = field_at(segs, 1, FieldLevel::kObjectSpec)) return c;
  }
  if (is_field(segs, 0, "metadata")) {
    if (auto c = field_at(segs, 1, FieldLevel::kMetadata)) return c;
  }
  if (pod != "spec") {
    // The pod template's own metadata: "spec.template.metadata.labels".
    std::string_view tmpl = pod.substr(0, pod.size() - std::string_view(".spec").size());
    size_t n = match_prefix(segs, tmpl);
    if (n > 0 && is_field(segs, n, "metadata")) {
      if (auto c = field_at(segs, n + 1, FieldLevel::kMetadata)) return c;
    }
  }
  size_t n = match_prefix(segs, pod);
  if (n == 0) return std::nullopt;
  return pod_field(segs, n);
}

}  // namespace plumbline
