#include "plumbline/snapshot/snapshot.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>

#include "plumbline/cache/live_store.h"
#include "plumbline/core/yaml.h"

namespace plumbline {
namespace {

bool is_list_kind(const json& object) {
  if (!object.is_object() || !object.contains("kind") || !object["kind"].is_string()) return false;
  const auto& kind = object["kind"].get_ref<const std::string&>();
  return kind == "List" || (kind.size() > 4 && kind.ends_with("List") && object.contains("items"));
}

Status add_object(std::vector<json>& out, json object, const SourceLocation& where) {
  PL_RETURN_IF_ERROR(validate_identity(object, where));
  out.push_back(std::move(object));
  return {};
}

// A minimal scanner over JSON text that finds where values end, for cutting a List into its
// items. It does not validate: the items are parsed by the Projector and the rest of the List
// by nlohmann, and anything it does not expect sends the whole input to the YAML reader.
class JsonScanner {
 public:
  explicit JsonScanner(std::string_view text) : t_(text) {}
  size_t pos = 0;
  bool failed = false;

  void skip_space() {
    while (pos < t_.size() &&
           (t_[pos] == ' ' || t_[pos] == '\n' || t_[pos] == '\r' || t_[pos] == '\t'))
      ++pos;
  }
  bool at(char c) {
    skip_space();
    return pos < t_.size() && t_[pos] == c;
  }
  bool expect(char c) {
    if (!at(c)) return fail();
    ++pos;
    return true;
  }
  bool done() {
    skip_space();
    return pos == t_.size();
  }
  // A string at pos (after its opening quote is checked); returns its raw text.
  std::string_view string() {
    size_t start = pos + 1;
    const char* p = t_.data() + start;
    const char* end = t_.data() + t_.size();
    for (;;) {
      const char* q = static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(end - p)));
      if (q == nullptr) {
        fail();
        return {};
      }
      size_t backslashes = 0;
      for (const char* b = q; b > p && b[-1] == '\\'; --b) ++backslashes;
      if (backslashes % 2 == 0) {
        pos = static_cast<size_t>(q - t_.data()) + 1;
        return t_.substr(start, pos - 1 - start);
      }
      p = q + 1;
    }
  }
  // Skips one value; false on malformed input.
  bool value() {
    skip_space();
    if (pos >= t_.size()) return fail();
    char c = t_[pos];
    if (c == '"') {
      string();
      return !failed;
    }
    if (c != '{' && c != '[') {
      while (pos < t_.size() && !std::strchr(",}] \n\r\t", t_[pos])) ++pos;
      return true;
    }
    size_t depth = 0;
    while (pos < t_.size()) {
      c = t_[pos];
      if (c == '"') {
        string();
        if (failed) return false;
        continue;
      }
      if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          ++pos;
          return true;
        }
      }
      ++pos;
    }
    return fail();
  }

 private:
  bool fail() {
    failed = true;
    return false;
  }
  std::string_view t_;
};

// A JSON List cut into its items; nullopt when the text is anything else.
struct ListText {
  std::string skeleton;  // the List with "items": []
  std::vector<std::string_view> items;
};

std::optional<ListText> split_json_list(std::string_view text) {
  JsonScanner s(text);
  if (!s.expect('{')) return std::nullopt;
  ListText out;
  size_t open = 0, close = 0;
  bool items = false;
  if (!s.at('}')) {
    do {
      if (!s.at('"')) return std::nullopt;
      std::string_view key = s.string();
      if (s.failed || !s.expect(':')) return std::nullopt;
      if (key == "items" && !items && s.at('[')) {
        items = true;
        open = s.pos++;
        if (!s.at(']')) {
          do {
            s.skip_space();
            size_t start = s.pos;
            if (!s.value()) return std::nullopt;
            out.items.push_back(text.substr(start, s.pos - start));
          } while (s.at(',') && ++s.pos);
        }
        close = s.pos;
        if (!s.expect(']')) return std::nullopt;
      } else if (key == "items" || !s.value()) {
        return std::nullopt;
      }
    } while (s.at(',') && ++s.pos);
  }
  if (!s.expect('}') || !s.done() || !items) return std::nullopt;
  out.skeleton.reserve(open + 1 + text.size() - close);
  out.skeleton.append(text.substr(0, open + 1)).append(text.substr(close));
  return out;
}

