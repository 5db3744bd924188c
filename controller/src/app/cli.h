// app/cli.h — the `plumbline` command line: parsing and the commands.
//
// Thin layer over the library: parse flags into a CliOptions, run the pipeline, print the
// report, and map the outcome to the exit status (0 consistent, 1 drift/violations, 2 error).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plumbline/cache/live_store.h"
#include "plumbline/core/compact_manifest.h"
#include "plumbline/core/error.h"
#include "plumbline/core/file_tree.h"
#include "plumbline/core/findings.h"
#include "plumbline/policy/policy.h"
#include "plumbline/process/thread_task_runner.h"
#include "plumbline/render/render.h"
#include "plumbline/report/report.h"

namespace plumbline::app {

enum class ExitCode { kConsistent = 0, kDrift = 1, kError = 2 };

inline constexpr std::string_view kVersion = "0.1.0";

struct CliOptions {
  std::string command;  // diff | compare | check | render | controller | version | help
  std::string help_topic;
  std::string repo;
  std::string ref;
  std::vector<std::string> paths;
  std::string render_mode = "auto";
  // --render helm (and kustomize helmCharts): the helm program, values files (repository
  // paths), release name and namespace.
  std::string helm = "helm";
  std::vector<std::string> helm_values;
  std::string helm_release;
  std::string helm_namespace;
  // --render command: the program and its arguments (everything after `--`).
  std::vector<std::string> render_command;
  bool allow_render_commands = false;  // controller: Environments may use render type command
  std::string live;                    // a snapshot file, '-', or "cluster"
  std::string kubeconfig;  // --live cluster: kubeconfig file (default $KUBECONFIG, ~/.kube/config)
  std::string context;     // --live cluster: kubeconfig context (default current-context)
  int timeout_seconds = 30;  // --live cluster: deadline of each API call
  std::vector<std::string> policies;
  std::string git_policies;  // check/diff: a policy folder in --repo, read at the same revision
  // --environment-label k=v: labels of every environment the command reads, which select
  // environmentSelector policies; --environment-label ENV:k=v: of the environment ENV only.
  Labels environment_labels;
  std::map<std::string, Labels> labels_of_environment;
  std::vector<std::string> scope;
  std::string format = "text";
  std::string output;
  std::string environment;  // diff: the environment's name (default: last path component)
  std::vector<std::string> environments;  // compare: names for the two paths
  std::string cache_dir;
  // --verify-ssh-allowed-signers / --verify-openpgp-keys FILE: the commit read must be signed
  // by one of these keys (DESIGN.md "Signed commits"); format "ssh" | "openpgp".
  std::string verify_format;
  std::string verify_keys_file;
  std::uint64_t git_cache_max_bytes = std::uint64_t{512} << 20;  // per repository
  // controller
  std::string report_namespace;  // default: the pod's namespace, else plumbline-system
  std::string listen = ":8080";
  // Git webhooks (POST /webhooks/git) on their own port, served only when a secret is given:
  // from a file (a mounted Secret) or from an environment variable.
  std::string webhook_listen = ":8081";
  std::string webhook_secret_file;
  std::string webhook_secret_env;
  std::string log_level = "info";
  bool dry_run = false;
  bool leader_elect = false;  // take a coordination.k8s.io Lease; only the leader writes
  std::vector<std::string> enforce_namespaces;  // where enforce mode may write (empty: any)
  bool enforce_allowed = true;                  // --no-enforce: every Environment only reports
  bool allow_system_namespaces = false;
  bool allow_local_sources = false;
  std::string default_service_account;  // enforce writes as it for Environments naming none
  bool allow_http_git_credentials = false;
  int workers = 4;
  int jobs = 0;  // threads a render parses on; 0: default_task_concurrency()
  // Every render's bounds (--max-render-bytes, -files, -objects; out_of_time unset here).
  RenderLimits render_limits;
  int git_timeout_seconds = 120;
  int render_timeout_seconds = 60;
  int watch_idle_timeout_seconds = 150;
  std::string color = "auto";  // auto | always | never
  bool quiet = false;
  std::vector<std::string> live_kinds;  // diff --live FILE: the kinds the snapshot covers
  bool allow_empty = false;             // accept comparing nothing / uncovered kinds
  // pr-comment
  std::string base;        // the PR's base revision
  std::string head;        // the PR's head revision
  std::string provider;    // github | gitlab | gitea
  std::string repository;  // OWNER/NAME or a GitLab project id
  long pr = 0;
  std::string api_url;
  std::string token_env;  // default GITHUB_TOKEN / GITLAB_TOKEN / GITEA_TOKEN
};

// The sources the commands share (app/commands.cc).
struct Desired {               // the desired state of one environment and where it came from
  CompactManifestSet objects;  // as the controller holds it: materialize() for whole trees
  ReportSource source;
  std::vector<std::string> warnings;  // of the render (an unpinned remote base), for the report
};
struct OpenedSource {
  FileTreePtr tree;
  ReportSource source;
};
// A file's content ('-': standard input).
Result<std::string> read_input_file(const std::string& file);
// A repository URL or scp-like address (git@host:org/repo), not a local path.
bool is_url(const std::string& repo);
// --repo at --ref (a plain directory as it is on disk); the source's URL without credentials.
Result<OpenedSource> open_source(const CliOptions& options, std::ostream& err);
// The threads a command (or the controller) parses and compares on: --jobs, else
// default_task_concurrency().
ThreadTaskRunner task_runner(const CliOptions& options);
// Renders `path` as --render and the helm and command flags say (helm and commands as
// sandboxed child processes with --render-timeout); kustomize remote bases are fetched like
// --repo (its cache and credentials), each announced on `err` unless --quiet.
Result<Desired> render_path(const FileTree& tree, const ReportSource& base, const std::string& path,
                            const CliOptions& options, std::ostream* err = nullptr);
// The environment's default name: the last component of its path.
std::string environment_name(const std::string& path);
// --policy files, then (first in the list) --git-policies read from `tree`.
Result<std::vector<Policy>> load_policies(const CliOptions& options,
                                          const FileTree* tree = nullptr);
// The report to --output (atomically) or `out`.
Status write_output(const CliOptions& options, const std::string& text, std::ostream& out);
// --live cluster: the live objects of the desired kinds, projected as the LiveCache keeps them
// (every category in scope); gives namespace-less desired objects the context's namespace.
Result<std::vector<LiveObject>> read_cluster(const CliOptions& options, CompactManifestSet& desired,
                                             std::ostream& err);

// `plumbline pr-comment` (app/pr_comment_command.cc).
Result<int> run_pr_comment(const CliOptions& options, std::ostream& out, std::ostream& err);

// What a live snapshot covers (app/coverage.cc): the desired objects it is compared with and
// the ones it leaves out. Errors (exit 2) when it leaves out kinds the user did not name with
// --live-kinds, or compares nothing, unless --allow-empty.
struct Coverage {
  CompactManifestSet compared;
  std::vector<Uncompared> uncompared;
};
Result<Coverage> snapshot_coverage(CompactManifestSet desired, const std::vector<json>& live,
                                   const CliOptions& options);
Result<Coverage> snapshot_coverage(CompactManifestSet desired, const std::vector<LiveObject>& live,
                                   const CliOptions& options);
// "nothing to compare" unless --allow-empty.
Status check_not_empty(size_t compared, const CliOptions& options);
// The environment's kustomization file, else its folder: where findings without a location
// of their own point (SARIF).
SourceLocation environment_file(const FileTree& tree, const std::string& path);
// The labels of `environment`, one of the command's `environments`: the unprefixed
// --environment-label values and those prefixed with its name. A prefix that names none of
// `environments` is an error (a typo would silently select other policies).
Result<Labels> labels_for(const CliOptions& o, const std::string& environment,
                          const std::vector<std::string>& environments);
// A warning for each policy that selects none of `environments` (by spec.environments, or
// by spec.environmentSelector against each environment's labels).
std::vector<std::string> policy_warnings(const std::vector<Policy>& all,
                                         const std::map<std::string, Labels>& environments);

// Shared by the commands (commands.cc).
inline constexpr std::string_view kToolVersion = "0.1.0";

Result<ReportFormat> format_of(const CliOptions& o);
bool use_color(const CliOptions& o);

// `plumbline check` (check_command.cc): the desired state against its policies, no cluster.
Result<int> run_check(const CliOptions& o, std::ostream& out, std::ostream& err);

// Parses argv (without argv[0]). Errors name the flag.
Result<CliOptions> parse_args(const std::vector<std::string>& args);

// Usage text: the overview, or one command's help.
std::string usage(const std::string& topic);

// Runs a parsed command; writes reports to `out` (or --output), messages to `err`.
ExitCode run(const CliOptions& options, std::ostream& out, std::ostream& err);

// `plumbline controller`: runs until SIGTERM/SIGINT (blocked in every thread, taken by
// sigwait: no handler, no global state). Exit 0 after a clean stop, 2 when it cannot start.
Result<int> run_controller(const CliOptions& options, std::ostream& err);

// The whole program: parse + run, errors printed as "plumbline: error: …".
int main_entry(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace plumbline::app
