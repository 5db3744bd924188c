// plumbline/review/pr_review.h — what a pull request changes in each environment, as a comment.
//
// Pure: no I/O, no clocks. The caller renders each environment at the PR's base and head
// (and reads the live state, when asked); review_pull_request() compares them with the same
// diff, policy and compare machinery as `plumbline diff` and `compare`, and
// pr_comment_markdown() writes one bounded Markdown comment per environment, starting with a
// hidden marker by which the comment is found again and updated on the next push.
//
//   std::vector<PrEnvironment> envs = {{.name = "prod", .path = "envs/prod", .base = ..., .head =
//   ...}}; std::vector<EnvironmentReview> reviews = review_pull_request(envs, policies, {});
//   std::string body = pr_comment_markdown(reviews[0], {.max_chars = 65536});
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/findings.h"
#include "plumbline/diff/drift.h"
#include "plumbline/policy/policy.h"

namespace plumbline {

// One environment of the PR: its desired state at the base and at the head of the PR.
struct PrEnvironment {
  std::string name;
  std::string path;
  ManifestSet base;
  ManifestSet head;
  bool in_base = true;  // false: the PR adds this environment (base is empty)
  bool in_head = true;  // false: the PR removes it
  ReportSource base_source, head_source;
  // The live objects of the environment's kinds (nullopt: the live state was not read).
  std::optional<std::vector<json>> live;
};

// What the cluster has now for a field the PR changes.
enum class LiveState {
  kUnknown,        // the live state was not read, or the field is not compared there
  kAsBase,         // the cluster has the base's value: merging the PR changes it
  kAlreadyHead,    // the cluster already has the head's value (someone set it by hand)
  kDiffers,        // the cluster has a value that is neither
  kObjectMissing,  // the object is not in the cluster
};
std::string_view to_string(LiveState state);

// One in-scope field (or list element, or whole object) the PR changes: `change.a` is the
// base's value, `change.b` the head's (masked), and what the cluster has now.
struct FieldChange {
  ObjectRef object;   // the head's object (the base's when the PR removes it)
  Difference change;  // compare_environments(base, head): kind, base name, path, type, a, b
  LiveState live_state = LiveState::kUnknown;
  json live;  // the live value when it differs from both (masked), else null
  std::string live_manager;
  std::string live_changed_at;
};

// A difference between this environment and another one that the PR creates or removes.
struct CrossEnvironmentChange {
  std::string other;      // the other environment
  Difference difference;  // a = this environment at head (or base, when removed), b = other
  bool created = true;    // false: the PR removes the difference
};

struct EnvironmentReview {
  std::string environment;
  std::string path;
  ReportSource base, head;
  bool in_base = true, in_head = true;
  std::vector<FieldChange> changes;
  std::vector<Violation> violations_introduced;  // desired state at head, not at base
  std::vector<Violation> violations_fixed;       // at base, not at head
  size_t violations_kept = 0;                    // at both
  std::vector<CrossEnvironmentChange> cross;
  bool live_read = false;
  size_t other_live_drifts = 0;  // live drift at head in fields the PR does not change
};

// Reviews every environment. `policies` are all policies; each environment gets those that
// apply to it (policies_for), the cross-environment comparisons the union of both sides'.
// `scope`, when not empty, replaces the policies' scope (as --scope does).
std::vector<EnvironmentReview> review_pull_request(const std::vector<PrEnvironment>& environments,
                                                   const std::vector<Policy>& policies,
                                                   const std::vector<Category>& scope);

struct PrCommentOptions {
  // The forge's limit on a comment (GitHub 65,536 characters). The comment is kept at most
  // this many bytes (so at most this many characters), dropping the least important rows
  // with a notice saying how many were left out.
  size_t max_chars = 65536;
  // Tables longer than this fold into <details>.
  size_t fold_rows = 20;
};

// The hidden first line of an environment's comment: "<!-- plumbline:pr-comment env=prod -->".
// Characters outside [A-Za-z0-9._/-] in the name are replaced by '_'.
std::string pr_comment_marker(std::string_view environment);

std::string pr_comment_markdown(const EnvironmentReview& review, const PrCommentOptions& options);

}  // namespace plumbline
