#include "reconcile/pull_request_comments.h"

#include <algorithm>

#include "plumbline/core/mask.h"
#include "plumbline/git/remote_bases.h"
#include "plumbline/git/repo_location.h"
#include "plumbline/reconcile/environment.h"
#include "plumbline/render/render.h"
#include "plumbline/review/pr_review.h"

namespace plumbline {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view kHeadMarker = "<!-- plumbline:head=";

// The forge as the round sees it: each write asks may_post first (leadership can be lost in
// the middle of a round), reads pass through.
class GatedForge final : public Forge {
 public:
  GatedForge(Forge& inner, const std::function<bool()>& may_post)
      : inner_(inner), may_post_(may_post) {}
  Result<std::vector<ForgeComment>> list_comments(long pr) override {
    return inner_.list_comments(pr);
  }
  Result<ForgeComment> create_comment(long pr, const std::string& body) override {
    PL_RETURN_IF_ERROR(allowed(pr));
    return inner_.create_comment(pr, body);
  }
  Result<ForgeComment> update_comment(long pr, const std::string& id,
                                      const std::string& body) override {
    PL_RETURN_IF_ERROR(allowed(pr));
    return inner_.update_comment(pr, id, body);
  }
  Result<std::vector<PullRequest>> open_pull_requests() override {
    return inner_.open_pull_requests();
  }
  Result<std::vector<std::string>> changed_files(long pr) override {
    return inner_.changed_files(pr);
  }
  size_t max_comment_chars() const override { return inner_.max_comment_chars(); }
  std::string describe() const override { return inner_.describe(); }

 private:
  Status allowed(long pr) const {
    if (may_post_ && !may_post_()) {
      return Error(ErrorCode::kCancelled, "not leading: nothing is posted",
                   inner_.describe() + " #" + std::to_string(pr));
    }
    return {};
  }
  Forge& inner_;
  const std::function<bool()>& may_post_;
};

// The head a comment of ours names (its second line), or "".
std::string head_in(const std::string& body) {
  size_t at = body.find(kHeadMarker);
  if (at == std::string::npos || at > 300) return "";
  size_t start = at + kHeadMarker.size();
  size_t end = body.find(" -->", start);
  if (end == std::string::npos || end - start > 64) return "";
  return body.substr(start, end - start);
}

// The environment's desired state at `ref` (read from the cache the round fetched); nullopt
// when the folder does not exist there.
Result<std::optional<ManifestSet>> render_at(GitSource& git, GitSourceOptions options,
                                             const std::string& ref,
                                             const PullRequestCommentsInput& input,
                                             ReportSource& source) {
  options.ref = ref;
  options.fetch = false;
  PL_ASSIGN_OR_RETURN(GitSnapshot snapshot, git.open(options));
  source = {redact_url(options.repo), ref, snapshot.revision, input.path};
  Result<EntryType> type = snapshot.tree->stat(input.path);
  if (!type.ok() && type.error().code() == ErrorCode::kNotFound) {
    return std::optional<ManifestSet>();
  }
  auto mode = parse_render_mode(input.render);
  if (!mode) return invalid_input("unknown render mode '" + input.render + "'");
  RenderOptions render_options{
      .mode = *mode, .helm = input.helm, .command = input.command, .external = input.external};
  const Clock::time_point deadline = input.deadline;
  render_options.limits.out_of_time = [deadline] { return Clock::now() >= deadline; };
  // Remote bases as the Environment's render fetches them (its credentials on its host only).
  GitSourceOptions bases = options;
  bases.fetch = true;
  Result<git::RepoLocation> location = git::classify_repo(options.repo);
  GitRemoteBases remote_bases(git, {.defaults = std::move(bases),
                                    .credentials_host = location.ok() ? location->host : "",
                                    .allow_local = input.allow_local_remote_bases,
                                    .deadline = deadline});
  render_options.remote_bases = &remote_bases;
  PL_ASSIGN_OR_RETURN(ManifestSet objects, render(*snapshot.tree, input.path, render_options));
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
  const std::string marker = pr_comment_marker(input.environment);
  const std::string head_line = "\n" + pull_request_head_marker(pr.head_sha);
  size_t limit = forge.max_comment_chars();
  std::string body = pr_comment_markdown(
      reviews.front(), {.max_chars = limit > head_line.size() ? limit - head_line.size() : limit});
  body.insert(marker.size(), head_line);
  return upsert_comment(forge, pr.number, marker, body);
}

// Whether our comment on `pr` already describes its head (a restart forgot the memory).
bool commented_already(Forge& forge, const PullRequest& pr, const std::string& marker) {
  Result<std::vector<ForgeComment>> comments = forge.list_comments(pr.number);
  if (!comments.ok()) return false;  // upsert_comment lists again and says why
  for (const ForgeComment& c : *comments) {
    if (c.body.starts_with(marker)) return head_in(c.body) == pr.head_sha;
  }
  return false;
}

}  // namespace

