#include "plumbline/diff/managed_fields.h"

#include <vector>

#include "plumbline/core/path.h"

namespace plumbline::diff {
namespace {

using path::Segment;

// The child of a fieldsV1 node for one path segment, or nullptr.
const json* step(const json& node, const Segment& seg) {
  if (!node.is_object()) return nullptr;
  if (seg.kind == Segment::Kind::kField) {
    auto it = node.find("f:" + seg.name);
    return it == node.end() ? nullptr : &*it;
  }
  const char* prefix = seg.kind == Segment::Kind::kKeyed ? "k:" : "v:";
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string& key = it.key();
    if (key.size() < 2 || key.compare(0, 2, prefix) != 0) continue;
    // Keys are JSON: k:{"containerPort":8080,"protocol":"TCP"}, v:"NET_ADMIN", v:1000.
    json parsed = json::parse(key.begin() + 2, key.end(), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) continue;
    if (seg.kind == Segment::Kind::kKeyed) {
      if (parsed.is_object() && parsed.contains(seg.key) &&
          path::key_text(parsed[seg.key]) == seg.value) {
        return &*it;
      }
    } else if (path::key_text(parsed) == seg.value) {
      return &*it;
    }
  }
  return nullptr;
}

// How many leading segments the manager owns: a leaf (`{}`) or an element marked `.`.
size_t owned_depth(const json& fields, const std::vector<Segment>& segs) {
  size_t owned = 0;
  const json* node = &fields;
  for (size_t i = 0; i < segs.size(); ++i) {
    node = step(*node, segs[i]);
    if (node == nullptr) break;
    if (!node->is_object() || node->empty() || node->contains(".")) owned = i + 1;
  }
  return owned;
}

const json* managed_fields(const json& live) {
  if (!live.is_object()) return nullptr;
  auto meta = live.find("metadata");
  if (meta == live.end() || !meta->is_object()) return nullptr;
  auto managed = meta->find("managedFields");
  if (managed == meta->end() || !managed->is_array()) return nullptr;
  return &*managed;
}

}  // namespace

bool owns(const json& live, std::string_view manager, std::string_view canonical_path) {
  const json* managed = managed_fields(live);
  auto segs = path::parse(canonical_path);
  if (managed == nullptr || !segs || segs->empty()) return false;
  for (const json& entry : *managed) {
    if (!entry.is_object() || entry.value("manager", "") != manager) continue;
    auto fields = entry.find("fieldsV1");
    if (fields != entry.end() && owned_depth(*fields, *segs) == segs->size()) return true;
  }
  return false;
}

FieldOwner find_owner(const json& live, std::string_view canonical_path) {
  FieldOwner best;
  const json* managed = managed_fields(live);
  if (managed == nullptr) return best;
  auto segs = path::parse(canonical_path);
  if (!segs) return best;
  size_t best_depth = 0;
  for (const json& entry : *managed) {
    if (!entry.is_object()) continue;
    auto fields = entry.find("fieldsV1");
    auto manager = entry.find("manager");
    if (fields == entry.end() || manager == entry.end() || !manager->is_string()) continue;
    size_t depth = owned_depth(*fields, *segs);
    if (depth == 0) continue;
    std::string time = entry.contains("time") && entry["time"].is_string()
                           ? entry["time"].get<std::string>()
                           : std::string{};
    // RFC 3339 timestamps in UTC order correctly as text.
    if (depth > best_depth || (depth == best_depth && time > best.time)) {
      best_depth = depth;
      best.manager = manager->get<std::string>();
      best.time = std::move(time);
    }
  }
  return best;
}

}  // namespace plumbline::diff
