// Field origins after a patch, generator or transformer: a walk of the object before and after
// that records the writer of every field that changed.
#include "render/origins.h"

#include <algorithm>

#include "plumbline/core/path.h"

namespace plumbline::renderer {
namespace {

// Identity and merge keys select what a patch applies to; writing them changes nothing.
bool is_selector(std::string_view path) {
  if (path == "apiVersion" || path == "kind" || path == "metadata.name" ||
      path == "metadata.namespace" || path.find('$') != std::string::npos) {
    return true;
  }
  auto segments = path::parse(path);
  if (!segments || segments->size() < 2) return false;
  const path::Segment& last = segments->back();
  const path::Segment& parent = (*segments)[segments->size() - 2];
  return last.kind == path::Segment::Kind::kField && parent.kind == path::Segment::Kind::kKeyed &&
         parent.key == last.name;
}

class Recorder {
 public:
  Recorder(FieldOrigins& origins, const FieldOrigins* written, const SourceLocation& site)
      : origins_(origins), written_(written), site_(site) {}

  void walk(const json* before, const json& after, const std::string& at, std::string_view parent,
            std::string_view name) {
    if (before != nullptr && *before == after) return;
    if (before != nullptr && before->is_object() && after.is_object()) {
      for (const auto& [key, value] : after.items()) {
        auto it = before->find(key);
        walk(it == before->end() ? nullptr : &*it, value, path::field(at, key), name, key);
      }
      return;
    }
    if (before != nullptr && before->is_array() && after.is_array()) {
      path::ListRule rule = path::list_rule(parent, name);
      if (rule.kind == path::ListKind::kKeyed && keyed_list(*before, after, at, rule.key)) return;
      if (rule.kind == path::ListKind::kSet) {
        for (const auto& element : after) {
          if (std::find(before->begin(), before->end(), element) == before->end()) {
            mark(path::element(at, path::key_text(element)));
          }
        }
        return;
      }
    }
    mark(at);
  }

  // The patch's scalars: each one was written last by the patch, even to the same value.
  void overlay(const json& patch) {
    if (written_ == nullptr) return;
    written_->for_each([&](std::string_view path, const SourceLocation& where) {
      if (is_selector(path)) return;
      auto pointer = path::resolve(patch, path);
      if (pointer && !patch.at(*pointer).is_structured()) sets_.emplace_back(path, where);
    });
  }

 private:
  bool keyed_list(const json& before, const json& after, const std::string& at,
                  std::string_view key_name) {
    std::string key(key_name);
    for (const auto& element : after) {
      if (!element.is_object() || !element.contains(key)) return false;
    }
    for (const auto& element : after) {
      const json* old = nullptr;
      for (const auto& candidate : before) {
        if (candidate.is_object() && candidate.contains(key) && candidate[key] == element[key]) {
          old = &candidate;
        }
      }
      walk(old, element, path::keyed(at, key, path::key_text(element[key])), "", "");
    }
    return true;
  }

  // The field (and everything below it) was written here.
 public:
  void mark(const std::string& at) { marks_.emplace_back(at, where(at)); }

  // Applies what the walk and the overlay found, in that order, in one re-encoding each.
  void finish() {
    if (!marks_.empty()) origins_.replace_subtrees(std::move(marks_));
    if (!sets_.empty()) origins_.set_all(std::move(sets_));
  }

 private:
  SourceLocation where(const std::string& path) const {
    auto found = written_ ? nearest_origin(*written_, path) : std::nullopt;
    return found ? *std::move(found) : site_;
  }

  FieldOrigins& origins_;
  const FieldOrigins* written_;
  const SourceLocation& site_;
  FieldOrigins::Writes marks_, sets_;
};

std::shared_ptr<FieldOrigins> own_copy(const Manifest& manifest) {
  return manifest.fields ? std::make_shared<FieldOrigins>(*manifest.fields)
                         : std::make_shared<FieldOrigins>();
}

}  // namespace

void record_write(Manifest& manifest, const std::string& path, const SourceLocation& site) {
  auto origins = own_copy(manifest);
  Recorder recorder(*origins, nullptr, site);
  recorder.mark(path);
  recorder.finish();
  manifest.fields = std::move(origins);
}

void record_writes(Manifest& manifest, const json& before, const SourceLocation& site,
                   const FieldOrigins* written, const json* patch) {
  auto origins = own_copy(manifest);
  Recorder recorder(*origins, written, site);
  if (manifest.object.is_object()) recorder.walk(&before, manifest.object, "", "", "");
  if (patch != nullptr) recorder.overlay(*patch);
  recorder.finish();
  manifest.fields = std::move(origins);
}

}  // namespace plumbline::renderer
