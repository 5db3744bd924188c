// FileParseCache: one environment's parses kept on disk between CLI runs (parse_cache.h).
//
// The file: "plumbline parse cache 1 <stamp>\n", the SHA-256 of what follows (32 bytes), then
// the entries to its end, varints and length-prefixed bytes as in compact_encoding.h:
//   per entry: content id, path, file bytes, validated, objects;
//   per object: its encoding, origin file, line, column, then its field origins:
//   0 none | 1 by node (lines, file, line) | 2 a table (entries; path, file, line, column).
// The digest is checked before anything is read, and every read below is bounded as well; the
// object encodings themselves are read only as this program wrote them (a file that passes
// its digest is one a plumbline of the same stamp wrote, or one forged by someone who may
// already write the user's cache directory).
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <system_error>

#include "plumbline/core/compact_encoding.h"
#include "plumbline/core/digest.h"
#include "plumbline/core/mask.h"
#include "plumbline/core/task_runner.h"
#include "plumbline/render/parse_cache.h"

namespace plumbline {
namespace {

namespace fs = std::filesystem;
using compact_encoding::put_bytes;
using compact_encoding::put_varint;
using compact_encoding::put_zigzag;

constexpr std::string_view kMagic = "plumbline parse cache 1 ";
constexpr size_t kDigestBytes = 32;
constexpr int kNoOrigins = 0, kByNode = 1, kTable = 2;

std::string header(std::string_view stamp) {
  std::string out(kMagic);
  out.append(stamp).push_back('\n');
  return out;
}

// The field origins of `m`, or false when they cannot be written as held.
bool put_origins(std::string& out, const CompactManifest& m) {
  const std::shared_ptr<const FieldOrigins>& fields = m.fields();
  if (fields == nullptr) {
    put_varint(out, kNoOrigins);
    return true;
  }
  if (std::optional<FieldOrigins::NodeForm> node = fields->node_form()) {
    // Read back over the object's encoding: only when they were made from the same bytes.
    if (node->encoding != *compact_encoding::encoding_of(m)) return false;
    put_varint(out, kByNode);
    put_bytes(out, node->lines);
    put_bytes(out, node->file);
    put_zigzag(out, node->line);
    return true;
  }
  put_varint(out, kTable);
  put_varint(out, fields->size());
  fields->for_each([&](std::string_view path, const SourceLocation& at) {
    put_bytes(out, path);
    put_bytes(out, at.file);
    put_zigzag(out, at.line);
    put_zigzag(out, at.column);
  });
  return true;
}

// Appends the entry; false (and `out` to be cut back) when it cannot be written as held.
bool put_entry(std::string& entry, std::string_view content_id, std::string_view path,
               const ParsedFile& parsed) {
  put_bytes(entry, content_id);
  put_bytes(entry, path);
  put_varint(entry, parsed.bytes);
  put_varint(entry, parsed.validated ? 1 : 0);
  put_varint(entry, parsed.manifests.size());
  for (const CompactManifest& m : parsed.manifests) {
    if (m.match_name() != m.ref().name) return false;  // a base name: not in the encoding
    put_bytes(entry, *compact_encoding::encoding_of(m));
    put_bytes(entry, m.origin().file);
    put_zigzag(entry, m.origin().line);
    put_zigzag(entry, m.origin().column);
    if (!put_origins(entry, m)) return false;
  }
  return true;
}

// A value plumbline never prints (Secret data, secret-named env values, URLs with credentials)
// is not written to disk either: a file holding one is parsed again each run.
bool any_holds_masked_value(const ParsedFile& parsed) {
  return std::any_of(parsed.manifests.begin(), parsed.manifests.end(),
                     [](const CompactManifest& m) { return holds_masked_value(m.object()); });
}

// Reads within `bytes` only; any read past its end fails, and so does the rest.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : at_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  bool varint(std::uint64_t& v) { return compact_encoding::read_varint_within(at_, end_, v); }
  bool zigzag(int& v) {
    std::uint64_t z = 0;
    if (!varint(z)) return false;
    std::int64_t wide = compact_encoding::from_zigzag(z);
    if (wide < INT32_MIN || wide > INT32_MAX) return false;
    v = static_cast<int>(wide);
    return true;
  }
  bool bytes(std::string_view& out) {
    std::uint64_t size = 0;
    if (!varint(size) || size > static_cast<std::uint64_t>(end_ - at_)) return false;
    out = std::string_view(at_, static_cast<size_t>(size));
    at_ += size;
    return true;
  }
  bool count(size_t& n) {  // a count of items, each at least one byte: bounded by what is left
    std::uint64_t v = 0;
    if (!varint(v) || v > static_cast<std::uint64_t>(end_ - at_)) return false;
    n = static_cast<size_t>(v);
    return true;
  }
  bool done() const { return at_ == end_; }

