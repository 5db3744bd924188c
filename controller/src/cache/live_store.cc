// LiveStore: the cache's objects in their projected form, keyed by ObjectRef (a LiveObject read
// back as a tree or an encoding: live_object.cc).
#include "plumbline/cache/live_store.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "plumbline/core/memory_estimate.h"

namespace plumbline {
namespace {

// A std::set node: three pointers and the colour, next to the value; malloc adds its header.
constexpr size_t kNodeOverhead = 4 * sizeof(void*) + 16;

bool in_scope(const ObjectRef& ref, std::string_view kind, std::string_view ns) {
  return ref.kind == kind && (ns.empty() || ref.ns == ns);
}

}  // namespace

size_t LiveObject::memory_bytes() const {
  return sizeof(LiveObject) + heap_bytes(ref.api_version) + heap_bytes(ref.kind) +
         heap_bytes(ref.ns) + heap_bytes(ref.name) + heap_bytes(uid) +
         heap_bytes(resource_version) + heap_bytes(projection);
}

std::string_view to_string(LiveStore::Change::Type type) {
  switch (type) {
    case LiveStore::Change::Type::kAdded:
      return "added";
    case LiveStore::Change::Type::kModified:
      return "modified";
    case LiveStore::Change::Type::kDeleted:
      return "deleted";
  }
  return "?";
}

std::vector<LiveStore::Change> LiveStore::replace(std::string_view kind, std::string_view ns,
                                                  std::vector<LiveObject> objects) {
  using Type = Change::Type;
  // The fresh list by ref; a duplicate ref keeps the last one.
  std::erase_if(objects, [&](const LiveObject& o) { return !in_scope(o.ref, kind, ns); });
  std::stable_sort(objects.begin(), objects.end(),
                   [](const LiveObject& a, const LiveObject& b) { return a.ref < b.ref; });
  std::vector<LiveObject> fresh;
  fresh.reserve(objects.size());
  for (LiveObject& o : objects) {
    if (!fresh.empty() && fresh.back().ref == o.ref) {
      fresh.back() = std::move(o);
    } else {
      fresh.push_back(std::move(o));
    }
  }

  std::vector<Change> changes;
  // Deleted: in the store and in scope, but not in the fresh list. Both are sorted by ref.
  auto next = fresh.begin();
  for (auto it = objects_.begin(); it != objects_.end();) {
    if (!in_scope(it->ref, kind, ns)) {
      ++it;
      continue;
    }
    while (next != fresh.end() && next->ref < it->ref) ++next;
    if (next == fresh.end() || next->ref != it->ref) {
      changes.push_back({Type::kDeleted, it->ref});
      it = objects_.erase(it);
    } else {
      ++it;
    }
  }
  // Added and modified. An unchanged object is still replaced by its fresh projection (a
  // relist after the Projector's scope changed refreshes the cache), without a change.
  for (LiveObject& o : fresh) {
    auto it = objects_.find(o.ref);
    if (it == objects_.end()) {
      changes.push_back({Type::kAdded, o.ref});
      objects_.insert(std::move(o));
      continue;
    }
    if (it->resource_version != o.resource_version || it->uid != o.uid) {
      changes.push_back({Type::kModified, o.ref});
    }
    auto node = objects_.extract(it);  // same key: reuse the node
    node.value() = std::move(o);
    objects_.insert(std::move(node));
  }
  std::sort(changes.begin(), changes.end(),
            [](const Change& a, const Change& b) { return a.ref < b.ref; });
  return changes;
}

std::optional<LiveStore::Change> LiveStore::apply(WatchEvent event) {
  using Type = Change::Type;
  LiveObject& object = event.object;
  switch (event.type) {
    case WatchEventType::kAdded:
    case WatchEventType::kModified: {
      auto it = objects_.find(object.ref);
      if (it == objects_.end()) {
        Change change{Type::kAdded, object.ref};
        objects_.insert(std::move(object));
        return change;
      }
      if (it->resource_version == object.resource_version && it->uid == object.uid) {
        return std::nullopt;
      }
      Change change{Type::kModified, object.ref};
      auto node = objects_.extract(it);
      node.value() = std::move(object);
      objects_.insert(std::move(node));
      return change;
    }
    case WatchEventType::kDeleted: {
      auto it = objects_.find(object.ref);
      if (it == objects_.end()) return std::nullopt;
      Change change{Type::kDeleted, it->ref};
      objects_.erase(it);
      return change;
    }
    case WatchEventType::kBookmark:
    case WatchEventType::kError:
      return std::nullopt;
  }
  return std::nullopt;
}

const LiveObject* LiveStore::find(const ObjectRef& ref) const {
  auto it = objects_.find(ref);
  return it == objects_.end() ? nullptr : &*it;
}

std::vector<json> LiveStore::materialize() const {
  std::vector<json> out;
  out.reserve(objects_.size());
  for (const LiveObject& o : objects_) out.push_back(o.to_json());
  return out;
}

std::vector<json> LiveStore::materialize(std::string_view ns) const {
  std::vector<json> out;
  for (const LiveObject& o : objects_) {
    if (o.ref.ns == ns) out.push_back(o.to_json());
  }
  return out;
}

std::vector<LiveObject> LiveStore::projected(std::string_view ns) const {
  std::vector<LiveObject> out;
  for (const LiveObject& o : objects_) {
    if (o.ref.ns == ns) out.push_back(o);
  }
  return out;
}

std::vector<LiveObject> LiveStore::take() {
  std::vector<LiveObject> out;
  out.reserve(objects_.size());
  while (!objects_.empty()) out.push_back(std::move(objects_.extract(objects_.begin()).value()));
  return out;
}

size_t LiveStore::memory_bytes() const {
  size_t total = sizeof(*this);
  for (const LiveObject& o : objects_) total += o.memory_bytes() + kNodeOverhead;
  return total;
}

}  // namespace plumbline
