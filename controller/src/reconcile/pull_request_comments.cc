#include "reconcile/pull_request_comments.h"

#include "plumbline/mask.h"
#include "plumbline/pr_review.h"
#include "plumbline/render.h"

namespace plumbline {
namespace {

// The environment's desired state at `ref`; nullopt when the folder does not exist there.
Result<std::optional<ManifestSet>> render_at(GitSource& git, GitSourceOptions options,
                                             const std::string& ref,
                                             const PullRequestCommentsInput& input,
                                             ReportSource& source) {
  options.ref = ref;
  PL_ASSIGN_OR_RETURN(GitSnapshot snapshot, git.open(options));
  source = {redact_url(options.repo), ref, snapshot.revision, input.path};
  Result<EntryType> type = snapshot.tree->stat(input.path);
  if (!type.ok() && type.error().code() == ErrorCode::kNotFound) {
    return std::optional<ManifestSet>();
  }
  auto mode = parse_render_mode(input.render);
  if (!mode) return invalid_input("unknown render mode '" + input.render + "'");
  PL_ASSIGN_OR_RETURN(ManifestSet objects,
                      render(*snapshot.tree, input.path,
                             {.mode = *mode,
                              .helm = input.helm,
                              .command = input.command,
                              .external = input.external}));
  return std::optional<ManifestSet>(std::move(objects));
}

Result<CommentPosted> comment_on(Forge& forge, GitSource& git, const PullRequest& pr,
                                 const PullRequestCommentsInput& input) {
  PrEnvironment env;
  env.name = input.environment;
  env.path = input.path;
  PL_ASSIGN_OR_RETURN(std::optional<ManifestSet> base,
                      render_at(git, input.git, pr.base_ref, input, env.base_source));
  PL_ASSIGN_OR_RETURN(std::optional<ManifestSet> head,
                      render_at(git, input.git, pr.head_sha, input, env.head_source));
  if (!base && !head) return not_found("the path exists at neither revision", input.path);
  env.in_base = base.has_value();
  env.in_head = head.has_value();
  if (base) env.base = std::move(*base);
  if (head) env.head = std::move(*head);
  if (input.live != nullptr) env.live = *input.live;
  std::vector<EnvironmentReview> reviews = review_pull_request({env}, input.policies, {});
  std::string body = pr_comment_markdown(reviews.front(), {.max_chars = forge.max_comment_chars()});
  return upsert_comment(forge, pr.number, pr_comment_marker(input.environment), body);
}

}  // namespace

Result<std::optional<PullRequestSettings>> parse_pull_request_settings(const json& spec) {
  if (!spec.is_object() || !spec.contains("pullRequests")) {
    return std::optional<PullRequestSettings>();
  }
  const json& pr = spec["pullRequests"];
  const std::string where = "spec.pullRequests";
  if (!pr.is_object()) return invalid_input("must be an object", where);
  PullRequestSettings s;
  auto text = [&](const json& node, const char* key, std::string& out) -> Status {
    if (!node.contains(key)) return invalid_input(std::string(key) + " is required", where);
    if (!node[key].is_string() || node[key].get<std::string>().empty()) {
      return invalid_input(std::string(key) + " must be a non-empty string", where);
    }
    out = node[key].get<std::string>();
    return {};
  };
  PL_RETURN_IF_ERROR(text(pr, "provider", s.provider));
  if (max_comment_chars(s.provider) == 0) {
    return invalid_input("provider must be github, gitlab or gitea, got '" + s.provider + "'",
                         where);
  }
  PL_RETURN_IF_ERROR(text(pr, "repository", s.repository));
  if (!pr.contains("tokenSecretRef") || !pr["tokenSecretRef"].is_object()) {
    return invalid_input("tokenSecretRef.name is required", where);
  }
  PL_RETURN_IF_ERROR(text(pr["tokenSecretRef"], "name", s.token_secret));
  return std::optional<PullRequestSettings>(std::move(s));
}

bool touches_path(const std::vector<std::string>& files, std::string_view path) {
  std::string folder(path);
  while (!folder.empty() && folder.back() == '/') folder.pop_back();
  if (folder.empty() || folder == ".") return !files.empty();
  for (const std::string& file : files) {
    if (file == folder ||
        (file.size() > folder.size() && file.starts_with(folder) && file[folder.size()] == '/')) {
      return true;
    }
  }
  return false;
}

Result<std::vector<PullRequestCommentResult>> comment_on_pull_requests(
    Forge& forge, GitSource& git, const PullRequestCommentsInput& input) {
  PL_ASSIGN_OR_RETURN(std::vector<PullRequest> pulls, forge.open_pull_requests());
  std::vector<PullRequestCommentResult> results;
  for (const PullRequest& pr : pulls) {
    Result<std::vector<std::string>> files = forge.changed_files(pr.number);
    PullRequestCommentResult result{.pr = pr.number};
    if (!files.ok()) {
      result.error = files.error().to_string();
      results.push_back(std::move(result));
      continue;
    }
    // Files under the path only: a change to a base the overlay includes is not seen here
    // (the CLI in CI, which renders every path given, covers it).
    if (!touches_path(*files, input.path)) continue;
    if (pr.head_sha.empty() || pr.base_ref.empty()) {
      result.error = "the forge gave no head commit or base branch";
    } else {
      Result<CommentPosted> posted = comment_on(forge, git, pr, input);
      if (posted.ok()) {
        result.posted = *posted;
      } else {
        result.error = redact_urls_in(posted.error().to_string());
      }
    }
    results.push_back(std::move(result));
  }
  return results;
}

}  // namespace plumbline
