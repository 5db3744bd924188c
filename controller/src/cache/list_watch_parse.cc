// LIST bodies and WATCH lines: their envelope read with simdjson on-demand, each object
// through the Projector (projected or whole). The one reader of watch events, whatever the
// LiveCache keeps.
#include <optional>

#include "cache/projection_walk.h"
#include "plumbline/core/utf8.h"

namespace plumbline {

namespace {

// Input with SIMDJSON_PADDING readable bytes after it: in place when the string's capacity
// allows, else one padded copy.
class PaddedInput {
 public:
  explicit PaddedInput(const std::string& text) {
    if (text.capacity() - text.size() >= simdjson::SIMDJSON_PADDING) {
      view_ = simdjson::padded_string_view(text.data(), text.size(), text.capacity());
    } else {
      copy_ = simdjson::padded_string(text);
      view_ = copy_;
    }
  }
  explicit PaddedInput(std::string_view text) : copy_(text) { view_ = copy_; }
  simdjson::padded_string_view view() const { return view_; }
  bool copied() const { return copy_.size() > 0; }

 private:
  simdjson::padded_string copy_;
  simdjson::padded_string_view view_;
};

// Small documents (one object, one watch line) reuse a per-thread parser; it is bounded by
// the largest such document (etcd caps objects at 1.5 MiB). LIST bodies use their own.
od::parser& small_parser() {
  thread_local od::parser parser;
  return parser;
}

// The start of a document that is not an object, for the message.
Error not_an_object(std::string_view text, std::string where) {
  std::string start = utf8_prefix(text, 40);
  return invalid_input(
      "expected a JSON object, got '" + start + (text.size() > start.size() ? "...'" : "'"),
      std::move(where));
}

Error json_error(simdjson::error_code e, std::string where) {
  return invalid_input(json_error_message(e), std::move(where));
}

// After the root value: only whitespace may follow (simdjson 3.0 has no document::at_end();
// current_location() is out of bounds at the end).
bool at_end(od::document& doc) { return doc.current_location().error() != simdjson::SUCCESS; }

Status check_end(od::document& doc, const std::string& where) {
  if (!at_end(doc))
    return invalid_input("invalid JSON: trailing content after the document", where);
  return {};
}

}  // namespace

Result<LiveObject> Projector::project(std::string_view object_json,
                                      std::string_view fallback_api_version,
                                      std::string_view fallback_kind) const {
  PaddedInput input(object_json);
  od::document doc;
  if (auto e = small_parser().iterate(input.view()).get(doc); e) return json_error(e, "object");
  od::value root;
  if (auto e = doc.get_value().get(root); e) return json_error(e, "object");
  PL_ASSIGN_OR_RETURN(LiveObject object,
                      ProjectionAccess::project(*this, root, fallback_api_version, fallback_kind));
  PL_RETURN_IF_ERROR(check_end(doc, object.ref.to_string()));
  return object;
}

std::string_view to_string(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded:
      return "ADDED";
    case WatchEventType::kModified:
      return "MODIFIED";
    case WatchEventType::kDeleted:
      return "DELETED";
    case WatchEventType::kBookmark:
      return "BOOKMARK";
    case WatchEventType::kError:
      return "ERROR";
  }
  return "?";
}

namespace {

// A Status object (a failed request): code, reason, message. Fields of other types are left
// at their defaults.
struct StatusInfo {
  int code = 0;
  std::string reason, message;
};

Result<StatusInfo> read_status(od::value value, const std::string& where) {
  StatusInfo status;
  od::object object;
  if (auto e = value.get_object().get(object); e) return json_error(e, where);
  auto e = for_each_field(object, [&](std::string_view key, od::value v) {
    if (key == "code") {
      int64_t code = 0;
      if (v.get_int64().get(code) == simdjson::SUCCESS) status.code = static_cast<int>(code);
    } else if (key == "reason" || key == "message") {
      std::string_view text;
      if (v.get_string().get(text) == simdjson::SUCCESS) {
        (key == "reason" ? status.reason : status.message).assign(text);
      }
    }
    return true;
  });
  if (e) return json_error(e, where);
  return status;
}

std::string status_text(const StatusInfo& s) {
  std::string out = s.reason.empty() ? "Failure" : s.reason;
  if (!s.message.empty()) out += ": " + s.message;
  if (s.code != 0) out += " (code " + std::to_string(s.code) + ")";
  return out;
}

// The top-level object of a document; `text` for the message when it is not an object.
Result<od::object> top_object(od::document& doc, std::string_view text, const std::string& where) {
  od::object top;
  if (auto e = doc.get_object().get(top); e) {
    if (e == simdjson::INCORRECT_TYPE) return not_an_object(text, where);
    return json_error(e, where);
  }
  return top;
}

// String fields of the top-level object read into their targets (`targets[i]` for
// `names[i]`), stopping once all are found (the apiserver writes them first). A field present
// but not a string is an error naming `prefix` + the field.
template <size_t N>
Status read_strings(od::object& object, const std::string_view (&names)[N],
                    std::string* const (&targets)[N], const std::string& prefix,
                    const std::string& where, bool stop_when_found) {
  std::optional<Error> failure;
  size_t found = 0;
  auto e = for_each_field(object, [&](std::string_view key, od::value v) {
    for (size_t i = 0; i < N; ++i) {
      if (key != names[i]) continue;
      std::string_view text;
      if (v.get_string().get(text)) {
        failure = invalid_input(prefix + std::string(key) + " must be a string", where);
        return false;
      }
      targets[i]->assign(text);
      return !(stop_when_found && ++found == N);
    }
    return true;
  });
  if (e) return json_error(e, where);
  if (failure) return *failure;
  return {};
}

}  // namespace

