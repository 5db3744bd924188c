#include "render/remote_mounts.h"

#include <algorithm>
#include <map>

#include "plumbline/core/mask.h"

namespace plumbline::renderer {

Result<const BudgetedTree*> RemoteMounts::open(const RemoteBase& base, size_t depth,
                                               const std::string& at) {
  if (fetcher_ == nullptr) {
    return invalid_input(at + ": remote base " + base.display() +
                         ": this render fetches no remote bases");
  }
  if (++listed_ > limits_.max_remote_bases) {
    return invalid_input(at + ": more than " + std::to_string(limits_.max_remote_bases) +
                         " remote bases in one render");
  }
  if (depth + 1 > limits_.max_remote_depth) {
    return invalid_input(at + ": remote base " + base.display() + " nests more than " +
                         std::to_string(limits_.max_remote_depth) +
                         " remote bases deep (a remote base listing another)");
  }
  auto same = [&](const std::unique_ptr<Mount>& m) {
    return m->base.repo == base.repo && m->base.ref == base.ref;
  };
  auto found = std::find_if(mounts_.begin(), mounts_.end(), same);
  Mount* mount = found == mounts_.end() ? nullptr : found->get();
  if (mount == nullptr) {
    Result<FetchedRepository> fetched = fetcher_->fetch(base);
    if (!fetched.ok()) {
      const Error& e = fetched.error();
      return Error(e.code(), at + ": remote base " + base.display() + ": " + e.to_string());
    }
    if (!fetched->tree) {
      return Error(ErrorCode::kInternal, at + ": remote base " + base.display() + ": no tree");
    }
    auto entry = std::make_unique<Mount>();
    entry->base = {base.repo, "", base.ref};
    entry->fetched = std::move(*fetched);
    std::string mount_dir = std::string(1, kMountMark) + std::to_string(mounts_.size());
    entry->tree = std::make_unique<BudgetedTree>(*entry->fetched.tree, root_, mount_dir);
    entry->label = redact_url(base.repo) + "@" +
                   (base.ref.empty() ? entry->fetched.revision.substr(0, 12) : base.ref) + "/";
    mount = entry.get();
    mounts_.push_back(std::move(entry));
  }
  if (!is_pinned(base, mount->fetched)) {
    std::string why = base.ref.empty() ? "it names no ref, so the default branch (" +
                                             mount->fetched.resolved_ref + ") is read"
                                       : "'" + base.ref + "' is a branch";
    std::string warning = at + ": remote base " + base.display() + " is not pinned: " + why +
                          " and may change under this environment; pin a tag or a commit " +
                          "(?ref=v1.2.3)";
    if (std::find(warnings_.begin(), warnings_.end(), warning) == warnings_.end()) {
      warnings_.push_back(std::move(warning));
    }
  }
  return mount->tree.get();
}

std::string RemoteMounts::relabel(std::string_view text) const {
  if (text.find(kMountMark) == std::string_view::npos) return std::string(text);
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != kMountMark) {
      out += text[i++];
      continue;
    }
    size_t end = i + 1;
    size_t index = 0;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9' && end - i < 8) {
      index = index * 10 + static_cast<size_t>(text[end] - '0');
      ++end;
    }
    if (end == i + 1 || index >= mounts_.size()) {
      out += text[i++];  // not a token of this render: left as it is
      continue;
    }
    out += mounts_[index]->label;
    i = end;
  }
  return out;
}

Error RemoteMounts::relabel(const Error& error) const {
  return Error(error.code(), relabel(error.message()), relabel(error.where()));
}

void RemoteMounts::relabel(ManifestSet& objects) const {
  if (mounts_.empty()) return;
  auto relabel_location = [&](SourceLocation& at) {
    if (at.file.find(kMountMark) != std::string::npos) at.file = relabel(at.file);
  };
  // Manifests of one document share their field origins: relabel each map once.
  std::map<const FieldOrigins*, std::shared_ptr<const FieldOrigins>> done;
  for (Manifest& m : objects) {
    relabel_location(m.origin);
    if (!m.fields) continue;
    auto [it, inserted] = done.emplace(m.fields.get(), nullptr);
    if (inserted) {
      const auto& files = m.fields->files();
      bool remote = std::any_of(files.begin(), files.end(), [](const std::string& file) {
        return file.find(kMountMark) != std::string::npos;
      });
      if (remote) {
        auto copy = std::make_shared<FieldOrigins>(*m.fields);
        copy->rename_files([&](const std::string& file) {
          SourceLocation at{file, 0, 0};
          relabel_location(at);
          return at.file;
        });
        it->second = std::move(copy);
      } else {
        it->second = m.fields;
      }
    }
    m.fields = it->second;
  }
}

}  // namespace plumbline::renderer
