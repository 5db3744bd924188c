#include "support/fake_kube_client.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "plumbline/core/path.h"
#include "plumbline/core/rfc3339.h"
#include "support/fake_field_sets.h"

namespace plumbline::testing {
namespace {

using FieldPath = FakeKubeClient::FieldPath;
using FieldSet = FakeKubeClient::FieldSet;

struct Kind {
  const char* api_version;
  const char* kind;
  const char* plural;
  bool namespaced;
};
constexpr Kind kKinds[] = {
    {"apps/v1", "Deployment", "deployments", true},
    {"apps/v1", "StatefulSet", "statefulsets", true},
    {"apps/v1", "DaemonSet", "daemonsets", true},
    {"apps/v1", "ReplicaSet", "replicasets", true},
    {"batch/v1", "Job", "jobs", true},
    {"batch/v1", "CronJob", "cronjobs", true},
    {"v1", "Event", "events", true},
    {"v1", "Secret", "secrets", true},
    {"v1", "ServiceAccount", "serviceaccounts", true},
    {"coordination.k8s.io/v1", "Lease", "leases", true},
    {"policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true},
    {"networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", true},
    {"plumbline.dev/v1alpha1", "Environment", "environments", false},
    {"plumbline.dev/v1alpha1", "ConsistencyPolicy", "consistencypolicies", false},
    {"plumbline.dev/v1alpha1", "DriftReport", "driftreports", true},
};

std::string group_kind(std::string_view api_version, std::string_view kind) {
  return api_group(api_version) + "/" + std::string(kind);
}

bool labels_match(const json& object, const std::string& selector) {
  if (selector.empty()) return true;
  size_t eq = selector.find('=');
  std::string key = selector.substr(0, eq), value = selector.substr(eq + 1);
  const json& labels = object["metadata"].value("labels", json::object());
  return labels.contains(key) && labels[key] == value;
}

}  // namespace

FakeKubeClient::FakeKubeClient() = default;

Result<bool> FakeKubeClient::begin(const std::string& verb, const ApiResource& resource) {
  ++calls_[verb];
  ++calls_[verb + " " + resource.resource];
  for (const std::string& key : {verb + " " + resource.resource, verb}) {
    auto it = failures_.find(key);
    if (it != failures_.end() && !it->second.empty()) {
      Error error = it->second.front();
      it->second.pop_front();
      return error;
    }
  }
  return true;
}

Status FakeKubeClient::fault(const std::string& verb, const Cancellation* cancel) {
  if (unavailable) return Error(ErrorCode::kUnavailable, "connection refused");
  if (silent && cancel != nullptr) {
    ++hung;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!cancel->cancelled() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return Error(ErrorCode::kCancelled, "cancelled");
  }
  bool write = verb == "create" || verb == "update" || verb == "apply" || verb == "patch";
  if (write && before_write) before_write(verb);
  return {};
}

std::string FakeKubeClient::key_of(const ApiResource& resource) const {
  return group_kind(resource.api_version(), resource.kind);
}

json FakeKubeClient::render(const Stored& stored) const {
  json object = stored.object;
  json managed = json::array();
  for (const Entry& e : stored.entries) {
    json entry = {{"manager", e.manager},
                  {"operation", e.operation},
                  {"apiVersion", object.value("apiVersion", "")},
                  {"time", e.time},
                  {"fieldsType", "FieldsV1"},
                  {"fieldsV1", fields_json(e.fields)}};
    if (!e.subresource.empty()) entry["subresource"] = e.subresource;
    managed.push_back(std::move(entry));
  }
  object["metadata"]["managedFields"] = managed;
  return object;
}

void FakeKubeClient::store(const ObjectRef& ref, Stored stored, const std::string& type) {
  // Managers that own nothing any more are dropped, as the API server does.
  stored.entries.erase(std::remove_if(stored.entries.begin(), stored.entries.end(),
                                      [](const Entry& e) { return e.fields.empty(); }),
                       stored.entries.end());
  stored.object["metadata"]["resourceVersion"] = std::to_string(++version_);
  events_.push_back({version_, type, group_kind(ref.api_version, ref.kind), render(stored)});
  objects_[ref] = std::move(stored);
  changed_.notify_all();
}

json FakeKubeClient::put(json object, const std::string& manager) {
  std::lock_guard lock(mu_);
  ObjectRef ref = ObjectRef::of(object);
  bool exists = objects_.count(ref) > 0;
  // As with a status subresource: a write of the object keeps the status it has.
  if (exists && !object.contains("status") && objects_[ref].object.contains("status")) {
    object["status"] = objects_[ref].object["status"];
  }
  Stored stored;
  stored.entries.push_back(
      {manager, "Update", "", fields_of(object), rfc3339(std::chrono::system_clock::now())});
  object["metadata"].erase("managedFields");
  stored.object = std::move(object);
  store(ref, std::move(stored), exists ? "MODIFIED" : "ADDED");
  return render(objects_[ref]);
}

void FakeKubeClient::remove(const ObjectRef& ref) {
  std::lock_guard lock(mu_);
  auto it = objects_.find(ref);
  if (it == objects_.end()) return;
  json last = render(it->second);
  objects_.erase(it);
  events_.push_back({++version_, "DELETED", group_kind(ref.api_version, ref.kind), last});
  changed_.notify_all();
}

std::optional<json> FakeKubeClient::object(const ObjectRef& ref) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(ref);
  if (it == objects_.end()) return std::nullopt;
  return render(it->second);
}

void FakeKubeClient::fail_next(const std::string& verb, Error error, int times) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < times; ++i) failures_[verb].push_back(error);
}