Result<ListPage> parse_list(const std::string& body, const Projector& projector) {
  const std::string where = "LIST response";
  PaddedInput input(body);
  od::parser parser;  // sized to this body and freed with it
  od::document doc;
  if (auto e = parser.iterate(input.view()).get(doc); e) return json_error(e, where);
  // apiVersion and kind first (the apiserver writes them first; otherwise one extra pass over
  // the top-level keys), so that items can take them.
  ListPage page;
  std::string list_kind;
  {
    PL_ASSIGN_OR_RETURN(od::object top, top_object(doc, body, where));
    PL_RETURN_IF_ERROR(read_strings(top, {"apiVersion", "kind"}, {&page.api_version, &list_kind},
                                    "", where, /*stop_when_found=*/true));
  }
  if (list_kind == "Status") {
    doc.rewind();
    od::value value;
    if (auto e = doc.get_value().get(value); e) return json_error(e, where);
    PL_ASSIGN_OR_RETURN(StatusInfo status, read_status(value, where));
    return Error(code_for_http_status(status.code), "the LIST failed: " + status_text(status),
                 where);
  }
  if (list_kind.size() > 4 && list_kind.compare(list_kind.size() - 4, 4, "List") == 0) {
    page.kind = list_kind.substr(0, list_kind.size() - 4);
  }
  std::string list_where = list_kind.empty() ? where : list_kind;
  doc.rewind();
  od::object top;
  if (auto e = doc.get_object().get(top); e) return json_error(e, list_where);
  bool has_items = false;
  std::optional<Error> failure;
  auto fail = [&](Error error) {
    failure = std::move(error);
    return false;
  };
  auto e = for_each_field(top, [&](std::string_view key, od::value value) {
    if (key == "metadata") {
      od::object meta;
      if (auto e = value.get_object().get(meta); e) {
        if (e == simdjson::INCORRECT_TYPE)
          return fail(invalid_input("metadata must be an object", list_where));
        return fail(json_error(e, list_where));
      }
      Status read = read_strings(meta, {"resourceVersion", "continue"},
                                 {&page.resource_version, &page.continue_token}, "metadata.",
                                 list_where, /*stop_when_found=*/false);
      return read.ok() || fail(std::move(read).error());
    }
    if (key != "items") return true;
    has_items = true;
    od::json_type type;
    if (auto e = value.type().get(type); e) return fail(json_error(e, list_where));
    if (type == od::json_type::null) return true;  // an empty list may say "items": null
    od::array items;
    if (auto e = value.get_array().get(items); e) {
      if (e == simdjson::INCORRECT_TYPE)
        return fail(invalid_input("items must be an array", list_where));
      return fail(json_error(e, list_where));
    }
    auto e = for_each_element(items, [&](size_t i, od::value item) {
      auto object = ProjectionAccess::project(projector, item, page.api_version, page.kind);
      if (!object) {
        Error err = std::move(object).error();
        return fail(err.context(list_where + " item " + std::to_string(i)));
      }
      page.items.push_back(std::move(*object));
      return true;
    });
    return !e || fail(json_error(e, list_where));
  });
  if (e) return json_error(e, list_where);
  if (failure) return *failure;
  PL_RETURN_IF_ERROR(check_end(doc, list_where));
  if (!has_items) return invalid_input("not a LIST response: no items", list_where);
  return page;
}

