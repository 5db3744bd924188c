// The Controller's desired state: Git credentials, fetch and render of an environment.
#include <algorithm>
#include <cmath>

#include "plumbline/core/desired_scope.h"
#include "plumbline/core/digest.h"
#include "plumbline/core/mask.h"
#include "plumbline/core/rfc3339.h"
#include "plumbline/git/remote_bases.h"
#include "plumbline/git/repo_location.h"
#include "plumbline/policy/policy.h"
#include "plumbline/process/render_process.h"
#include "plumbline/reconcile/controller.h"
#include "plumbline/render/render.h"
#include "reconcile/elapsed.h"

namespace plumbline {

// A Secret of the controller's namespace that `environment` may use (DESIGN.md "Tenancy": it
// lists the Environment in plumbline.dev/allowed-environments and is no ServiceAccount
// token), read at every use so a rotated Secret counts at once. `refused`: it exists but is
// not meant for the Environment. Errors name the Secret and the rule, never a value.
Result<json> Controller::bound_secret(const std::string& name, const std::string& environment,
                                      std::string_view what, bool& refused) {
  Result<std::string> body =
      client_.get(*secrets_resource_, options_.report_namespace, name, &cancel_);
  if (!body.ok()) return std::move(body).error();
  json secret = json::parse(*body, nullptr, false);
  if (!secret.is_object()) {
    return Error(ErrorCode::kInvalidInput, "the apiserver returned a Secret that is not JSON",
                 "Secret " + options_.report_namespace + "/" + name);
  }
  if (Status usable = secret_usable_by(secret, environment, what); !usable.ok()) {
    refused = true;
    return std::move(usable).error();
  }
  return secret;
}

// The credentials of the Secret spec.source.secretRef names, if it is meant for this
// Environment (else an error and `refused`); else the controller's own, which go only to
// PLUMBLINE_GIT_HOST.
Result<GitAuth> Controller::git_auth_for(const EnvironmentSpec& spec, bool& refused) {
  if (spec.source.secret_name.empty()) return options_.git_auth;
  Result<json> secret =
      bound_secret(spec.source.secret_name, spec.name, "Git credentials", refused);
  if (!secret.ok()) {
    if (refused) return std::move(secret).error();
    return std::move(secret).error().context(
        "reading the Git credentials of spec.source.secretRef");
  }
  return git_auth_from_secret(*secret, options_.git_auth);
}

// helm and render commands run as sandboxed child processes within the render's deadline.
ProcessRenderer Controller::renderer_for(std::chrono::milliseconds timeout,
                                         std::chrono::steady_clock::time_point deadline) const {
  return ProcessRenderer({.helm = options_.helm,
                          .allow_commands = options_.allow_render_commands,
                          .timeout = timeout,
                          .deadline = deadline,
                          .cancelled = [this] { return cancel_.cancelled(); }});
}

// How `spec` renders: its mode and renderer settings (a Helm release named like the
// Environment, in its first namespace, unless it says otherwise), ending at `deadline`.
RenderOptions Controller::render_options_for(const EnvironmentSpec& spec,
                                             const ExternalRenderer& runner,
                                             std::chrono::steady_clock::time_point deadline) const {
  RenderOptions options{.mode = parse_render_mode(spec.render).value_or(RenderMode::kAuto),
                        .limits = options_.render_limits,
                        .helm = spec.helm,
                        .command = spec.render_command,
                        .external = &runner};
  if (options.helm.release_name.empty()) options.helm.release_name = spec.name;
  if (options.helm.namespace_name.empty()) options.helm.namespace_name = spec.namespaces.front();
  options.limits.out_of_time = [this, deadline] {
    return cancel_.cancelled() || std::chrono::steady_clock::now() >= deadline;
  };
  return options;
}

// spec.source.verify: whether the fetched commit is signed by a trusted key. On failure the
// state's error says which commit and which signer, and nothing of the commit is used: the
// last verified desired state stays, and enforce mode corrects nothing while the error lasts.
bool Controller::verified(const EnvironmentSpec& spec, const GitSnapshot& snapshot,
                          EnvState& state) {
  bool refused = false;
  Result<json> secret = bound_secret(spec.source.verify_secret, spec.name,
                                     "the keys of spec.source.verify.keysSecretRef", refused);
  Result<TrustedKeys> keys = secret.ok() ? trusted_keys_from_secret(*secret, *spec.source.verify)
                                         : Result<TrustedKeys>(secret.error());
  if (!keys.ok()) {
    state.error_reason = refused ? "VerificationKeysRefused" : "VerificationKeysFailed";
    state.error = "spec.source.verify: " + keys.error().to_string();
    return false;
  }
  // The same commit checked against the same keys needs no second check.
  const std::string key = snapshot.revision + "|" + sha256_hex(keys->keys);
  if (state.verified == key) return true;
  Result<Signer> signer = verify_commit(*keys, snapshot.revision, snapshot.signature);
  if (!signer.ok()) {
    state.error_reason = "UnverifiedCommit";
    state.error = signer.error().to_string() +
                  (state.desired ? "; reporting against the last verified commit " +
                                       state.source.revision + ", nothing is corrected"
                                 : "; nothing is reported or corrected");
    return false;
  }
  state.verified = key;
  log_.info("commit signature verified", {{"environment", spec.name},
                                          {"revision", snapshot.revision},
                                          {"signer", signer->fingerprint},
                                          {"principal", signer->principal}});
  return true;
}

// Fetch and render; on failure the last good desired state stays.
void Controller::load_desired(const EnvironmentSpec& spec, EnvState& state) {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  if (!options_.allow_local_sources) {
    Result<git::RepoLocation> location = git::classify_repo(spec.source.url);
    if (location.ok() &&
        (location->kind == git::RepoKind::kLocalPath || location->kind == git::RepoKind::kFile)) {
      state.error_reason = "SourceRefused";
      state.error =
          "spec.source.url: local paths and file:// URLs are refused in the controller "
          "(they read the controller's own filesystem; the installer can allow them "
          "with --allow-local-sources)";
      return;
    }
  }
  bool refused = false;
  Result<GitAuth> auth = git_auth_for(spec, refused);
  if (!auth.ok()) {
    state.error_reason = refused ? "CredentialsRefused" : "CredentialsFailed";
    state.error = auth.error().to_string();
    return;
  }
  // Credentials never go over cleartext http:// unless the installer allows it.
  auth->allow_cleartext_http = options_.allow_http_git_credentials;
  GitSourceOptions git{.repo = spec.source.url,
                       .ref = spec.source.ref,
                       .cache_dir = options_.git_cache_dir,
                       .auth = *auth,
                       .timeout = options_.git_timeout,
                       .max_cache_bytes = options_.git_cache_max_bytes,
                       .cancelled = [this] { return cancel_.cancelled(); }};
  Result<GitSnapshot> snapshot = git_.open(git);
  const double fetch_seconds = seconds_since(start);
  if (hooks_.on_git_fetch) hooks_.on_git_fetch(spec.name, fetch_seconds, snapshot.ok());
  if (!snapshot.ok()) {
    state.error_reason = "FetchFailed";
    // Git errors usually name the (redacted) URL already.
    const std::string shown = redact_url(spec.source.url);
    state.error = snapshot.error().where() == shown
                      ? "fetching " + snapshot.error().to_string()
                      : "fetching " + shown + ": " + snapshot.error().to_string();
    return;
  }
  if (spec.source.verify && !verified(spec, *snapshot, state)) return;
  if (state.desired && snapshot->revision == state.source.revision &&
      state.synced_generation == spec.generation) {
    state.error.clear();
    state.error_reason.clear();
    return;  // same commit, same spec: nothing to render
  }
  auto mode = parse_render_mode(spec.render);
  if (mode == RenderMode::kCommand && !options_.allow_render_commands) {
    state.error_reason = "RenderRefused";
    state.error =
        "spec.render.type command: render commands are refused in this controller (they run "
        "a program of the Environment's choosing; the installer can allow them with "
        "--allow-render-commands)";
    return;
  }
  std::chrono::milliseconds render_timeout = options_.render_timeout;
  if (spec.render_timeout.count() > 0)
    render_timeout = std::min(render_timeout, spec.render_timeout);
  const auto render_start = std::chrono::steady_clock::now();
  auto render_deadline = render_start + render_timeout;
  ProcessRenderer runner = renderer_for(render_timeout, render_deadline);
  RenderOptions render_options = render_options_for(spec, runner, render_deadline);
  // Remote bases: fetched like the source (cache, limits), within the render's deadline, with
  // the Environment's credentials only on its repository's host.
  Result<git::RepoLocation> location = git::classify_repo(spec.source.url);
  GitRemoteBases remote_bases(git_, {.defaults = git,
                                     .credentials_host = location.ok() ? location->host : "",
                                     .allow_local = options_.allow_local_sources,
                                     .deadline = render_deadline});
  std::vector<std::string> warnings;
  render_options.remote_bases = &remote_bases;
  render_options.warnings = &warnings;
  render_options.parse_cache = &state.parses;
  render_options.tasks = options_.tasks;
  // Compact from the start: a plain render never builds whole trees, and the files the parse
  // cache holds keep their bytes (one copy between the cache and the desired state).
  Result<CompactManifestSet> rendered =
      render_compact(*snapshot->tree, spec.source.path, render_options);
  if (!rendered.ok()) {
    state.error_reason = "RenderFailed";
    std::string why = rendered.error().code() == ErrorCode::kTimeout
                          ? "did not finish within " +
                                std::to_string(render_timeout.count() / 1000) + " s (" +
                                rendered.error().to_string() + ")"
                          : rendered.error().to_string();
    state.error =
        "rendering " + spec.source.path + " at " + snapshot->revision.substr(0, 12) + ": " + why;
    return;
  }
  // A Git-bound policy set is read from the same commit; if it cannot be, nothing of this
  // commit is used (never act on a state whose policies failed to load).
  std::vector<Policy> git_policies;
  if (!spec.policies_path.empty()) {
    Result<std::vector<Policy>> loaded = load_policy_folder(*snapshot->tree, spec.policies_path);
    if (!loaded.ok()) {
      state.error_reason = "PolicyLoadFailed";
      state.error = "spec.policies.path at " + snapshot->revision.substr(0, 12) + ": " +
                    loaded.error().to_string();
      return;
    }
    git_policies = std::move(*loaded);
  }
  // Objects without a namespace land in the environment's first namespace (the CLI's rule,
  // with the kind's scope from discovery; a kind discovery does not know is taken as
  // namespaced, as everything but a Namespace was before).
  default_namespaces(*rendered, spec.namespaces.front(), [&](const ObjectRef& ref) {
    if (ref.kind == "Namespace") return false;
    Result<ApiResource> resource = client_.resource_for(ref.api_version, ref.kind);
    return !resource.ok() || resource->namespaced;
  });
  bool new_revision = snapshot->revision != state.source.revision;
  {
    std::set<ObjectRef> declared;
    for (const CompactManifest& m : *rendered) declared.insert(m.ref());
    std::lock_guard lock(mu_);
    declared_[spec.name] = std::move(declared);
  }
  state.desired = std::move(*rendered);
  ++state.desired_version;
  state.source = {.repo = redact_url(spec.source.url),
                  .ref = spec.source.ref.empty() ? snapshot->ref : spec.source.ref,
                  .revision = snapshot->revision,
                  .path = spec.source.path};
  state.git_policies = std::move(git_policies);
  for (const std::string& warning : warnings) {
    log_.warn("render warning", {{"environment", spec.name}, {"warning", warning}});
  }
  state.render_warnings = std::move(warnings);
  state.policy_source = {};
  if (!spec.policies_path.empty()) {
    state.policy_source = state.source;
    state.policy_source.path = spec.policies_path;
  }
  state.synced_generation = spec.generation;
  state.error.clear();
  if (new_revision) state.last_sync_time = rfc3339(std::chrono::system_clock::now());
  // Where a slow load went, at a glance (also the plumbline_git_fetch_duration_seconds metric).
  log_.info("desired state loaded",
            {{"environment", spec.name},
             {"revision", snapshot->revision},
             {"objects", state.desired->size()},
             {"fetchSeconds", std::round(fetch_seconds * 1000) / 1000},
             {"renderSeconds", std::round(seconds_since(render_start) * 1000) / 1000}});
}

}  // namespace plumbline
