// `plumbline pr-comment`: renders every environment at the PR's base and head, reads the live
// state when asked, and posts (or with --dry-run prints) one comment per environment. Nothing
// is posted unless every revision, render and live read succeeded.
#include <cstdlib>
#include <ostream>

#include "app/cli.h"
#include "plumbline/core/mask.h"
#include "plumbline/forge/forge.h"
#include "plumbline/review/pr_review.h"
#include "plumbline/snapshot/snapshot.h"

namespace plumbline::app {
namespace {

// The environment's desired state at one revision; absent when the path does not exist there
// (the PR adds or removes the environment).
Result<std::optional<Desired>> render_at(const OpenedSource& opened, const std::string& path,
                                         const CliOptions& o) {
  Result<EntryType> type = opened.tree->stat(path);
  if (!type.ok() && type.error().code() == ErrorCode::kNotFound) return std::optional<Desired>();
  PL_ASSIGN_OR_RETURN(Desired desired, render_path(*opened.tree, opened.source, path, o));
  return std::optional<Desired>(std::move(desired));
}

Status check_options(const CliOptions& o) {
  if (o.paths.empty()) return invalid_input("pr-comment needs --path (once per environment)");
  if (o.base.empty() || o.head.empty()) {
    return invalid_input("pr-comment needs --base and --head (the PR's two revisions)");
  }
  if (o.provider.empty()) return invalid_input("pr-comment needs --provider github|gitlab|gitea");
  if (!o.dry_run && (o.repository.empty() || o.pr <= 0)) {
    return invalid_input("pr-comment needs --repository and --pr (or --dry-run to only print)");
  }
  if (!o.environments.empty() && o.environments.size() != o.paths.size()) {
    return invalid_input("--environment needs one name per --path");
  }
  if (o.live != "cluster" && (!o.kubeconfig.empty() || !o.context.empty())) {
    return invalid_input("--kubeconfig and --context go with --live cluster");
  }
  return {};
}

// Reads the live state once for all environments and both revisions (one LIST per kind and
// namespace), then hands each environment the objects.
Status read_live(const CliOptions& o, std::vector<PrEnvironment>& envs, std::ostream& err) {
  if (o.live.empty()) return {};
  std::vector<json> live;
  if (o.live == "cluster") {
    CompactManifestSet all;
    for (const PrEnvironment& e : envs) {
      for (const Manifest& m : e.base) all.emplace_back(m);
      for (const Manifest& m : e.head) all.emplace_back(m);
    }
    if (all.empty()) return {};
    PL_ASSIGN_OR_RETURN(std::vector<LiveObject> projected, read_cluster(o, all, err));
    live.reserve(projected.size());
    for (const LiveObject& object : projected) live.push_back(object.to_json());
    // The namespaces read_cluster gave namespace-less objects, back in place.
    size_t at = 0;
    for (PrEnvironment& e : envs) {
      for (Manifest& m : e.base) m = all[at++].materialize();
      for (Manifest& m : e.head) m = all[at++].materialize();
    }
  } else {
    PL_ASSIGN_OR_RETURN(std::string text, read_input_file(o.live));
    PL_ASSIGN_OR_RETURN(live, parse_live_snapshot(text, o.live == "-" ? "<stdin>" : o.live));
    for (const PrEnvironment& e : envs) {
      if (e.head.empty()) continue;
      // The same rule as diff: kinds the snapshot does not cover are an error unless named.
      PL_RETURN_IF_ERROR(snapshot_coverage(compact(e.head), live, o));
    }
  }
  for (PrEnvironment& e : envs) e.live = live;
  return {};
}

}  // namespace

Result<int> run_pr_comment(const CliOptions& o, std::ostream& out, std::ostream& err) {
  PL_RETURN_IF_ERROR(check_options(o));
  PL_ASSIGN_OR_RETURN(std::vector<Policy> policies, load_policies(o));
  std::vector<Category> scope;
  for (const auto& name : o.scope) {
    auto category = parse_category(name);
    if (!category) return invalid_input("unknown category '" + name + "' in --scope");
    scope.push_back(*category);
  }
  // The token is read before any work, so a missing one fails fast; it is never printed.
  std::string token_env = o.token_env.empty() ? default_token_env(o.provider) : o.token_env;
  std::string token;
  if (!o.dry_run) {
    const char* value = std::getenv(token_env.c_str());
    if (value == nullptr || *value == '\0') {
      return Error(ErrorCode::kUnauthenticated,
                   "no token: set $" + token_env + " (or name another variable with --token-env)");
    }
    token = value;
  }

  CliOptions at_base = o, at_head = o;
  at_base.ref = o.base;
  at_head.ref = o.head;
  PL_ASSIGN_OR_RETURN(OpenedSource base, open_source(at_base, err));
  PL_ASSIGN_OR_RETURN(OpenedSource head, open_source(at_head, err));

  std::vector<PrEnvironment> envs;
  for (size_t i = 0; i < o.paths.size(); ++i) {
    PrEnvironment env;
    env.path = o.paths[i];
    env.name = o.environments.empty() ? environment_name(env.path) : o.environments[i];
    PL_ASSIGN_OR_RETURN(std::optional<Desired> b, render_at(base, env.path, o));
    PL_ASSIGN_OR_RETURN(std::optional<Desired> h, render_at(head, env.path, o));
    if (!b && !h) {
      return not_found("the path exists neither at --base " + o.base + " nor at --head " + o.head,
                       env.path);
    }
    env.in_base = b.has_value();
    env.in_head = h.has_value();
    env.base_source = b ? b->source : base.source;
    env.head_source = h ? h->source : head.source;
    if (b) env.base = materialize(b->objects);
    if (h) env.head = materialize(h->objects);
    envs.push_back(std::move(env));
  }
  PL_RETURN_IF_ERROR(read_live(o, envs, err));

  std::vector<EnvironmentReview> reviews = review_pull_request(envs, policies, scope);
  PrCommentOptions comment_options{.max_chars = max_comment_chars(o.provider)};
  std::vector<std::string> bodies;
  std::string printed;
  for (const EnvironmentReview& review : reviews) {
    bodies.push_back(pr_comment_markdown(review, comment_options));
    printed += (printed.empty() ? "" : "\n") + bodies.back();
  }
  if (o.dry_run || !o.output.empty()) PL_RETURN_IF_ERROR(write_output(o, printed, out));
  if (o.dry_run) return 0;

  PL_ASSIGN_OR_RETURN(std::unique_ptr<Forge> forge,
                      make_forge({.provider = o.provider,
                                  .api_url = o.api_url,
                                  .repository = o.repository,
                                  .token = token,
                                  .timeout = std::chrono::seconds(o.timeout_seconds)}));
  for (size_t i = 0; i < reviews.size(); ++i) {
    const std::string marker = pr_comment_marker(reviews[i].environment);
    Result<CommentPosted> posted = upsert_comment(*forge, o.pr, marker, bodies[i]);
    if (!posted.ok()) {
      Error error = std::move(posted).error();
      if (error.code() == ErrorCode::kUnauthenticated) {
        error.context("the token from $" + token_env);
      }
      return error;
    }
    if (!o.quiet) {
      err << "plumbline: " << reviews[i].environment << ": " << to_string(posted->action)
          << " comment " << posted->id << " on " << forge->describe() << " #" << o.pr << "\n";
    }
  }
  return 0;
}

}  // namespace plumbline::app
