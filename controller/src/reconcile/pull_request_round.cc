// The Controller's pull-request comments (spec.pullRequests; DESIGN.md "Pull-request comments
// from the controller"): when a round runs, the token from the Environment's Secret, the
// forge, and the PullRequestComments condition. The round itself is pull_request_comments.cc.
#include <thread>

#include "plumbline/core/mask.h"
#include "plumbline/forge/forge.h"
#include "plumbline/reconcile/controller.h"
#include "reconcile/pull_request_comments.h"

namespace plumbline {
namespace {

using Clock = std::chrono::steady_clock;

// The condition's reason for a forge's error.
std::string reason_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnauthenticated:
      return "ForgeUnauthenticated";
    case ErrorCode::kPermissionDenied:
      return "ForgeForbidden";
    case ErrorCode::kNotFound:
      return "ForgeNotFound";
    default:
      return "ForgeFailed";
  }
}

// What identifies the forge side of spec.pullRequests: another one starts afresh.
std::string settings_key(const PullRequestSettings& s) {
  return s.provider + "|" + s.api_url + "|" + s.repository + "|" + s.token_secret + "|" +
         s.token_key;
}

}  // namespace

void Controller::run_pull_request_round(const std::string& name, const json& object,
                                        const EnvironmentSpec& spec, EnvState& state,
                                        const std::vector<Policy>& policies, bool requested) {
  auto set = [&](bool ok, const std::string& reason, const std::string& message) {
    state.pull_requests_ok = ok;
    state.pull_requests_reason = reason;
    state.pull_requests_message = redact_urls_in(message);
    if (!ok && reason != "DesiredStateNotLoaded") {
      log_.warn(
          "pull request comments failed",
          {{"environment", name}, {"reason", reason}, {"error", state.pull_requests_message}});
    }
  };
  const json& spec_json = object.contains("spec") ? object["spec"] : json::object();
  Result<std::optional<PullRequestSettings>> parsed = parse_pull_request_settings(spec_json);
  if (!parsed.ok()) {
    set(false, "InvalidSpec", parsed.error().to_string());
    return;
  }
  if (!*parsed) {
    state.pull_requests_reason.clear();
    state.pull_requests_message.clear();
    state.pull_request_heads.clear();
    state.pull_request_revision.clear();
    return;
  }
  const PullRequestSettings& settings = **parsed;
  // Never comment from a desired state that failed to load or verify.
  if (!state.error.empty()) {
    set(false, "DesiredStateNotLoaded",
        "no pull request is commented on while the desired state does not load (" +
            state.error_reason + ")");
    return;
  }
  const Clock::time_point now = Clock::now();
  const std::string round_key = state.source.revision + "|" + settings_key(settings);
  if (!state.pull_request_revision.empty() &&
      state.pull_request_revision.substr(state.pull_request_revision.find('|')) !=
          round_key.substr(round_key.find('|'))) {
    state.pull_request_heads.clear();  // another forge or repository
  }
  const bool due =
      requested || round_key != state.pull_request_revision || now >= state.next_pull_request_round;
  if (!due || !options_.leading()) return;
  state.pull_request_revision = round_key;
  state.next_pull_request_round = now + settings.interval;
  queue_.add_after(name, settings.interval);

  // The token, from a Secret bound to this Environment like Git credentials are; read at
  // every round, so a rotated token counts at once. Never logged.
  bool refused = false;
  Result<json> secret = bound_secret(settings.token_secret, name, "a pull-request token", refused);
  if (!secret.ok()) {
    set(false, refused ? "TokenRefused" : "TokenFailed",
        "spec.pullRequests.tokenSecretRef: " + secret.error().to_string());
    return;
  }
  Result<std::map<std::string, std::string>> data = secret_data(*secret);
  const std::string where = "Secret " + options_.report_namespace + "/" + settings.token_secret;
  if (!data.ok()) {
    set(false, "TokenFailed", "spec.pullRequests.tokenSecretRef: " + data.error().to_string());
    return;
  }
  auto token = data->find(settings.token_key);
  if (token == data->end() || token->second.empty()) {
    set(false, "TokenFailed",
        "spec.pullRequests.tokenSecretRef: " + where + " has no key '" + settings.token_key + "'");
    return;
  }
  ForgeOptions forge_options{.provider = settings.provider,
                             .api_url = settings.api_url,
                             .repository = settings.repository,
                             .token = token->second,
                             .timeout = std::chrono::seconds(15),
                             .max_wait = std::chrono::seconds(20)};
  // A rate-limit wait ends early when the controller stops.
  forge_options.sleep = [this](std::chrono::milliseconds wait) {
    const auto until = Clock::now() + wait;
    while (Clock::now() < until && !cancel_.cancelled()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  };
  Result<std::unique_ptr<Forge>> forge = options_.make_forge
                                             ? options_.make_forge(std::move(forge_options))
                                             : make_forge(std::move(forge_options));
  if (!forge.ok()) {
    set(false, "InvalidSpec", "spec.pullRequests: " + forge.error().to_string());
    return;
  }
  bool git_refused = false;
  Result<GitAuth> auth = git_auth_for(spec, git_refused);
  if (!auth.ok()) {
    set(false, "CredentialsFailed", auth.error().to_string());
    return;
  }
  auth->allow_cleartext_http = options_.allow_http_git_credentials;

  PullRequestCommentsInput input;
  input.environment = name;
  input.path = spec.source.path;
  input.render = spec.render;
  input.provider = settings.provider;
  input.git = {.repo = spec.source.url,
               .ref = "",
               .cache_dir = options_.git_cache_dir,
               .auth = std::move(*auth),
               .timeout = std::min(options_.git_timeout, options_.pull_request_round_timeout),
               .max_cache_bytes = options_.git_cache_max_bytes,
               .cancelled = [this] { return cancel_.cancelled(); }};
  input.allow_local_remote_bases = options_.allow_local_sources;
  input.policies = policies;
  std::vector<json> live;
  for (const std::string& ns : spec.namespaces) {
    for (json& o : workloads_->objects(ns)) live.push_back(std::move(o));
  }
  input.live = &live;
  input.max_pull_requests = options_.pull_request_max;
  input.deadline = now + options_.pull_request_round_timeout;
  // Rendered as the Environment is (helm, render commands), within the round's deadline.
  ProcessRenderer runner = renderer_for(options_.render_timeout, input.deadline);
  RenderOptions render = render_options_for(spec, runner, input.deadline);
  input.helm = render.helm;
  input.command = render.command;
  input.external = &runner;
  input.may_post = [this] { return options_.leading() && !cancel_.cancelled(); };

  Result<PullRequestRound> round =
      comment_on_pull_requests(**forge, git_, input, state.pull_request_heads);
  const std::string described = (*forge)->describe();
  if (!round.ok()) {
    set(false, reason_for(round.error().code()),
        "listing the open pull requests of " + described + ": " + round.error().to_string());
    return;
  }
  std::string failures;
  ErrorCode failure_code = ErrorCode::kInternal;
  bool forge_failure = false;
  for (const PullRequestCommentResult& r : round->results) {
    if (r.posted) {
      log_.info("pull request comment", {{"environment", name},
                                         {"pullRequest", r.pr},
                                         {"action", std::string(to_string(r.posted->action))},
                                         {"comment", r.posted->id}});
      continue;
    }
    if (r.code == ErrorCode::kCancelled) continue;  // leadership lost: the new leader posts
    failures +=
        (failures.empty() ? "" : "; ") + std::string("#") + std::to_string(r.pr) + ": " + r.error;
    if (r.code == ErrorCode::kUnauthenticated || r.code == ErrorCode::kPermissionDenied ||
        r.code == ErrorCode::kUnavailable) {
      forge_failure = true;
      failure_code = r.code;
    }
  }
  if (round->deferred > 0) {
    // More than one round's worth: the next round comes soon, not after the interval.
    state.next_pull_request_round = now;
    queue_.add_after(name, std::chrono::seconds(5));
  }
  if (!failures.empty()) {
    set(false, forge_failure ? reason_for(failure_code) : "CommentFailed",
        "on " + described + ": " + failures);
    return;
  }
  set(true, "Commented",
      "the open pull requests of " + described + " that touch " + spec.source.path +
          " have plumbline's comment (" + std::to_string(round->open) + " open)");
}

}  // namespace plumbline
