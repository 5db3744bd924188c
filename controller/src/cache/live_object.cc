// LiveObject read back: its projection as an nlohmann tree (to_json) or in the compact
// encoding the diff reads without a tree (encode), both as json::parse would read the text.
#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <string>
#include <vector>

#include "plumbline/cache/live_store.h"
#include "plumbline/core/compact_encoding.h"

namespace plumbline {
namespace {

// A JSON number as nlohmann reads it: unsigned for non-negative integers, signed for negative
// ones, float otherwise or when too large.
json read_number(simdjson::ondemand::value v) {
  std::string_view raw = v.raw_json_token();
  bool integral = raw.find_first_of(".eE") == std::string_view::npos;
  if (integral && !raw.empty() && raw[0] == '-') {
    int64_t integer = 0;
    if (v.get_int64().get(integer) == simdjson::SUCCESS) return integer;
  } else if (integral) {
    uint64_t unsigned_integer = 0;
    if (v.get_uint64().get(unsigned_integer) == simdjson::SUCCESS) return unsigned_integer;
  }
  double floating = 0;
  if (v.get_double().get(floating) == simdjson::SUCCESS) return floating;
  // Integers beyond 64 bits: nlohmann reads them as floats too.
  return std::strtod(std::string(raw).c_str(), nullptr);
}

enum class At { kValue, kRootWithoutManagedFields, kMetadataWithoutManagedFields };

// Reads a simdjson value into `sink` as json::parse reads its text (nlohmann's number typing;
// a sink keeps the last of duplicate keys). `at` says where the value sits when
// metadata.managedFields is left out. A sink has key(), begin_/end_object(), begin_/end_array(),
// string() and scalar() for the other scalars (a number, a boolean, null), given as JSON.
template <typename Sink>
bool read_value(simdjson::ondemand::value v, Sink& sink, At at = At::kValue) {
  namespace od = simdjson::ondemand;
  od::json_type type;
  if (v.type().get(type)) return false;
  switch (type) {
    case od::json_type::object: {
      od::object object;
      if (v.get_object().get(object)) return false;
      sink.begin_object();
      for (auto f : object) {
        od::field field;
        std::string_view key;
        if (std::move(f).get(field) || field.unescaped_key().get(key)) return false;
        if (at == At::kMetadataWithoutManagedFields && key == "managedFields") continue;
        At child = at == At::kRootWithoutManagedFields && key == "metadata"
                       ? At::kMetadataWithoutManagedFields
                       : At::kValue;
        sink.key(key);
        if (!read_value(field.value(), sink, child)) return false;
      }
      sink.end_object();
      return true;
    }
    case od::json_type::array: {
      od::array array;
      if (v.get_array().get(array)) return false;
      sink.begin_array();
      for (auto e : array) {
        od::value element;
        if (std::move(e).get(element) || !read_value(element, sink)) return false;
      }
      sink.end_array();
      return true;
    }
    case od::json_type::string: {
      std::string_view text;
      if (v.get_string().get(text)) return false;
      sink.string(text);
      return true;
    }
    case od::json_type::number:
      sink.scalar(read_number(v));
      return true;
    case od::json_type::boolean: {
      bool b = false;
      if (v.get_bool().get(b)) return false;
      sink.scalar(b);
      return true;
    }
    case od::json_type::null: {
      bool null = false;
      if (v.is_null().get(null) || !null) return false;
      sink.scalar(nullptr);
      return true;
    }
  }
  return false;
}

// Builds the nlohmann tree: equal to json::parse of the same text, at about twice its speed
// (which matters when projections are materialized by the thousand).
class TreeSink {
 public:
  explicit TreeSink(json& root) : root_(root) {}
  void key(std::string_view key) { key_ = key; }
  void begin_object() { open(json::object()); }
  void begin_array() { open(json::array()); }
  void end_object() { containers_.pop_back(); }
  void end_array() { containers_.pop_back(); }
  void string(std::string_view text) { slot() = std::string(text); }
  void scalar(json value) { slot() = std::move(value); }

 private:
  // Where the next value goes: the root, the member named last (a duplicate overwrites), or a
  // new element. Pointers to open containers stay valid: a container is not added to while
  // one of its children is open.
  json& slot() {
    if (containers_.empty()) return root_;
    json& parent = *containers_.back();
    if (parent.is_object()) return parent.get_ref<json::object_t&>()[std::string(key_)];
    return parent.get_ref<json::array_t&>().emplace_back();
  }
  void open(json empty) {
    json& container = slot();
    container = std::move(empty);
    containers_.push_back(&container);
  }
  json& root_;
  std::vector<json*> containers_;
  std::string_view key_;
};

// Writes what compact_encoding::encode_value writes for TreeSink's tree: each value as it
// comes; an object's members put in nlohmann's order (the last of duplicate keys) when it ends.
class EncodingSink {
 public:
  // Kept between objects (thread_local in encode): only their capacity is reused.
  struct Scratch {
    struct Member {
      std::string_view key;  // in the parser's string buffer, alive for the document
      size_t begin;          // the value's bytes in the output
      size_t end;
    };
    struct Open {
      bool object;
      size_t start;         // where the container's members or elements begin in the output
      size_t members_base;  // its members' first index in `members`
      std::uint64_t count;  // elements of a list
    };
    std::vector<Member> members;
    std::vector<Open> open;
    std::string bytes;
  };
  EncodingSink(std::string& out, Scratch& scratch) : out_(out), scratch_(scratch) {
    scratch_.members.clear();
    scratch_.open.clear();
  }
  void key(std::string_view key) { key_ = key; }
  void begin_object() { open(true); }
  void begin_array() { open(false); }
  void end_object();
  void end_array();
  // A string is written as encode_value writes one, without building a JSON string first.
  void string(std::string_view text) {
    write([&] {
      out_.push_back(compact_encoding::kString);
      compact_encoding::put_bytes(out_, text);
    });
  }
  void scalar(const json& value) {
    write([&] { compact_encoding::encode_value(value, out_); });
  }