 private:
  const char* at_;
  const char* end_;
};

bool read_origins(Reader& in, const std::shared_ptr<const std::string>& encoding,
                  std::shared_ptr<const FieldOrigins>& out) {
  std::uint64_t form = 0;
  if (!in.varint(form)) return false;
  if (form == kNoOrigins) return true;
  if (form == kByNode) {
    std::string_view lines, file;
    int line = 0;
    if (!in.bytes(lines) || !in.bytes(file) || !in.zigzag(line)) return false;
    out = std::make_shared<const FieldOrigins>(
        FieldOrigins::by_node(encoding, std::string(lines), std::string(file), line));
    return true;
  }
  if (form != kTable) return false;
  size_t n = 0;
  if (!in.count(n)) return false;
  FieldOrigins::Builder table;
  for (size_t i = 0; i < n; ++i) {
    std::string_view path, file;
    int line = 0, column = 0;
    if (!in.bytes(path) || !in.bytes(file) || !in.zigzag(line) || !in.zigzag(column)) {
      return false;
    }
    table.add(path, file, line, column);
  }
  out = std::make_shared<const FieldOrigins>(std::move(table).build());
  return true;
}

std::shared_ptr<ParsedFile> read_entry(Reader& in, std::string_view& content_id,
                                       std::string_view& path) {
  auto parsed = std::make_shared<ParsedFile>();
  std::uint64_t bytes = 0, validated = 0;
  size_t objects = 0;
  if (!in.bytes(content_id) || !in.bytes(path) || !in.varint(bytes) || !in.varint(validated) ||
      validated > 1 || !in.count(objects)) {
    return nullptr;
  }
  parsed->bytes = static_cast<size_t>(bytes);
  parsed->validated = validated == 1;
  parsed->manifests.reserve(objects);
  for (size_t i = 0; i < objects; ++i) {
    std::string_view encoded;
    SourceLocation origin;
    std::string_view file;
    if (!in.bytes(encoded) || encoded.empty() || !in.bytes(file) || !in.zigzag(origin.line) ||
        !in.zigzag(origin.column)) {
      return nullptr;
    }
    origin.file = std::string(file);
    auto encoding = std::make_shared<const std::string>(encoded);
    std::shared_ptr<const FieldOrigins> fields;
    if (!read_origins(in, encoding, fields)) return nullptr;
    parsed->manifests.push_back(compact_encoding::manifest_from_encoding(
        std::move(encoding), std::move(origin), std::move(fields)));
  }
  return parsed;
}

}  // namespace

std::string encode_parse_cache(const MemoryParseCache& cache, std::string_view stamp,
                               WrittenEntries* written, TaskRunner* tasks) {
  struct Held {
    std::string_view content_id, path;
    const ParsedFilePtr* parsed;
    bool masked = false;
  };
  std::vector<Held> held;
  held.reserve(cache.size());
  cache.for_each(
      [&](std::string_view content_id, std::string_view path, const ParsedFilePtr& parsed) {
        held.push_back({content_id, path, &parsed});
      });
  // The check decodes every object: only what was not written before, on every thread.
  run_in_slices(tasks, held.size(), [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const ParsedFilePtr& parsed = *held[i].parsed;
      if (written == nullptr || written->count(parsed.get()) == 0) {
        held[i].masked = any_holds_masked_value(*parsed);
      }
    }
  });
  WrittenEntries now;
  // Written in place (the file can be tens of MB): the digest's bytes first, set at the end.
  std::string out = header(stamp);
  const size_t digest_at = out.size();
  out.append(kDigestBytes, '\0');
  for (const Held& h : held) {
    const size_t entry_at = out.size();
    if (h.masked || !put_entry(out, h.content_id, h.path, **h.parsed)) {
      out.resize(entry_at);
    } else if (written != nullptr) {
      now.emplace(h.parsed->get(), *h.parsed);
    }
  }
  const size_t body_at = digest_at + kDigestBytes;
  std::string digest = sha256_bytes(std::string_view(out).substr(body_at));
  out.replace(digest_at, kDigestBytes, digest);
  if (written != nullptr) *written = std::move(now);
  return out;
}