void FakeKubeClient::lose_answer_next(const std::string& verb) {
  std::lock_guard lock(mu_);
  ++lost_answers_[verb];
}

int FakeKubeClient::calls(const std::string& verb) const {
  std::lock_guard lock(mu_);
  auto it = calls_.find(verb);
  return it == calls_.end() ? 0 : it->second;
}

std::vector<json> FakeKubeClient::writes(const std::string& verb) const {
  std::lock_guard lock(mu_);
  auto it = writes_.find(verb);
  return it == writes_.end() ? std::vector<json>{} : it->second;
}

std::vector<std::string> FakeKubeClient::writers(const std::string& verb) const {
  std::lock_guard lock(mu_);
  auto it = writers_.find(verb);
  return it == writers_.end() ? std::vector<std::string>{} : it->second;
}

// The apiserver's 403 for an impersonated write RBAC does not allow.
Status FakeKubeClient::authorized(const std::string& user, const std::string& verb,
                                  const ApiResource& resource, std::string_view ns,
                                  std::string_view name) const {
  if (user.empty() || !authorize || authorize(user, verb, resource, ns)) return {};
  return Error(ErrorCode::kPermissionDenied,
               "forbidden: " + resource.qualified_name() + " \"" + std::string(name) +
                   "\" is forbidden: User \"" + user + "\" cannot patch resource \"" +
                   resource.resource + "\" in the namespace \"" + std::string(ns) + "\"");
}

std::vector<ApiCallCount> FakeKubeClient::call_counts() const {
  std::lock_guard lock(mu_);
  std::vector<ApiCallCount> out;
  for (const auto& [verb, n] : calls_) out.push_back({verb, 200, n});
  return out;
}

Result<ApiResource> FakeKubeClient::resource_for(std::string_view api_version,
                                                 std::string_view kind) {
  for (const Kind& k : kKinds) {
    if (api_version == k.api_version && kind == k.kind) {
      std::string_view v = k.api_version;
      size_t slash = v.find('/');
      return ApiResource{
          .group = slash == std::string_view::npos ? "" : std::string(v.substr(0, slash)),
          .version = std::string(slash == std::string_view::npos ? v : v.substr(slash + 1)),
          .kind = k.kind,
          .resource = k.plural,
          .namespaced = k.namespaced,
          .verbs = {}};
    }
  }
  return not_found("the server does not know " + std::string(api_version) + " " +
                   std::string(kind));
}