std::string list_continue_token(const std::string& body) {
  PaddedInput input(body);
  od::parser parser;
  od::document doc;
  od::object top;
  if (parser.iterate(input.view()).get(doc) || doc.get_object().get(top)) return {};
  std::string token;
  // The apiserver writes metadata before items: this reads a few hundred bytes.
  auto e = for_each_field(top, [&](std::string_view key, od::value value) {
    if (key != "metadata") return true;
    od::object meta;
    std::string_view text;
    if (!value.get_object().get(meta) && !meta["continue"].get_string().get(text)) {
      token.assign(text);
    }
    return false;
  });
  return e ? std::string() : token;
}

namespace {

std::optional<WatchEventType> watch_event_type(std::string_view text) {
  for (WatchEventType type :
       {WatchEventType::kAdded, WatchEventType::kModified, WatchEventType::kDeleted,
        WatchEventType::kBookmark, WatchEventType::kError}) {
    if (to_string(type) == text) return type;
  }
  return std::nullopt;
}

// {"kind":"Deployment","apiVersion":"apps/v1","metadata":{"resourceVersion":"12746"}}
Status read_bookmark(od::value value, WatchEvent& event, const std::string& where) {
  od::object object;
  if (auto e = value.get_object().get(object); e) return json_error(e, where);
  std::optional<Error> failure;
  auto e = for_each_field(object, [&](std::string_view name, od::value v) {
    if (name != "metadata") return true;
    od::object meta;
    if (v.get_object().get(meta)) {
      failure = invalid_input("metadata must be an object", where);
      return false;
    }
    std::string_view rv;
    auto found = meta.find_field_unordered("resourceVersion");
    if (found.error() == simdjson::SUCCESS && found.get_string().get(rv) == simdjson::SUCCESS) {
      event.object.resource_version.assign(rv);
    }
    return true;
  });
  if (e) return json_error(e, where);
  if (failure) return *failure;
  if (event.object.resource_version.empty()) {
    return invalid_input("missing metadata.resourceVersion", where);
  }
  return {};
}

}  // namespace

Result<WatchEvent> parse_watch_event(const std::string& line, const Projector& projector) {
  const std::string where = "watch event";
  PaddedInput input(line);
  od::document doc;
  if (auto e = small_parser().iterate(input.view()).get(doc); e) return json_error(e, where);
  // The type first (the apiserver writes it first), then the object.
  std::string type_text;
  {
    PL_ASSIGN_OR_RETURN(od::object top, top_object(doc, line, where));
    std::string absent = "\x01";  // no event type contains it
    type_text = absent;
    PL_RETURN_IF_ERROR(read_strings(top, {"type"}, {&type_text}, "", where, true));
    if (type_text == absent) return invalid_input("missing type", where);
  }
  WatchEvent event;
  std::optional<WatchEventType> type = watch_event_type(type_text);
  if (!type) return invalid_input("unknown watch event type \"" + type_text + "\"", where);
  event.type = *type;
  std::string typed_where = where + " " + type_text;
  doc.rewind();
  od::object top;
  if (auto e = doc.get_object().get(top); e) return json_error(e, typed_where);
  bool has_object = false;
  std::optional<Error> failure;
  auto e = for_each_field(top, [&](std::string_view key, od::value value) {
    if (key != "object") return true;
    has_object = true;
    Status read = [&]() -> Status {
      od::json_type json_type;
      if (auto e = value.type().get(json_type); e) return json_error(e, typed_where);
      if (json_type != od::json_type::object) {
        return invalid_input(
            "object must be a JSON object, got " + std::string(type_name(json_type)), typed_where);
      }
      if (event.type == WatchEventType::kError) {
        PL_ASSIGN_OR_RETURN(StatusInfo status, read_status(value, typed_where));
        event.error_code = status.code;
        event.error_reason = std::move(status.reason);
        event.error_message = std::move(status.message);
        return {};
      }
      if (event.type == WatchEventType::kBookmark) return read_bookmark(value, event, typed_where);
      auto object = ProjectionAccess::project(projector, value, {}, {});
      if (!object) {
        Error err = std::move(object).error();
        return err.context(typed_where);
      }
      event.object = std::move(*object);
      return {};
    }();
    if (read.ok()) return true;
    failure = std::move(read).error();
    return false;
  });
  if (e) return json_error(e, typed_where);
  if (failure) return *failure;
  if (!has_object) return invalid_input("missing object", typed_where);
  PL_RETURN_IF_ERROR(check_end(doc, typed_where));
  return event;
}

}  // namespace plumbline