// The fast path of parse_live_snapshot_projected; nullopt sends the input to the YAML reader.
std::optional<std::vector<LiveObject>> project_json_list(std::string_view text,
                                                         const std::vector<Category>& scope,
                                                         TaskRunner* tasks) {
  if (std::memchr(text.data(), '\0', text.size()) != nullptr) return std::nullopt;
  std::optional<ListText> list = split_json_list(text);
  if (!list) return std::nullopt;
  json skeleton = json::parse(list->skeleton, nullptr, /*allow_exceptions=*/false);
  if (!is_list_kind(skeleton)) return std::nullopt;
  const Projector projector(scope);
  std::vector<LiveObject> out(list->items.size());
  // Items are projected in slices, side by side when a TaskRunner allows; each writes only its
  // own slots (Projector::project is const and parses with a per-thread parser).
  std::atomic<bool> refused{false};
  run_in_slices(tasks, out.size(), [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end && !refused.load(std::memory_order_relaxed); ++i) {
      // No fallback kind: an item without its own apiVersion or kind takes the YAML reader's way.
      Result<LiveObject> object = projector.project(list->items[i]);
      if (!object.ok()) {
        refused = true;
        return;
      }
      out[i] = std::move(*object);
    }
  });
  if (refused) return std::nullopt;
  return out;
}

}  // namespace

Result<std::vector<LiveObject>> parse_live_snapshot_projected(std::string_view text,
                                                              std::string_view file,
                                                              const std::vector<Category>& scope,
                                                              TaskRunner* tasks) {
  if (auto fast = project_json_list(text, scope, tasks)) return std::move(*fast);
  PL_ASSIGN_OR_RETURN(std::vector<json> whole, parse_live_snapshot(text, file));
  std::vector<LiveObject> out;
  out.reserve(whole.size());
  for (json& object : whole) {
    LiveObject o;
    o.ref = ObjectRef::of(object);
    o.projection = object.dump();
    object = nullptr;
    out.push_back(std::move(o));
  }
  return out;
}

Result<std::vector<json>> parse_live_snapshot(std::string_view text, std::string_view file) {
  PL_ASSIGN_OR_RETURN(auto docs, parse_yaml_documents(text, file));
  std::vector<json> out;
  size_t non_empty = 0;
  for (auto& doc : docs) {
    if (doc.value.is_null()) continue;
    ++non_empty;
    if (!doc.value.is_object()) {
      return invalid_input("a live snapshot must hold a List or objects, got a " +
                               std::string(doc.value.type_name()),
                           doc.location.to_string());
    }
    if (is_list_kind(doc.value)) {
      auto items = doc.value.find("items");
      if (items == doc.value.end() || !(items->is_array() || items->is_null())) {
        return invalid_input("List has no items array", doc.location.to_string());
      }
      if (items->is_null()) continue;
      size_t i = 0;
      for (auto& item : *items) {
        SourceLocation where = doc.location;
        where.file += " items[" + std::to_string(i++) + "]";
        // kubectl omits apiVersion/kind in typed lists (e.g. DeploymentList): derive them.
        if (item.is_object() && !item.contains("kind") &&
            doc.value["kind"].get<std::string>() != "List") {
          auto list_kind = doc.value["kind"].get<std::string>();
          item["kind"] = list_kind.substr(0, list_kind.size() - 4);
          if (doc.value.contains("apiVersion")) item["apiVersion"] = doc.value["apiVersion"];
        }
        PL_RETURN_IF_ERROR(add_object(out, std::move(item), where));
      }
      continue;
    }
    PL_RETURN_IF_ERROR(add_object(out, std::move(doc.value), doc.location));
  }
  if (non_empty == 0) {
    return invalid_input("live snapshot is empty (expected `kubectl get -o yaml` output)",
                         std::string(file));
  }
  return out;
}

}  // namespace plumbline
