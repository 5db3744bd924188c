// Git-bound policy sets: the ConsistencyPolicy files of one folder of the repository, read
// from the same tree (the same revision) as the manifests.
#include <string>
#include <vector>

#include "plumbline/core/file_tree.h"
#include "plumbline/policy/policy.h"

namespace plumbline {
namespace {

constexpr size_t kMaxPolicyFiles = 200;
constexpr size_t kMaxPolicyFileBytes = 1 << 20;

bool is_policy_file(const std::string& name) {
  for (std::string_view ext : {".yaml", ".yml", ".json"}) {
    if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0)
      return true;
  }
  return false;
}

}  // namespace

Result<std::vector<Policy>> load_policy_folder(const FileTree& tree, const std::string& folder) {
  const std::string where = folder + " (" + tree.describe() + ")";
  PL_ASSIGN_OR_RETURN(std::string dir, join_tree_path("", folder));
  Result<std::vector<TreeEntry>> entries = tree.list_directory(dir);
  if (!entries.ok()) {
    Error error = std::move(entries).error();
    return error.context("reading the policy folder " + where);
  }
  std::vector<Policy> out;
  size_t files = 0;
  for (const TreeEntry& entry : *entries) {  // sorted by name: a stable order
    if (entry.type != EntryType::kFile || !is_policy_file(entry.name)) continue;
    if (++files > kMaxPolicyFiles) {
      return invalid_input("more than " + std::to_string(kMaxPolicyFiles) + " policy files", where);
    }
    std::string file = dir.empty() ? entry.name : dir + "/" + entry.name;
    PL_ASSIGN_OR_RETURN(std::string text, tree.read_file(file));
    if (text.size() > kMaxPolicyFileBytes) {
      return invalid_input("policy file larger than 1 MiB", file);
    }
    PL_ASSIGN_OR_RETURN(std::vector<Policy> policies, parse_policies(text, file));
    for (Policy& p : policies) {
      for (const Policy& seen : out) {
        if (seen.name == p.name) {
          return invalid_input(
              "duplicate ConsistencyPolicy '" + p.name + "' (also in " + seen.origin.file + ")",
              p.origin.to_string());
        }
      }
      p.git_bound = true;
      out.push_back(std::move(p));
    }
  }
  if (out.empty()) {
    return invalid_input("no ConsistencyPolicy file (*.yaml, *.yml, *.json) in the folder", where);
  }
  return out;
}

}  // namespace plumbline
