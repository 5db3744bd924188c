// MemoryParseCache: parsed files by (content id, path), bounded, holding one render's files.
#include "plumbline/render/parse_cache.h"

#include <algorithm>

namespace plumbline {
namespace {

std::string key_of(std::string_view content_id, std::string_view path) {
  std::string key;
  key.reserve(content_id.size() + 1 + path.size());
  key.append(content_id).push_back('\0');
  key.append(path);
  return key;
}

}  // namespace

ParsedFilePtr MemoryParseCache::find(std::string_view content_id, std::string_view path) {
  auto it = entries_.find(key_of(content_id, path));
  if (it == entries_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  it->second.used = true;
  return it->second.parsed;
}

void MemoryParseCache::insert(std::string_view content_id, std::string_view path,
                              ParsedFilePtr parsed) {
  if (parsed == nullptr) return;
  std::string key = key_of(content_id, path);
  if (auto it = entries_.find(key); it != entries_.end()) {
    bytes_ -= it->second.parsed->bytes;
    entries_.erase(it);
  }
  auto fits = [&] {
    return entries_.size() < limits_.max_entries &&
           parsed->bytes <= limits_.max_bytes - std::min(bytes_, limits_.max_bytes);
  };
  if (!fits()) drop_unused();
  if (!fits()) return;
  bytes_ += parsed->bytes;
  entries_.emplace(std::move(key), Entry{std::move(parsed), true});
}

void MemoryParseCache::drop_unused() {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.used) {
      ++it;
      continue;
    }
    bytes_ -= it->second.parsed->bytes;
    it = entries_.erase(it);
  }
}

CompactManifestSet MemoryParseCache::manifests() const {
  CompactManifestSet out;
  for (const auto& [key, entry] : entries_) {
    out.insert(out.end(), entry.parsed->manifests.begin(), entry.parsed->manifests.end());
  }
  return out;
}

void MemoryParseCache::for_each(const std::function<void(std::string_view, std::string_view,
                                                         const ParsedFilePtr&)>& visit) const {
  for (const auto& [key, entry] : entries_) {
    std::string_view k = key;
    size_t nul = k.find('\0');
    visit(k.substr(0, nul), k.substr(nul + 1), entry.parsed);
  }
}

void MemoryParseCache::render_done() {
  drop_unused();
  for (auto& [key, entry] : entries_) entry.used = false;
}

}  // namespace plumbline
