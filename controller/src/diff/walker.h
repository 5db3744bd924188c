// diff/walker.h — the field walk shared by drift (Git vs live) and compare (env a vs env b).
//
// The walk descends only into fields that belong to a category in scope, so the (large) rest
// of an object is never visited; the category is known from where the walk is, not computed
// per leaf from a path string. The canonical path is one buffer that grows and shrinks as the
// walk goes down and up, so equal subtrees cost no string building.
//
// It reads either form of an object (diff/nodes.h): nlohmann trees, or the compact encodings
// of a desired object and a live projection, which a full pass diffs without building trees.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "diff/nodes.h"
#include "plumbline/core/field_table.h"
#include "plumbline/diff/drift.h"

namespace plumbline::diff {

// Which side(s) hold a differing value. "Left" is Git (drift) or environment a (compare).
enum class Side { kBoth, kLeftOnly, kRightOnly };

struct RawFinding {
  std::string path;
  Category category = Category::kResources;
  Side side = Side::kBoth;
  json left;  // masked; null when absent
  json right;
};

enum class Mode {
  kDrift,    // live-only scalars count only in strict categories or the security closed world
  kCompare,  // both sides are declarations: anything on one side only is a difference
};

template <typename Node>
class BasicWalker {
 public:
  BasicWalker(const DiffOptions& options, Mode mode);

  // Appends the differences of two whole objects of the same kind (either may be null only
  // for the pod-template parts; identity is the caller's business).
  void walk_object(Node left, Node right, std::vector<RawFinding>& out);

 private:
  // The table's fields of `level` (core/field_table.h) under the current path.
  void fields(FieldLevel level, Node left_parent, Node right_parent);
  // `level`'s fields inside the securityContext of a pod spec or container.
  void security(FieldLevel level, Node left_owner, Node right_owner);
  void container_list(std::string_view field, Node left, Node right);
  void container(Node left, Node right);
  bool any_in_scope(FieldLevel level) const;

  // Generic descent inside one category: maps by key, lists by path::list_rule, scalars as
  // leaves. `parent` and `name` are the field names that led here (for list rules and the
  // closed-world check).
  void subtree(Category category, std::string_view parent, std::string_view name, Node left,
               Node right);
  void members(Category category, std::string_view parent, Node left, Node right);
  void keyed_list(Category category, std::string_view key, Node left, Node right);
  void set_list(Category category, Node left, Node right);
  void leaf(Category category, std::string_view parent, std::string_view name, Node left,
            Node right);
  // A field of a fixed schema position: descend only when its category is in scope.
  void field(Category category, std::string_view parent, std::string_view name, Node left,
             Node right);

  void emit(Category category, Side side, Node left, Node right, bool element);
  json masked(const json& value, bool element) const;
  // A string value holding a URL with userinfo or a query (DATABASE_URL=postgres://u:p@h/db)
  // is masked whatever the variable's name.
  static bool holds_credentials(Node value);

  bool in_scope(Category c) const { return scope_[static_cast<size_t>(c)]; }
  bool strict(Category c) const { return strict_[static_cast<size_t>(c)]; }

  const DiffOptions& options_;
  Mode mode_;
  std::array<bool, 16> scope_{};
  std::array<bool, 16> strict_{};
  std::string path_;
  // The name of the env var being walked, if any: its values are masked when it looks secret.
  std::optional<std::string_view> env_name_;
  bool secret_env() const { return env_name_ && is_secret_name(*env_name_, options_.mask); }
  std::vector<RawFinding>* out_ = nullptr;
};

using Walker = BasicWalker<JsonNode>;
using EncodedWalker = BasicWalker<EncodedNode>;

// Loose scalar equality the API server applies: quantities by value in `resources`, numbers
// and their decimal text ("1000" vs 1000), and exact JSON equality otherwise.
bool values_equal(Category category, const json& left, const json& right);

// Live values looser than the API default that Git never asked for (closed world).
bool closed_world(std::string_view parent, std::string_view name, const json& value);

// Appends path segments exactly as path::field / keyed / element would write them.
void append_field(std::string& path, std::string_view name);
void append_keyed(std::string& path, std::string_view key, std::string_view value);
void append_element(std::string& path, std::string_view value);

}  // namespace plumbline::diff
