// compute_drift / diff_object: Git (desired) against the cluster (live). The field walk is
// diff/walker.cc; this file matches objects, names the drift types and attributes live values.
#include <algorithm>
#include <span>
#include <unordered_map>

#include "diff/walker.h"
#include "plumbline/core/compact_encoding.h"
#include "plumbline/diff/drift.h"
#include "plumbline/diff/managed_fields.h"

namespace plumbline {
namespace {

const std::string* string_at(const json& node, const char* key) {
  if (!node.is_object()) return nullptr;
  auto it = node.find(key);
  return it != node.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

// Identity for matching: the group, not the version (apps/v1beta2 and apps/v1 are one object).
std::string match_key(const json& object) {
  std::string key;
  key.reserve(64);
  if (const std::string* v = string_at(object, "apiVersion")) {
    auto slash = v->find('/');
    if (slash != std::string::npos) key.append(*v, 0, slash);  // api_group() without a copy
  }
  key += '\x1f';
  if (const std::string* k = string_at(object, "kind")) key += *k;
  auto meta = object.is_object() ? object.find("metadata") : object.end();
  if (object.is_object() && meta != object.end()) {
    key += '\x1f';
    if (const std::string* ns = string_at(*meta, "namespace")) key += *ns;
    key += '\x1f';
    if (const std::string* name = string_at(*meta, "name")) key += *name;
  }
  return key;
}

// Drifts of one pair, appended to `out`; `Desired` is a Manifest or a CompactManifest (the
// walker reads the matching form), either locates a path in Git.
template <typename Walker, typename Desired, typename Node>
void diff_pair(Walker& walker, const Desired& desired, Node desired_root, Node live_root,
               std::vector<diff::RawFinding>& scratch, std::vector<Drift>& out) {
  scratch.clear();
  walker.walk_object(desired_root, live_root, scratch);
  if (scratch.empty()) return;
  ObjectRef ref = desired.ref();
  for (diff::RawFinding& f : scratch) {
    Drift d;
    d.object = ref;
    d.category = f.category;
    d.type = f.side == diff::Side::kBoth       ? DriftType::kChanged
             : f.side == diff::Side::kLeftOnly ? DriftType::kMissing
                                               : DriftType::kExtra;
    d.desired = std::move(f.left);
    d.live = std::move(f.right);
    d.source = desired.locate(f.path);
    d.path = std::move(f.path);
    out.push_back(std::move(d));
  }
}

void diff_pair(diff::Walker& walker, const Manifest& desired, const json& live,
               std::vector<diff::RawFinding>& scratch, std::vector<Drift>& out) {
  size_t before = out.size();
  diff_pair(walker, desired, diff::JsonNode(&desired.object), diff::JsonNode(&live), scratch, out);
  attribute_owners(std::span(out).subspan(before), live);
}

}  // namespace

bool has_live_owner(const Drift& drift) {
  return drift.type == DriftType::kChanged || drift.type == DriftType::kExtra;
}

void attribute_owners(std::span<Drift> drifts, const json& live) {
  for (Drift& d : drifts) {
    if (!has_live_owner(d)) continue;
    diff::FieldOwner owner = diff::find_owner(live, d.path);
    d.live_manager = std::move(owner.manager);
    d.live_changed_at = std::move(owner.time);
  }
}

void sort_drifts(std::vector<Drift>& drifts) {
  std::sort(drifts.begin(), drifts.end(), [](const Drift& a, const Drift& b) {
    if (auto c = a.object <=> b.object; c != 0) return c < 0;
    if (a.path != b.path) return a.path < b.path;
    return a.type < b.type;
  });
}

Drift object_missing(const Manifest& desired) {
  return object_missing(desired.ref(), desired.origin);
}

Drift object_missing(const ObjectRef& desired, const SourceLocation& origin) {
  Drift d;
  d.object = desired;
  d.type = DriftType::kObjectMissing;
  d.source = origin;
  return d;
}

std::optional<Drift> object_extra(const json& live, const DiffOptions& options) {
  if (options.environment.empty() || !live.is_object()) return std::nullopt;
  auto meta = live.find("metadata");
  if (meta == live.end() || !meta->is_object()) return std::nullopt;
  auto labels = meta->find("labels");
  const std::string* env =
      labels != meta->end() ? string_at(*labels, "plumbline.dev/environment") : nullptr;
  if (env == nullptr || *env != options.environment) return std::nullopt;
  Drift d;
  d.object = ObjectRef::of(live);
  d.type = DriftType::kObjectExtra;
  return d;
}

std::vector<Drift> diff_object(const Manifest& desired, const json& live,
                               const DiffOptions& options) {
  diff::Walker walker(options, diff::Mode::kDrift);
  std::vector<diff::RawFinding> scratch;
  std::vector<Drift> out;
  diff_pair(walker, desired, live, scratch, out);
  sort_drifts(out);
  return out;
}

std::vector<Drift> diff_encoded(const CompactManifest& desired, std::string_view live,
                                const DiffOptions& options) {
  diff::EncodedWalker walker(options, diff::Mode::kDrift);
  thread_local std::vector<std::uint32_t> desired_ends, live_ends;  // reused, object to object
  diff::EncodedDocument desired_document(*compact_encoding::encoding_of(desired), desired_ends);
  diff::EncodedDocument live_document(live, live_ends);
  std::vector<diff::RawFinding> scratch;
  std::vector<Drift> out;
  diff_pair(walker, desired, desired_document.root(), live_document.root(), scratch, out);
  sort_drifts(out);
  return out;
}

std::vector<Drift> compute_drift(const ManifestSet& desired, const std::vector<json>& live,
                                 const DiffOptions& options) {
  std::unordered_map<std::string, size_t> index;
  index.reserve(live.size());
  for (size_t i = 0; i < live.size(); ++i) index.emplace(match_key(live[i]), i);
  std::vector<bool> matched(live.size(), false);

  diff::Walker walker(options, diff::Mode::kDrift);
  std::vector<diff::RawFinding> scratch;
  std::vector<Drift> out;
  for (const Manifest& manifest : desired) {
    auto it = index.find(match_key(manifest.object));
    if (it == index.end()) {
      out.push_back(object_missing(manifest));
      continue;
    }
    matched[it->second] = true;
    diff_pair(walker, manifest, live[it->second], scratch, out);
  }
  for (size_t i = 0; i < live.size(); ++i) {
    if (matched[i]) continue;
    if (std::optional<Drift> extra = object_extra(live[i], options))
      out.push_back(std::move(*extra));
  }
  sort_drifts(out);
  return out;
}

}  // namespace plumbline