std::string pull_request_head_ref(std::string_view provider, long number) {
  if (provider == "gitlab") return "refs/merge-requests/" + std::to_string(number) + "/head";
  return "refs/pull/" + std::to_string(number) + "/head";
}

std::string pull_request_head_marker(std::string_view sha) {
  return std::string(kHeadMarker) + std::string(sha) + " -->";
}

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
  if (pr["tokenSecretRef"].contains("key")) {
    PL_RETURN_IF_ERROR(text(pr["tokenSecretRef"], "key", s.token_key));
  }
  if (pr.contains("apiUrl")) PL_RETURN_IF_ERROR(text(pr, "apiUrl", s.api_url));
  if (s.provider == "gitea" && s.api_url.empty()) {
    return invalid_input("apiUrl is required for gitea (e.g. https://gitea.example)", where);
  }
  if (pr.contains("interval")) {
    std::string interval;
    PL_RETURN_IF_ERROR(text(pr, "interval", interval));
    Result<std::chrono::milliseconds> parsed = parse_duration(interval);
    if (!parsed.ok()) return invalid_input("interval: " + parsed.error().message(), where);
    if (*parsed < std::chrono::seconds(10)) {
      return invalid_input("interval must be at least 10s, got " + interval, where);
    }
    s.interval = *parsed;
  }
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

Result<PullRequestRound> comment_on_pull_requests(Forge& forge, GitSource& git,
                                                  const PullRequestCommentsInput& input,
                                                  PullRequestMemory& memory) {
  GatedForge gated(forge, input.may_post);
  PL_ASSIGN_OR_RETURN(std::vector<PullRequest> pulls, gated.open_pull_requests());
  PullRequestRound round;
  round.open = pulls.size();
  // Closed PRs are forgotten; the newest are worked on first.
  PullRequestMemory still_open;
  for (const PullRequest& pr : pulls) {
    if (auto it = memory.find(pr.number); it != memory.end()) still_open.insert(*it);
  }
  memory = std::move(still_open);
  std::sort(pulls.begin(), pulls.end(),
            [](const PullRequest& a, const PullRequest& b) { return a.number > b.number; });

  // First the PRs to comment on: a new head that touches the path.
  const std::string marker = pr_comment_marker(input.environment);
  std::vector<const PullRequest*> todo;
  size_t examined = 0;
  for (const PullRequest& pr : pulls) {
    auto seen = memory.find(pr.number);
    if (!pr.head_sha.empty() && seen != memory.end() && seen->second == pr.head_sha) {
      ++round.unchanged;
      continue;
    }
    if (examined >= input.max_pull_requests || Clock::now() >= input.deadline) {
      ++round.deferred;
      continue;
    }
    ++examined;
    PullRequestCommentResult result{.pr = pr.number};
    if (pr.head_sha.empty() || pr.base_ref.empty()) {
      result.error = "the forge gave no head commit or base branch";
      round.results.push_back(std::move(result));
      continue;
    }
    Result<std::vector<std::string>> files = gated.changed_files(pr.number);
    if (!files.ok()) {
      result.error = files.error().to_string();
      result.code = files.error().code();
      round.results.push_back(std::move(result));
      continue;
    }
    // Files under the path only: a change to a base the overlay includes is not seen here
    // (the CLI in CI, which renders every path given, covers it).
    if (!touches_path(*files, input.path)) {
      memory[pr.number] = pr.head_sha;
      continue;
    }
    // After a restart: our comment already describes this head.
    if (seen == memory.end() && commented_already(gated, pr, marker)) {
      memory[pr.number] = pr.head_sha;
      ++round.unchanged;
      continue;
    }
    todo.push_back(&pr);
  }
  if (todo.empty()) return round;

  // One fetch for the round: the branches, and each PR's head ref (a fork's head is in the
  // base repository only under that ref). Renders then read the cache.
  GitSourceOptions fetch = input.git;
  fetch.ref = todo.front()->base_ref;
  if (!input.provider.empty()) {
    for (const PullRequest* pr : todo) {
      fetch.extra_refs.push_back(pull_request_head_ref(input.provider, pr->number));
    }
  }
  Result<GitSnapshot> fetched = git.open(fetch);
  for (const PullRequest* pr : todo) {
    PullRequestCommentResult result{.pr = pr->number};
    Result<CommentPosted> posted =
        !fetched.ok() ? Result<CommentPosted>(fetched.error())
        : Clock::now() >= input.deadline
            ? Result<CommentPosted>(Error(ErrorCode::kTimeout, "the round's deadline passed"))
            : comment_on(gated, git, *pr, input);
    if (posted.ok()) {
      result.posted = *posted;
      memory[pr->number] = pr->head_sha;
    } else {
      result.error = redact_urls_in(posted.error().to_string());
      result.code = posted.error().code();
    }
    round.results.push_back(std::move(result));
  }
  return round;
}

}  // namespace plumbline