Result<std::string> FakeKubeClient::get(const ApiResource& resource, std::string_view ns,
                                        std::string_view name, const Cancellation* cancel) {
  PL_RETURN_IF_ERROR(fault("get", cancel));
  std::lock_guard lock(mu_);
  PL_RETURN_IF_ERROR(begin("get", resource));
  ObjectRef ref{resource.api_version(), resource.kind, std::string(ns), std::string(name)};
  auto it = objects_.find(ref);
  if (it == objects_.end()) return not_found(resource.kind + " " + ref.to_string() + " not found");
  return render(it->second).dump();
}

Result<std::string> FakeKubeClient::list(const ApiResource& resource, std::string_view ns,
                                         const ListOptions& options, const Cancellation* cancel) {
  PL_RETURN_IF_ERROR(fault("list", cancel));
  if (before_list) before_list(resource.resource);
  std::lock_guard lock(mu_);
  PL_RETURN_IF_ERROR(begin("list", resource));
  json items = json::array();
  for (const auto& [ref, stored] : objects_) {
    if (group_kind(ref.api_version, ref.kind) != key_of(resource)) continue;
    if (!ns.empty() && ref.ns != ns) continue;
    if (!labels_match(stored.object, options.label_selector)) continue;
    items.push_back(render(stored));
  }
  json body = {{"apiVersion", resource.api_version()},
               {"kind", resource.kind + "List"},
               {"metadata", {{"resourceVersion", std::to_string(version_)}}},
               {"items", items}};
  std::string text = body.dump();
  text.reserve(text.size() + 64);  // simdjson's padding
  return text;
}

Status FakeKubeClient::watch(const ApiResource& resource, std::string_view ns,
                             const WatchOptions& options,
                             const std::function<bool(std::string& line)>& on_event,
                             const Cancellation& cancel) {
  PL_RETURN_IF_ERROR(fault("watch", nullptr));
  std::unique_lock lock(mu_);
  PL_RETURN_IF_ERROR(begin("watch", resource));
  long from = options.resource_version.empty() ? version_ : std::stol(options.resource_version);
  size_t next = 0;
  while (!cancel.cancelled()) {
    for (; next < events_.size(); ++next) {
      const Event& e = events_[next];
      if (e.version <= from || e.group_kind != key_of(resource)) continue;
      if (!ns.empty() && e.object["metadata"].value("namespace", "") != ns) continue;
      if (!labels_match(e.object, options.label_selector)) continue;
      std::string line = json{{"type", e.type}, {"object", e.object}}.dump();
      line.reserve(line.size() + 64);
      lock.unlock();
      bool more = on_event(line);
      lock.lock();
      if (!more) return {};
    }
    changed_.wait_for(lock, std::chrono::milliseconds(20));
  }
  return Error(ErrorCode::kCancelled, "watch cancelled");
}

