// FieldOrigins: a front-coded, sorted table of canonical paths (see object.h for why).
//
// Entry encoding, in path order: varint shared-prefix length, varint suffix length, the
// suffix, varint line, varint column, varint file index. Every kRestart-th entry shares
// nothing with the previous one, so its path can be read in place for a binary search.
#include <algorithm>
#include <limits>
#include <type_traits>

#include "plumbline/core/compact_encoding.h"
#include "plumbline/core/memory_estimate.h"
#include "plumbline/core/object.h"

namespace plumbline {
namespace {

using compact_encoding::put_varint;

constexpr size_t kRestart = 16;

bool is_below(std::string_view path, std::string_view root) {
  return path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
         (path[root.size()] == '.' || path[root.size()] == '[');
}

uint32_t narrow(size_t n) {
  // Paths and tables are bounded by the YAML loader's memory budget, far below 4 GiB.
  return static_cast<uint32_t>(std::min<size_t>(n, std::numeric_limits<uint32_t>::max()));
}

uint32_t non_negative(int n) { return n > 0 ? static_cast<uint32_t>(n) : 0; }

// The table's own bytes, written with the compact encoding's varints: within bounds.
uint32_t get_varint(std::string_view data, size_t& pos) {
  const char* at = data.data() + pos;
  auto value = static_cast<uint32_t>(compact_encoding::read_varint(at));
  pos = static_cast<size_t>(at - data.data());
  return value;
}

uint32_t file_index(std::vector<std::string>& files, std::string_view file) {
  // Manifests name one file or a few (a base and its patches): a linear search is enough.
  auto it = std::find(files.begin(), files.end(), file);
  if (it == files.end()) it = files.insert(files.end(), std::string(file));
  return narrow(static_cast<size_t>(it - files.begin()));
}

}  // namespace

// Reads entries in order from an offset (a restart point, or the start).
struct FieldOrigins::Cursor {
  std::string_view data;
  size_t pos = 0;
  std::string path;
  uint32_t line = 0, column = 0, file = 0;

  bool next() {
    if (pos >= data.size()) return false;
    uint32_t shared = get_varint(data, pos);
    uint32_t suffix = get_varint(data, pos);
    path.resize(std::min<size_t>(shared, path.size()));
    path.append(data.substr(pos, suffix));
    pos += suffix;
    line = get_varint(data, pos);
    column = get_varint(data, pos);
    file = get_varint(data, pos);
    return true;
  }
};

namespace {

// Writes entries, given in path order, into an empty table.
class Encoder {
 public:
  Encoder(std::string& data, std::vector<uint32_t>& restarts, size_t& size)
      : data_(data), restarts_(restarts), size_(size) {}

  void add(std::string_view path, uint32_t line, uint32_t column, uint32_t file) {
    size_t shared = 0;
    if (size_ % kRestart == 0) {
      restarts_.push_back(narrow(data_.size()));
    } else {
      size_t limit = std::min(previous_.size(), path.size());
      while (shared < limit && previous_[shared] == path[shared]) ++shared;
    }
    put_varint(data_, narrow(shared));
    put_varint(data_, narrow(path.size() - shared));
    data_.append(path.substr(shared));
    put_varint(data_, line);
    put_varint(data_, column);
    put_varint(data_, file);
    previous_.assign(path);
    ++size_;
  }

