// plumbline/cache/live_store.h — the compact projected form of live objects the LiveCache keeps.
//
// The LiveCache never holds whole API objects: a Projector reads one object (or the items of a
// LIST body, or one WATCH line) with simdjson's on-demand API and copies only the fields the
// DriftEngine and the PolicyEngine read into a minified JSON text: identity, labels, the
// managedFields entries pruned to those fields (for attribution), spec.replicas, the pod
// template's labels and the in-scope parts of the pod spec and its containers. DriftEngine and
// PolicyEngine give the same findings on `LiveObject::to_json()` as on the whole object, as
// long as the Projector's scope covers the DiffOptions scope and the categories the policy
// rules read (projection_scope() computes it).
//
//   Projector projector(projection_scope(policies));
//   PL_ASSIGN_OR_RETURN(ListPage page, parse_list(body, projector));
//   auto changes = store.replace("Deployment", "shop-prod", std::move(page.items));
//   auto drifts = compute_drift(desired, store.materialize("shop-prod"), options);
//
// Pure: no I/O, no threads. LiveStore is not thread-safe (the LiveCache guards it).
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/error.h"
#include "plumbline/core/findings.h"
#include "plumbline/core/object.h"

namespace plumbline {

struct Policy;

// A live object as the cache keeps it: identity + a compact JSON projection.
struct LiveObject {
  ObjectRef ref;  // apiVersion, kind, namespace, name
  std::string uid;
  std::string resource_version;
  // Minified JSON object: apiVersion, kind, metadata{name, namespace, uid, resourceVersion,
  // labels, managedFields (pruned)} and only the in-scope spec fields.
  std::string projection;

  // Whether to_json builds metadata.managedFields: only a drift's attribution reads them, and
  // they are about half of a projection's nodes.
  enum class ManagedFields { kKept, kLeftOut };
  // Materializes `projection` for the DriftEngine / PolicyEngine.
  json to_json(ManagedFields managed_fields = ManagedFields::kKept) const;
  // Appends the projection in the compact encoding (core/compact_encoding.h): the bytes
  // encode_value(to_json(managed_fields)) writes, for diff_encoded, without building a tree.
  void encode(std::string& out, ManagedFields managed_fields = ManagedFields::kKept) const;
  size_t memory_bytes() const;  // inline + heap bytes this entry holds (string capacities)
};

// The categories a Projector must keep so that drift and policy findings are the same as on
// whole objects: the scope of diff_options_for(policies) plus what the policies' rules read
// (requireLimits/qosClass -> resources, gomaxprocs/gomemlimit -> env + resources, selinux,
// capabilities, sysctls -> runtime, env -> env).
std::vector<Category> projection_scope(const std::vector<Policy>& policies);

class Projector {
 public:
  // Categories whose fields are kept. Always kept: identity, metadata.labels, container names.
  explicit Projector(std::vector<Category> scope = default_scope());
  // Keeps whole objects (the controller's own few resources), read by the same parser.
  static Projector whole_objects();

  // One whole API object (JSON text) -> LiveObject. `fallback_api_version/kind` fill in items
  // of a LIST, which carry no apiVersion/kind. Errors name the object and the field.
  Result<LiveObject> project(std::string_view object_json,
                             std::string_view fallback_api_version = {},
                             std::string_view fallback_kind = {}) const;

  const std::vector<Category>& scope() const { return scope_; }
  bool in_scope(Category c) const { return in_scope_[static_cast<size_t>(c)]; }

  struct Schema;  // internal: which fields to keep, per pod-template shape (cache/projection_*)

 private:
  std::vector<Category> scope_;
  bool in_scope_[16] = {};
  std::shared_ptr<const Schema> schema_;
  friend class ProjectionAccess;
};

struct ListPage {
  std::vector<LiveObject> items;
  std::string api_version;       // of the list ("apps/v1")
  std::string kind;              // of the items ("Deployment" for a DeploymentList)
  std::string resource_version;  // metadata.resourceVersion of the list
  std::string continue_token;    // metadata.continue ("" on the last page)
};

// A LIST response body (e.g. kind DeploymentList, apiVersion apps/v1). Items take apiVersion and
// kind from the list (kind minus "List") unless they carry their own. When body.capacity() -
// body.size() >= simdjson::SIMDJSON_PADDING the body is parsed in place, otherwise copied once
// into a padded buffer. A Status body (a failed LIST) is an error with its code, reason and
// message. One bad item fails the page: the cache never acts on a partial list.
Result<ListPage> parse_list(const std::string& body, const Projector& projector);
// metadata.continue of a LIST body, read without its items, so that the next page can be
// asked for while this one is parsed. "" when there is none or the body cannot be read
// (parse_list then says why). Padding as for parse_list.
std::string list_continue_token(const std::string& body);

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };
std::string_view to_string(WatchEventType type);  // "ADDED", ..., "ERROR"

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  // Added/Modified/Deleted: the projected object; Bookmark: only object.resource_version.
  LiveObject object;
  int error_code = 0;  // kError: the Status object's code (e.g. 410), reason and message
  std::string error_reason, error_message;
};

// One line of a watch stream: {"type":"ADDED","object":{...}}. Bad JSON or an unknown type is
// an Error naming the problem. Padding as for parse_list.
Result<WatchEvent> parse_watch_event(const std::string& line, const Projector& projector);

// The objects of the cache, keyed by ObjectRef. Not thread-safe (the LiveCache guards it).
class LiveStore {
 public:
  struct Change {
    enum class Type { kAdded, kModified, kDeleted } type;
    ObjectRef ref;
    bool operator==(const Change&) const = default;
  };

  // Replaces every object of `kind` in `ns` ("" = all namespaces) with a fresh LIST result;
  // returns what changed vs before (added, deleted, or modified = other resourceVersion or uid),
  // sorted by ref. Unchanged objects still take their fresh projection (so a relist after a
  // scope change refreshes the cache). Objects of another kind or namespace in `objects` are
  // ignored; of duplicate refs the last one counts.
  std::vector<Change> replace(std::string_view kind, std::string_view ns,
                              std::vector<LiveObject> objects);
  // Applies a watch event (Added/Modified/Deleted). Returns the change (an ADDED of a known
  // object is kModified, a MODIFIED of an unknown one kAdded), or nullopt when nothing changed
  // (same uid and resourceVersion, delete of an unknown object). Bookmark/Error: nullopt.
  std::optional<Change> apply(WatchEvent event);

  const LiveObject* find(const ObjectRef& ref) const;
  std::vector<json> materialize() const;  // all objects, sorted by ref, for compute_drift
  std::vector<json> materialize(std::string_view ns) const;
  std::vector<LiveObject> projected(std::string_view ns) const;  // copies, still projected
  // Every object, sorted by ref, moved out: the store is left empty (a one-shot read).
  std::vector<LiveObject> take();
  size_t size() const { return objects_.size(); }
  size_t memory_bytes() const;  // sum of entries + container overhead estimate

 private:
  struct ByRef {
    using is_transparent = void;
    bool operator()(const LiveObject& a, const LiveObject& b) const { return a.ref < b.ref; }
    bool operator()(const LiveObject& a, const ObjectRef& b) const { return a.ref < b; }
    bool operator()(const ObjectRef& a, const LiveObject& b) const { return a < b.ref; }
  };
  std::set<LiveObject, ByRef> objects_;
};

std::string_view to_string(LiveStore::Change::Type type);  // "added", "modified", "deleted"

}  // namespace plumbline