Result<json> FakeKubeClient::apply(const ApiResource& resource, const json& config,
                                   const ApplyOptions& options) {
  PL_RETURN_IF_ERROR(fault("apply", options.cancel));
  std::lock_guard lock(mu_);
  PL_RETURN_IF_ERROR(begin("apply", resource));
  writes_["apply " + resource.resource].push_back(config);
  writers_["apply " + resource.resource].push_back(options.impersonate_user);
  ObjectRef ref = ObjectRef::of(config);
  if (ref.api_version.empty()) ref.api_version = resource.api_version();
  PL_RETURN_IF_ERROR(authorized(options.impersonate_user, "apply", resource, ref.ns, ref.name));
  auto it = objects_.find(ref);
  bool exists = it != objects_.end();
  Stored stored = exists ? it->second : Stored{};
  if (!exists) {
    stored.object = {{"apiVersion", config.value("apiVersion", "")},
                     {"kind", config.value("kind", "")},
                     {"metadata", {{"name", ref.name}}}};
    if (!ref.ns.empty()) stored.object["metadata"]["namespace"] = ref.ns;
  }
  const std::string sub = options.subresource;
  json body = config;
  if (sub == "status") {
    body = {{"status", config.value("status", json::object())}};
  } else {
    body.erase("status");
  }
  FieldSet applied = fields_of(body);
  for (Entry& other : stored.entries) {
    if (other.manager == options.field_manager && other.operation == "Apply" &&
        other.subresource == sub) {
      continue;
    }
    for (const FieldPath& f : applied) {
      if (!other.fields.count(f)) continue;
      json* mine = node_at(body, f, f.back() == "." ? f.size() - 1 : f.size());
      json* theirs = node_at(stored.object, f, f.back() == "." ? f.size() - 1 : f.size());
      bool same = f.back() == "." || (mine != nullptr && theirs != nullptr && *mine == *theirs);
      if (same) continue;  // shared ownership
      if (!options.force) {
        return Error(ErrorCode::kConflict,
                     "Apply failed with 1 conflict: conflict with \"" + other.manager + "\"");
      }
      other.fields.erase(f);
    }
  }
  // What this manager stops sending is removed when nobody else owns it.
  FieldSet previous;
  auto mine = std::find_if(stored.entries.begin(), stored.entries.end(), [&](const Entry& e) {
    return e.manager == options.field_manager && e.operation == "Apply" && e.subresource == sub;
  });
  const Entry* own = mine == stored.entries.end() ? nullptr : &*mine;
  if (own != nullptr) previous = own->fields;
  if (options.dry_run) return render(stored);
  json merged = stored.object;
  merge_into(merged, body, "");
  for (const FieldPath& f : previous) {
    if (applied.count(f)) continue;
    bool owned = std::any_of(stored.entries.begin(), stored.entries.end(),
                             [&](const Entry& e) { return &e != own && e.fields.count(f); });
    if (!owned) erase_at(merged, f);
  }
  if (mine != stored.entries.end()) {
    mine->fields = applied;
    mine->time = rfc3339(std::chrono::system_clock::now());
  } else {
    stored.entries.push_back(
        {options.field_manager, "Apply", sub, applied, rfc3339(std::chrono::system_clock::now())});
  }
  stored.object = std::move(merged);
  store(ref, std::move(stored), exists ? "MODIFIED" : "ADDED");
  for (const std::string& key :
       {"apply " + resource.resource + "/" + sub, "apply " + resource.resource}) {
    auto lost = lost_answers_.find(key);
    if (lost != lost_answers_.end() && lost->second > 0) {
      --lost->second;
      return Error(ErrorCode::kUnavailable, "connection reset by peer (the write landed)");
    }
  }
  return render(objects_[ref]);
}

Result<json> FakeKubeClient::patch(const ApiResource& resource, std::string_view ns,
                                   std::string_view name, const json& body,
                                   const PatchOptions& options) {
  PL_RETURN_IF_ERROR(fault("patch", options.cancel));
  std::lock_guard lock(mu_);
  PL_RETURN_IF_ERROR(begin("patch", resource));
  writes_["patch " + resource.resource].push_back(body);
  writers_["patch " + resource.resource].push_back(options.impersonate_user);
  PL_RETURN_IF_ERROR(authorized(options.impersonate_user, "patch", resource, ns, name));
  if (options.type != PatchType::kStrategicMerge) {
    return invalid_input("the fake API server takes strategic-merge patches only");
  }
  ObjectRef ref{resource.api_version(), resource.kind, std::string(ns), std::string(name)};
  auto it = objects_.find(ref);
  if (it == objects_.end()) return not_found(ref.to_string() + " not found");
  Stored stored = it->second;
  json patch = body;
  if (patch.contains("metadata") && patch["metadata"].contains("resourceVersion")) {
    if (patch["metadata"]["resourceVersion"] != stored.object["metadata"]["resourceVersion"]) {
      return Error(ErrorCode::kConflict, "the object has been modified");
    }
    patch["metadata"].erase("resourceVersion");
    if (patch["metadata"].empty()) patch.erase("metadata");
  }
  if (options.dry_run) return render(stored);
  json before = stored.object;
  strategic_merge(stored.object, patch, "");
  // Ownership: what the patch removed is nobody's; what it set is the patcher's.
  FieldSet now = fields_of(stored.object);
  FieldSet set_by_patch;
  for (const FieldPath& f : fields_of(patch)) {
    if (now.count(f)) set_by_patch.insert(f);
  }
  for (Entry& e : stored.entries) {
    for (auto f = e.fields.begin(); f != e.fields.end();) {
      bool gone = !now.count(*f) && f->back() != ".";
      bool marker_gone = f->back() == "." && node_at(stored.object, *f, f->size() - 1) == nullptr;
      f = (gone || marker_gone || set_by_patch.count(*f)) ? e.fields.erase(f) : std::next(f);
    }
  }
  auto mine = std::find_if(stored.entries.begin(), stored.entries.end(), [&](const Entry& e) {
    return e.manager == options.field_manager && e.operation == "Update";
  });
  if (mine == stored.entries.end()) {
    stored.entries.push_back({options.field_manager, "Update", "", set_by_patch,
                              rfc3339(std::chrono::system_clock::now())});
  } else {
    mine->fields.insert(set_by_patch.begin(), set_by_patch.end());
    mine->time = rfc3339(std::chrono::system_clock::now());
  }
  if (stored.object == before) return render(it->second);
  store(ref, std::move(stored), "MODIFIED");
  return render(objects_[ref]);
}

