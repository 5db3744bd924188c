// plumbline/reconcile/environment.h — the Environment custom resource (plumbline.dev/v1alpha1).
//
// The controller reads Environments from the cluster; the apiserver already validated them
// against the CRD's schema, but plumbline checks again (a CRD may be older than the binary,
// and `kubectl apply --validate=false` exists): a bad field is an error naming it.
//
//   PL_ASSIGN_OR_RETURN(EnvironmentSpec env, parse_environment(object));
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "plumbline/core/error.h"
#include "plumbline/core/label_selector.h"
#include "plumbline/core/object.h"
#include "plumbline/git/commit_signature.h"
#include "plumbline/git/git_source.h"
#include "plumbline/render/render.h"

namespace plumbline {

enum class EnvironmentMode { kReport, kEnforce };

struct EnvironmentSpec {
  std::string name;
  long generation = 0;
  // metadata.labels: the environment's type (plumbline.dev/env-type: prod), which
  // ConsistencyPolicy spec.environmentSelector matches.
  Labels labels;
  struct Source {
    std::string url;
    std::string ref;   // "" = the remote HEAD
    std::string path;  // the environment's folder in the repo
    std::string
        secret_name;  // spec.source.secretRef.name: Git credentials, in the controller's namespace
    // spec.source.verify: the commit must be signed by a key of the Secret keysSecretRef names
    // (ssh: its data key allowed_signers; openpgp: every data key, public keys). Unset: no check.
    std::optional<SignatureFormat> verify;
    std::string verify_secret;
  } source;
  // spec.serviceAccountName: enforce mode writes to the workloads as this ServiceAccount of
  // the controller's namespace (impersonation), if it names this Environment in its
  // plumbline.dev/allowed-environments annotation. "": the installer's default, if any.
  std::string service_account;
  std::string render = "auto";  // spec.render.type: auto | plain | kustomize | helm | command
  // spec.render for helm: valuesFiles (repository paths), values, releaseName (default: the
  // Environment's name) and namespace (default: the first of spec.namespaces).
  HelmOptions helm;
  std::vector<std::string> render_command;      // spec.render.command (type command)
  std::chrono::milliseconds render_timeout{0};  // spec.render.timeout; 0: the controller's
  std::vector<std::string> namespaces;
  std::chrono::milliseconds interval{60000};
  // spec.policies.path: a folder of ConsistencyPolicy files in the same repository, read at
  // the same revision as the manifests (a Git-bound policy set; DESIGN.md "Policy precedence").
  std::string policies_path;
  // spec.validationInterval: a full re-evaluation at least this often, events or not.
  std::chrono::milliseconds validation_interval{std::chrono::hours(1)};
  EnvironmentMode mode = EnvironmentMode::kReport;
  // spec.suspend: no fetch, no report, no correction until it is false again.
  bool suspend = false;
  // The annotation plumbline.dev/reconcile-requested-at: a new value fetches Git at once
  // (like Flux's reconcile.fluxcd.io/requestedAt); handled values go to
  // status.lastHandledReconcileAt.
  std::string reconcile_requested;
  struct Correction {
    int max_per_minute = 10;  // corrections budget of the environment
    int max_rounds = 3;       // rounds against another manager before a field is contested
  } correction;
};

inline constexpr std::string_view kReconcileRequestAnnotation =
    "plumbline.dev/reconcile-requested-at";

// On a Git credential Secret or a ServiceAccount in the controller's namespace: the
// Environments allowed to use it, comma-separated ("prod, staging"). Whoever can annotate
// objects there (the installer) decides; an Environment naming an object that does not list
// it is refused. DESIGN.md "Tenancy".
inline constexpr std::string_view kAllowedEnvironmentsAnnotation =
    "plumbline.dev/allowed-environments";

// Whether `object` (a Secret or a ServiceAccount as JSON) lists `environment` in its
// plumbline.dev/allowed-environments annotation.
bool allows_environment(const json& object, std::string_view environment);

// `min_validation_interval`: the shortest spec.validationInterval accepted (1m; a full
// re-evaluation costs CPU on every object of the environment). Tests shorten it.
Result<EnvironmentSpec> parse_environment(
    const json& object,
    std::chrono::milliseconds min_validation_interval = std::chrono::minutes(1));

// Git credentials from the Secret an Environment's spec.source.secretRef names (a v1 Secret as
// JSON, its `data` base64). Keys, as Flux's GitRepository reads them:
//   username + password      HTTPS basic auth
//   token                    HTTPS token (user "x-access-token" unless `username` is set)
//   identity                 SSH private key (PEM); identity.pub optional; passphrase optional
//   known_hosts              SSH host keys (else `defaults.known_hosts_file`)
// Only the Secret's credentials are used (never the process's), so one environment cannot
// borrow another's access. A Secret with none of them, or a half pair, is an error naming it.
// Whether the Secret spec.source.secretRef names may serve `environment`: it must list it in
// plumbline.dev/allowed-environments, and never be a kubernetes.io/service-account-token
// (an API token is no Git credential, and reading it would lend the ServiceAccount's rights).
// The error names the Secret and the rule, never a value.
// `what` names what the Secret is read for, in the message ("Git credentials", "a
// pull-request token"). The controller's Git credentials and spec.pullRequests' token both go
// through this one check.
Status secret_usable_by(const json& secret, std::string_view environment,
                        std::string_view what = "Git credentials");

// A Secret's `data`, base64-decoded; an error naming the Secret and the key, never a value.
Result<std::map<std::string, std::string>> secret_data(const json& secret);

Result<GitAuth> git_auth_from_secret(const json& secret, const GitAuth& defaults);

// The trusted keys of the Secret spec.source.verify.keysSecretRef names: for ssh its data key
// allowed_signers, for openpgp every data key's value (public keys), in key order. A Secret
// without them is an error naming it, never a value.
Result<TrustedKeys> trusted_keys_from_secret(const json& secret, SignatureFormat format);

// "90s", "1m", "1h30m", "250ms" (Go's time.ParseDuration subset: ms, s, m, h; decimals).
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace plumbline