 private:
  std::string& data_;
  std::vector<uint32_t>& restarts_;
  size_t& size_;
  std::string previous_;
};

// The full path stored at a restart point, read in place.
std::string_view restart_path(std::string_view data, size_t pos) {
  get_varint(data, pos);  // shared: 0
  uint32_t size = get_varint(data, pos);
  return data.substr(pos, size);
}

}  // namespace

std::optional<SourceLocation> FieldOrigins::find(std::string_view path) const {
  if (by_node_) return find_by_node(path);
  // The last restart point whose path is <= `path`, then at most kRestart entries from it.
  auto after = std::upper_bound(
      restarts_.begin(), restarts_.end(), path,
      [this](std::string_view p, uint32_t offset) { return p < restart_path(data_, offset); });
  if (after == restarts_.begin()) return std::nullopt;
  Cursor cursor{data_, *(after - 1)};
  for (size_t i = 0; i < kRestart && cursor.next(); ++i) {
    if (cursor.path == path) {
      return SourceLocation{files_[cursor.file], static_cast<int>(cursor.line),
                            static_cast<int>(cursor.column)};
    }
    if (cursor.path > path) break;
  }
  return std::nullopt;
}

void FieldOrigins::for_each(const Visitor& visit) const {
  if (by_node_) {
    table().for_each(visit);
    return;
  }
  Cursor cursor{data_, 0};
  while (cursor.next()) {
    visit(cursor.path, SourceLocation{files_[cursor.file], static_cast<int>(cursor.line),
                                      static_cast<int>(cursor.column)});
  }
}

void FieldOrigins::set(std::string_view path, const SourceLocation& at) {
  merge({{std::string(path), at}}, false);
}

void FieldOrigins::merge(const Writes& writes, bool drop_below) {
  if (by_node_) *this = table();
  std::vector<uint32_t> files;
  for (const auto& write : writes) files.push_back(file_index(files_, write.second.file));
  auto written = [&](std::string_view path) {
    return std::binary_search(writes.begin(), writes.end(), path, [](const auto& a, const auto& b) {
      if constexpr (std::is_same_v<std::decay_t<decltype(a)>, std::string_view>) {
        return a < std::string_view(b.first);
      } else {
        return std::string_view(a.first) < b;
      }
    });
  };
  // Below a written path: one of its ancestors ("a.b" of "a.b[k=v].c") was written.
  auto below_written = [&](std::string_view path) {
    for (size_t cut = path.find_last_of(".["); cut != std::string_view::npos && cut > 0;
         cut = path.find_last_of(".[", cut - 1)) {
      if (written(path.substr(0, cut))) return true;
    }
    return false;
  };
  std::string data;
  std::vector<uint32_t> restarts;
  size_t size = 0;
  Encoder out(data, restarts, size);
  size_t next = 0;
  auto write_until = [&](std::string_view bound, bool inclusive) {
    while (next < writes.size() &&
           (writes[next].first < bound || (inclusive && writes[next].first == bound))) {
      const SourceLocation& at = writes[next].second;
      out.add(writes[next].first, non_negative(at.line), non_negative(at.column), files[next]);
      ++next;
    }
  };
  Cursor cursor{data_, 0};
  while (cursor.next()) {
    write_until(cursor.path, true);
    if (written(cursor.path) || (drop_below && below_written(cursor.path))) continue;
    out.add(cursor.path, cursor.line, cursor.column, cursor.file);
  }
  while (next < writes.size()) write_until(writes[next].first, true);
  data_ = std::move(data);
  restarts_ = std::move(restarts);
  size_ = size;
}

void FieldOrigins::replace_subtrees(Writes writes) {
  // A later write replaces an earlier one of the same path or below it (its erase_below).
  Writes kept;
  for (auto& write : writes) {
    std::erase_if(kept, [&](const auto& k) {
      return k.first == write.first || is_below(k.first, write.first);
    });
    kept.push_back(std::move(write));
  }
  std::sort(kept.begin(), kept.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  merge(kept, true);
}

void FieldOrigins::set_all(Writes writes) {
  // Of several writes of one path the last counts.
  std::stable_sort(writes.begin(), writes.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  Writes kept;
  for (auto& write : writes) {
    if (!kept.empty() && kept.back().first == write.first) kept.pop_back();
    kept.push_back(std::move(write));
  }
  merge(kept, false);
}

void FieldOrigins::erase_below(std::string_view path) {
  if (by_node_) *this = table();
  Cursor probe{data_, 0};
  bool any = false;
  while (!any && probe.next()) any = is_below(probe.path, path);
  if (!any) return;
  std::string data;
  std::vector<uint32_t> restarts;
  size_t size = 0;
  Encoder out(data, restarts, size);
  Cursor cursor{data_, 0};
  while (cursor.next()) {
    if (!is_below(cursor.path, path)) out.add(cursor.path, cursor.line, cursor.column, cursor.file);
  }
  data_ = std::move(data);
  restarts_ = std::move(restarts);
  size_ = size;
}

void FieldOrigins::rename_files(const std::function<std::string(const std::string&)>& rename) {
  // Two names may become one: entries keep their index, so duplicates are harmless.
  for (std::string& file : files_) file = rename(file);
}

size_t FieldOrigins::size() const { return by_node_ ? table().size() : size_; }

size_t FieldOrigins::memory_bytes() const {
  size_t bytes = data_.capacity() + restarts_.capacity() * sizeof(uint32_t) +
                 files_.capacity() * sizeof(std::string);
  // The node form's lines and its block (make_shared); the encoding is the manifest's.
  if (by_node_) bytes += sizeof(ByNode) + kSharedCountBytes + heap_bytes(by_node_->lines);
  for (const auto& file : files_) bytes += heap_bytes(file);
  return bytes;
}

void FieldOrigins::Builder::reserve(size_t entries, size_t path_bytes) {
  pending_.reserve(entries);
  paths_.reserve(path_bytes);
}

void FieldOrigins::Builder::add(std::string_view path, std::string_view file, int line,
                                int column) {
  pending_.push_back({narrow(paths_.size()), narrow(path.size()), non_negative(line),
                      non_negative(column), file_index(files_, file)});
  paths_.append(path);
}

FieldOrigins FieldOrigins::Builder::build() && {
  auto path_of = [this](const Pending& p) {
    return std::string_view(paths_).substr(p.path_offset, p.path_size);
  };
  std::stable_sort(pending_.begin(), pending_.end(),
                   [&](const Pending& a, const Pending& b) { return path_of(a) < path_of(b); });
  FieldOrigins out;
  out.files_ = std::move(files_);
  out.data_.reserve(pending_.size() * 16);
  Encoder encoder(out.data_, out.restarts_, out.size_);
  for (size_t i = 0; i < pending_.size(); ++i) {
    // Of equal paths the first added comes first (stable sort) and is the one kept.
    if (i > 0 && path_of(pending_[i]) == path_of(pending_[i - 1])) continue;
    const Pending& p = pending_[i];
    encoder.add(path_of(p), p.line, p.column, p.file);
  }
  out.data_.shrink_to_fit();
  out.restarts_.shrink_to_fit();
  return out;
}

}  // namespace plumbline
