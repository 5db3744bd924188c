#include "core/yaml_events.h"

#include <yaml.h>

#include <map>
#include <string>

namespace plumbline::yaml_events {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) {
    ok_ = yaml_parser_initialize(&parser_) != 0;
    if (ok_) {
      yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                   text.size());
    }
  }
  ~Parser() {
    if (ok_) yaml_parser_delete(&parser_);
  }
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;
  bool ok() const { return ok_; }
  yaml_parser_t* get() { return &parser_; }

 private:
  yaml_parser_t parser_;
  bool ok_ = false;
};

class Event {
 public:
  Event() = default;
  ~Event() {
    if (filled_) yaml_event_delete(&event_);
  }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  bool next(Parser& parser) {
    filled_ = yaml_parser_parse(parser.get(), &event_) != 0;
    return filled_;
  }
  const yaml_event_t& operator*() const { return event_; }
  const yaml_event_t* operator->() const { return &event_; }

 private:
  yaml_event_t event_;
  bool filled_ = false;
};

YAML::Mark mark_of(const yaml_mark_t& m) {
  YAML::Mark mark;
  mark.pos = static_cast<int>(m.index);
  mark.line = static_cast<int>(m.line);
  mark.column = static_cast<int>(m.column);
  return mark;
}

// yaml-cpp's non-specific tags: "?" for plain scalars and collections, "!" for quoted and
// block scalars.
std::string tag_of(const yaml_char_t* tag, bool plain) {
  if (tag != nullptr) return reinterpret_cast<const char*>(tag);
  return plain ? "?" : "!";
}

bool is_null_string(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

// Anchors as yaml-cpp numbers them: 1, 2, ... per document, a redefined name taking a new id.
class Anchors {
 public:
  void clear() {
    ids_.clear();
    next_ = 0;
  }
  YAML::anchor_t define(const yaml_char_t* name) {
    if (name == nullptr || *name == 0) return YAML::NullAnchor;
    return ids_[reinterpret_cast<const char*>(name)] = ++next_;
  }
  YAML::anchor_t find(const yaml_char_t* name) const {
    auto it = ids_.find(reinterpret_cast<const char*>(name));
    return it == ids_.end() ? YAML::NullAnchor : it->second;
  }

 private:
  std::map<std::string, YAML::anchor_t, std::less<>> ids_;
  YAML::anchor_t next_ = 0;
};

}  // namespace

bool parse(std::string_view text, YAML::EventHandler& handler) {
  Parser parser(text);
  if (!parser.ok()) return false;
  Anchors anchors;
  for (;;) {
    Event event;
    if (!event.next(parser)) return false;
    const YAML::Mark mark = mark_of(event->start_mark);
    switch (event->type) {
      case YAML_NO_EVENT:
      case YAML_STREAM_START_EVENT:
        break;
      case YAML_STREAM_END_EVENT:
        return true;
      case YAML_DOCUMENT_START_EVENT:
        anchors.clear();
        handler.OnDocumentStart(mark);
        break;
      case YAML_DOCUMENT_END_EVENT:
        handler.OnDocumentEnd();
        break;
      case YAML_ALIAS_EVENT: {
        YAML::anchor_t id = anchors.find(event->data.alias.anchor);
        if (id == YAML::NullAnchor) return false;  // yaml-cpp names the undefined anchor
        handler.OnAlias(mark, id);
        break;
      }
      case YAML_SCALAR_EVENT: {
        const auto& s = event->data.scalar;
        const bool plain = s.style == YAML_PLAIN_SCALAR_STYLE;
        std::string tag = tag_of(s.tag, plain);
        std::string value(reinterpret_cast<const char*>(s.value), s.length);
        YAML::anchor_t anchor = anchors.define(s.anchor);
        if (plain && tag == "?" && is_null_string(value)) {
          handler.OnNull(mark, anchor);
        } else {
          handler.OnScalar(mark, tag, anchor, value);
        }
        break;
      }
      case YAML_SEQUENCE_START_EVENT: {
        const auto& s = event->data.sequence_start;
        handler.OnSequenceStart(mark, tag_of(s.tag, true), anchors.define(s.anchor),
                                s.style == YAML_FLOW_SEQUENCE_STYLE ? YAML::EmitterStyle::Flow
                                                                    : YAML::EmitterStyle::Block);
        break;
      }
      case YAML_SEQUENCE_END_EVENT:
        handler.OnSequenceEnd();
        break;
      case YAML_MAPPING_START_EVENT: {
        const auto& m = event->data.mapping_start;
        handler.OnMapStart(mark, tag_of(m.tag, true), anchors.define(m.anchor),
                           m.style == YAML_FLOW_MAPPING_STYLE ? YAML::EmitterStyle::Flow
                                                              : YAML::EmitterStyle::Block);
        break;
      }
      case YAML_MAPPING_END_EVENT:
        handler.OnMapEnd();
        break;
    }
  }
}

}  // namespace plumbline::yaml_events