Status decode_parse_cache(std::string_view bytes, std::string_view stamp, MemoryParseCache& into) {
  const std::string head = header(stamp);
  if (bytes.substr(0, head.size()) != head) {
    return invalid_input(bytes.substr(0, kMagic.size()) == kMagic
                             ? "written by another version of plumbline"
                             : "not a plumbline parse cache");
  }
  bytes.remove_prefix(head.size());
  if (bytes.size() < kDigestBytes) return invalid_input("cut short");
  std::string_view digest = bytes.substr(0, kDigestBytes);
  std::string_view body = bytes.substr(kDigestBytes);
  if (sha256_bytes(body) != digest) return invalid_input("its digest does not match its content");
  Reader in(body);
  for (size_t i = 0; !in.done(); ++i) {
    std::string_view content_id, path;
    std::shared_ptr<ParsedFile> parsed = read_entry(in, content_id, path);
    if (parsed == nullptr) return invalid_input("entry " + std::to_string(i) + " is malformed");
    into.insert(content_id, path, std::move(parsed));
  }
  // What was read is not yet used by a render: the next render_done() keeps only what it used.
  into.render_done();
  return {};
}

FileParseCache::FileParseCache(std::filesystem::path file, std::string stamp,
                               ParseCacheLimits limits)
    : file_(std::move(file)), stamp_(std::move(stamp)), memory_(limits) {
  std::error_code ec;
  if (!fs::exists(file_, ec)) return;
  // The file holds at most the parse cache's bytes of file text, encoded (a few times smaller)
  // with their field origins; past that it is not one this cache wrote.
  const std::uintmax_t size = fs::file_size(file_, ec);
  const std::uintmax_t most = std::uintmax_t{limits.max_bytes} * 4 + (std::uintmax_t{1} << 20);
  if (ec || size > most) {
    load_problem_ = ec ? ec.message() : "larger than the cache's limits";
  } else {
    std::ifstream in(file_, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      load_problem_ = "cannot be read";
    } else if (Status read = decode_parse_cache(bytes, stamp_, memory_); !read.ok()) {
      load_problem_ = read.error().message();
      memory_ = MemoryParseCache(limits);
    }
  }
  loaded_ = memory_.size();
  changed_ = !load_problem_.empty();  // replaced by the next save
  // What the file held was written by a save, which checked it: the next save checks only what
  // is new. (Whoever can write the file could have put a secret in it; writing it back adds
  // nothing to what is on disk.)
  memory_.for_each([&](std::string_view, std::string_view, const ParsedFilePtr& parsed) {
    written_.emplace(parsed.get(), parsed);
  });
}

ParsedFilePtr FileParseCache::find(std::string_view content_id, std::string_view path) {
  return memory_.find(content_id, path);
}

void FileParseCache::insert(std::string_view content_id, std::string_view path,
                            ParsedFilePtr parsed) {
  changed_ = true;
  memory_.insert(content_id, path, std::move(parsed));
}

void FileParseCache::render_done() {
  const size_t before = memory_.size();
  memory_.render_done();
  if (memory_.size() != before) changed_ = true;
}

Status FileParseCache::save(TaskRunner* tasks) {
  if (!changed_) return {};
  std::error_code ec;
  fs::create_directories(file_.parent_path(), ec);
  if (ec)
    return Error(ErrorCode::kUnavailable, "cannot create it: " + ec.message(), file_.string());
  fs::path tmp = file_;
  tmp += ".tmp";
  WrittenEntries written = written_;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    std::string bytes = encode_parse_cache(memory_, stamp_, &written, tasks);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.good()) {
      fs::remove(tmp, ec);
      return Error(ErrorCode::kUnavailable, "cannot write it", file_.string());
    }
  }
  fs::rename(tmp, file_, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Error(ErrorCode::kUnavailable, "cannot write it: " + ec.message(), file_.string());
  }
  changed_ = false;
  written_ = std::move(written);
  return {};
}

}  // namespace plumbline