Result<json> FakeKubeClient::create(const ApiResource& resource, std::string_view ns,
                                    const json& object, const Cancellation* cancel) {
  PL_RETURN_IF_ERROR(fault("create", cancel));
  std::lock_guard lock(mu_);
  PL_RETURN_IF_ERROR(begin("create", resource));
  writes_["create " + resource.resource].push_back(object);
  ObjectRef ref = ObjectRef::of(object);
  if (ref.api_version.empty()) ref.api_version = resource.api_version();
  if (ref.ns.empty()) ref.ns = std::string(ns);
  if (objects_.count(ref)) return Error(ErrorCode::kConflict, ref.to_string() + " already exists");
  Stored stored;
  stored.object = object;
  stored.object["metadata"]["namespace"] = ref.ns;
  stored.entries.push_back(
      {"plumbline", "Update", "", fields_of(object), rfc3339(std::chrono::system_clock::now())});
  store(ref, std::move(stored), "ADDED");
  return render(objects_[ref]);
}

Result<json> FakeKubeClient::update(const ApiResource& resource, const json& object,
                                    const Cancellation* cancel) {
  PL_RETURN_IF_ERROR(fault("update", cancel));
  std::lock_guard lock(mu_);
  PL_RETURN_IF_ERROR(begin("update", resource));
  writes_["update " + resource.resource].push_back(object);
  ObjectRef ref = ObjectRef::of(object);
  if (ref.api_version.empty()) ref.api_version = resource.api_version();
  auto it = objects_.find(ref);
  if (it == objects_.end()) return not_found(ref.to_string() + " not found");
  if (object["metadata"].value("resourceVersion", "") !=
      it->second.object["metadata"].value("resourceVersion", "")) {
    return Error(ErrorCode::kConflict, "the object has been modified");
  }
  Stored stored = it->second;
  json status = stored.object.value("status", json());
  stored.object = object;
  stored.object["metadata"].erase("managedFields");
  if (!status.is_null()) stored.object["status"] = status;
  store(ref, std::move(stored), "MODIFIED");
  return render(objects_[ref]);
}

Result<json> FakeKubeClient::update_status(const ApiResource& resource, const json& object,
                                           const Cancellation* cancel) {
  PL_RETURN_IF_ERROR(fault("update", cancel));
  std::lock_guard lock(mu_);
  PL_RETURN_IF_ERROR(begin("update", resource));
  ObjectRef ref = ObjectRef::of(object);
  if (ref.api_version.empty()) ref.api_version = resource.api_version();
  auto it = objects_.find(ref);
  if (it == objects_.end()) return not_found(ref.to_string() + " not found");
  Stored stored = it->second;
  stored.object["status"] = object.value("status", json::object());
  store(ref, std::move(stored), "MODIFIED");
  return render(objects_[ref]);
}

}  // namespace plumbline::testing