 private:
  // A value starts: a member of the open object, or an element of the open list.
  void begin_value() {
    if (scratch_.open.empty()) return;
    Scratch::Open& parent = scratch_.open.back();
    if (parent.object) {
      scratch_.members.push_back({key_, out_.size(), out_.size()});
    } else {
      ++parent.count;
    }
  }
  // A value ended: a member's bytes end here (its own members were popped by now).
  void end_value() {
    if (!scratch_.open.empty() && scratch_.open.back().object) {
      scratch_.members.back().end = out_.size();
    }
  }
  template <typename Write>
  void write(Write&& write_value) {
    begin_value();
    write_value();
    end_value();
  }
  void open(bool object) {
    begin_value();
    scratch_.open.push_back({object, out_.size(), scratch_.members.size(), 0});
  }
  std::string& out_;
  Scratch& scratch_;
  std::string_view key_;
};

void EncodingSink::end_object() {
  Scratch::Open open = scratch_.open.back();
  scratch_.open.pop_back();
  auto first = scratch_.members.begin() + static_cast<std::ptrdiff_t>(open.members_base);
  auto last = scratch_.members.end();
  std::stable_sort(first, last, [](const auto& a, const auto& b) { return a.key < b.key; });
  // After a stable sort, the last of equal keys is the one read last: it wins.
  auto kept = [&](auto it) { return std::next(it) == last || std::next(it)->key != it->key; };
  std::uint64_t count = 0;
  for (auto it = first; it != last; ++it) count += kept(it) ? 1 : 0;
  std::string& bytes = scratch_.bytes;
  bytes.clear();
  bytes.push_back(compact_encoding::kObject);
  compact_encoding::put_varint(bytes, count);
  for (auto it = first; it != last; ++it) {
    if (!kept(it)) continue;
    compact_encoding::put_bytes(bytes, it->key);
    bytes.append(out_, it->begin, it->end - it->begin);
  }
  out_.resize(open.start);
  out_ += bytes;
  scratch_.members.resize(open.members_base);
  end_value();
}

void EncodingSink::end_array() {
  Scratch::Open open = scratch_.open.back();
  scratch_.open.pop_back();
  std::string& header = scratch_.bytes;
  header.assign(1, compact_encoding::kArray);
  compact_encoding::put_varint(header, open.count);
  out_.insert(open.start, header);
  end_value();
}

// Calls `read(root)` with the projection parsed by this thread's parser; false when simdjson
// refuses it or `read` fails.
template <typename Read>
bool read_projection(const std::string& projection, Read&& read) {
  thread_local simdjson::ondemand::parser parser;
  thread_local std::string buffer;
  buffer.assign(projection);
  buffer.reserve(projection.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::document doc;
  simdjson::ondemand::value root;
  return !parser.iterate(buffer.data(), buffer.size(), buffer.capacity()).get(doc) &&
         !doc.get_value().get(root) && read(root);
}

}  // namespace

json LiveObject::to_json(ManagedFields managed_fields) const {
  // The projection is written by the Projector and always valid JSON; a default-constructed
  // LiveObject (empty text) materializes as null.
  bool kept = managed_fields == ManagedFields::kKept;
  json out;
  if (!read_projection(projection, [&](simdjson::ondemand::value root) {
        TreeSink sink(out);
        return read_value(root, sink, kept ? At::kValue : At::kRootWithoutManagedFields);
      })) {
    out = json::parse(projection, nullptr, /*allow_exceptions=*/false);
    if (out.is_discarded()) return json();
    if (!kept && out.contains("metadata") && out["metadata"].is_object()) {
      out["metadata"].erase("managedFields");
    }
  }
  return out;
}

void LiveObject::encode(std::string& out, ManagedFields managed_fields) const {
  thread_local EncodingSink::Scratch scratch;
  size_t start = out.size();
  bool kept = managed_fields == ManagedFields::kKept;
  if (!read_projection(projection, [&](simdjson::ondemand::value root) {
        EncodingSink sink(out, scratch);
        return read_value(root, sink, kept ? At::kValue : At::kRootWithoutManagedFields);
      })) {
    out.resize(start);
    compact_encoding::encode_value(to_json(managed_fields), out);
  }
}

}  // namespace plumbline
