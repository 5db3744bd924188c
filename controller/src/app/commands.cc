#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>

#include "app/cli.h"
#include "plumbline/cache/live_cache.h"
#include "plumbline/core/desired_scope.h"
#include "plumbline/core/mask.h"
#include "plumbline/core/yaml.h"
#include "plumbline/diff/compare.h"
#include "plumbline/diff/drift.h"
#include "plumbline/evaluate/environment_evaluation.h"
#include "plumbline/git/commit_signature.h"
#include "plumbline/git/git_source.h"
#include "plumbline/git/remote_bases.h"
#include "plumbline/git/repo_location.h"
#include "plumbline/kube/kube_client.h"
#include "plumbline/kube/kube_config.h"
#include "plumbline/policy/policy.h"
#include "plumbline/process/render_process.h"
#include "plumbline/render/render.h"
#include "plumbline/report/report.h"
#include "plumbline/snapshot/snapshot.h"

namespace plumbline::app {
namespace {

namespace fs = std::filesystem;

}  // namespace

Result<std::string> read_input_file(const std::string& file) {
  if (file == "-") {
    std::ostringstream buffer;
    buffer << std::cin.rdbuf();
    return buffer.str();
  }
  std::error_code ec;
  if (fs::is_directory(file, ec)) return invalid_input("is a directory, expected a file", file);
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in) return not_found("cannot open file", file);
  // Read straight into the string at its final size: a large live snapshot is not held twice
  // (a stream buffer and its copy). Pipes and special files have no size; they are streamed.
  std::string text;
  if (std::streamoff size = in.tellg(); size > 0) {
    text.resize(static_cast<size_t>(size));
    in.seekg(0);
    in.read(text.data(), size);
    text.resize(static_cast<size_t>(in.gcount()));
    in.clear();
  } else {
    in.seekg(0);
  }
  std::ostringstream rest;
  if (in.peek() != std::ifstream::traits_type::eof()) {
    rest << in.rdbuf();
    text += rest.str();
  }
  return text;
}

bool is_url(const std::string& repo) {
  return repo.find("://") != std::string::npos ||
         (repo.find('@') != std::string::npos && repo.find(':') != std::string::npos);
}

namespace {

// A local directory that is not a Git repository is read as it is on disk (a working copy
// of manifests); a local repository is read at the commit of --ref (HEAD by default).
bool is_plain_directory(const std::string& repo) {
  std::error_code ec;
  if (!fs::is_directory(repo, ec)) return false;
  bool work_tree = fs::exists(fs::path(repo) / ".git", ec);
  bool bare =
      fs::exists(fs::path(repo) / "HEAD", ec) && fs::is_directory(fs::path(repo) / "objects", ec);
  return !work_tree && !bare;
}

}  // namespace

Result<OpenedSource> open_source(const CliOptions& o, std::ostream& err) {
  if (o.repo.empty()) return invalid_input("--repo is required (a local path or a Git URL)");
  OpenedSource opened;
  opened.source.repo = redact_url(o.repo);  // the report may be posted anywhere
  opened.source.ref = o.ref;
  if (!is_url(o.repo) && is_plain_directory(o.repo)) {
    if (!o.ref.empty()) {
      return invalid_input("--ref " + o.ref + " needs a Git repository, but " + o.repo +
                           " is a plain directory");
    }
    if (!o.verify_keys_file.empty()) {
      return invalid_input("verifying signatures needs a Git repository, but " + o.repo +
                           " is a plain directory");
    }
    opened.tree = make_directory_tree(o.repo);
    opened.source.revision = "working-tree";
    return opened;
  }
  std::error_code ec;
  if (!is_url(o.repo) && !fs::exists(o.repo, ec))
    return not_found("no such repository or directory", o.repo);
  GitSourceOptions git;
  git.repo = o.repo;
  git.ref = o.ref;
  git.cache_dir = o.cache_dir;
  git.max_cache_bytes = o.git_cache_max_bytes;
  git.auth = GitAuth::from_environment();
  if (is_url(o.repo) && !o.quiet) err << "plumbline: fetching " << redact_url(o.repo) << "\n";
  auto snapshot = open_git_snapshot(git);
  if (!snapshot) return std::move(snapshot).error();
  if (!o.verify_keys_file.empty()) {
    // Nothing of an unverified commit is read (DESIGN.md "Signed commits").
    PL_ASSIGN_OR_RETURN(SignatureFormat format, parse_signature_format(o.verify_format));
    PL_ASSIGN_OR_RETURN(std::string keys, read_input_file(o.verify_keys_file));
    TrustedKeys trusted{.format = format, .keys = std::move(keys), .origin = o.verify_keys_file};
    PL_ASSIGN_OR_RETURN(Signer signer,
                        verify_commit(trusted, snapshot->revision, snapshot->signature));
    if (!o.quiet) {
      err << "plumbline: commit " << snapshot->revision << " is signed by " << signer.fingerprint
          << (signer.principal.empty() ? "" : " (" + signer.principal + ")") << "\n";
    }
  }
  opened.tree = std::move(snapshot->tree);
  opened.source.revision = snapshot->revision;
  opened.source.ref = o.ref.empty() ? snapshot->ref : o.ref;
  return opened;
}

std::string environment_name(const std::string& path) {
  std::string trimmed = path;
  while (!trimmed.empty() && trimmed.back() == '/') trimmed.pop_back();
  auto slash = trimmed.find_last_of('/');
  std::string name = slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
  return name.empty() ? "default" : name;
}

Result<std::vector<Policy>> load_policies(const CliOptions& o, const FileTree* tree) {
  std::vector<Policy> all;
  if (!o.git_policies.empty() && tree != nullptr) {
    PL_ASSIGN_OR_RETURN(all, load_policy_folder(*tree, o.git_policies));
  }
  for (const auto& file : o.policies) {
    PL_ASSIGN_OR_RETURN(std::string text, read_input_file(file));
    PL_ASSIGN_OR_RETURN(auto policies, parse_policies(text, file));
    all.insert(all.end(), std::make_move_iterator(policies.begin()),
               std::make_move_iterator(policies.end()));
  }
  return all;
}

namespace {

Result<DiffOptions> options_for(const CliOptions& o, const std::vector<Policy>& policies,
                                const std::string& environment) {
  DiffOptions options = diff_options_for(policies, environment);
  if (!o.scope.empty()) {
    options.scope.clear();
    for (const auto& name : o.scope) {
      auto category = parse_category(name);
      if (!category) {
        return invalid_input(
            "unknown category '" + name +
            "' in --scope (resources, env, selinux, seccomp, capabilities, identity, "
            "runtime, image, replicas, labels)");
      }
      options.scope.push_back(*category);
    }
  }
  return options;
}

}  // namespace

Result<ReportFormat> format_of(const CliOptions& o) {
  auto format = parse_report_format(o.format);
  if (!format)
    return invalid_input("--format must be text, json, markdown or sarif, got '" + o.format + "'");
  return *format;
}

bool use_color(const CliOptions& o) {
  if (o.color == "always") return true;
  if (o.color == "never" || !o.output.empty() || std::getenv("NO_COLOR") != nullptr) return false;
  return ::isatty(STDOUT_FILENO) != 0;
}

// Writes atomically: a reader never sees half a report.
Status write_output(const CliOptions& o, const std::string& text, std::ostream& out) {
  if (o.output.empty() || o.output == "-") {
    out << text;
    out.flush();
    return {};
  }
  std::string tmp = o.output + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    if (!file) return not_found("cannot write file", o.output);
    file << text;
    if (!file.flush()) return Error(ErrorCode::kUnavailable, "write failed", o.output);
  }
  std::error_code ec;
  fs::rename(tmp, o.output, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Error(ErrorCode::kUnavailable, "cannot write file: " + ec.message(), o.output);
  }
  return {};
}

// `--live cluster`: the live objects of the desired state's kinds, one LIST per kind and
// namespace. Desired objects without a namespace land in the context's namespace
// (default_namespaces, the controller's rule too), so they are given it here.
Result<std::vector<LiveObject>> read_cluster(const CliOptions& o, CompactManifestSet& desired,
                                             std::ostream& err) {
  PL_ASSIGN_OR_RETURN(
      KubeConfig config,
      load_kube_config({.kubeconfig = o.kubeconfig, .context = o.context}, process_environment()));
  KubeClientOptions client_options;
  client_options.timeout = std::chrono::seconds(o.timeout_seconds);
  PL_ASSIGN_OR_RETURN(std::unique_ptr<KubeClient> client, make_kube_client(config, client_options));
  const std::string reading =
      "reading the live state (context \"" + config.context + "\" in " + config.source + ")";

  LiveCacheOptions cache_options;
  cache_options.kinds.clear();
  cache_options.scope = all_categories();  // policy rules may read fields outside the diff scope
  auto kind_of = [](const ObjectRef& ref) { return WatchedKind{ref.api_version, ref.kind}; };
  std::vector<WatchedKind> namespaced;  // as discovery says
  for (const CompactManifest& m : desired) {
    WatchedKind kind = kind_of(m.ref());
    if (std::find(cache_options.kinds.begin(), cache_options.kinds.end(), kind) !=
        cache_options.kinds.end()) {
      continue;
    }
    cache_options.kinds.push_back(kind);
    Result<ApiResource> resource = client->resource_for(kind.api_version, kind.kind);
    if (!resource.ok()) return std::move(resource).error().context(reading);
    if (resource->namespaced) namespaced.push_back(kind);
  }
  auto is_namespaced = [&](const ObjectRef& ref) {
    return std::find(namespaced.begin(), namespaced.end(), kind_of(ref)) != namespaced.end();
  };
  default_namespaces(desired, config.namespace_, is_namespaced);
  std::set<std::string> namespaces;
  for (const CompactManifest& m : desired) {
    if (is_namespaced(m.ref())) namespaces.insert(m.ref().ns);
  }
  cache_options.namespaces.assign(namespaces.begin(), namespaces.end());
  if (cache_options.namespaces.empty()) cache_options.namespaces.push_back(config.namespace_);
  LiveCache cache(*client, cache_options);
  Status listed = cache.list_once();
  if (!listed.ok()) return std::move(listed).error().context(reading);
  if (!o.quiet) {
    long lists = cache.stats().lists;
    err << "plumbline: read " << cache.size() << " live object(s) of " << cache_options.kinds.size()
        << " kind(s) in " << cache_options.namespaces.size() << " namespace(s) from "
        << config.server << " (context " << config.context << ", " << lists << " LIST call"
        << (lists == 1 ? "" : "s") << ")\n";
  }
  return cache.take_projected();
}

namespace {

// `--live FILE`: kept as the LiveCache keeps objects (projected), as `--live cluster` does,
// and materialized one at a time while evaluated.
Result<std::vector<LiveObject>> read_live_file(const CliOptions& o) {
  PL_ASSIGN_OR_RETURN(std::string live_text, read_input_file(o.live));
  ThreadTaskRunner tasks = task_runner(o);
  return parse_live_snapshot_projected(live_text, o.live == "-" ? "<stdin>" : o.live,
                                       all_categories(), &tasks);
}

Result<int> run_diff(const CliOptions& o, std::ostream& out, std::ostream& err) {
  if (o.paths.size() != 1)
    return invalid_input("diff needs exactly one --path (the environment's folder)");
  if (o.live.empty()) {
    return invalid_input(
        "diff needs --live FILE (kubectl get -o yaml output) or --live cluster (a kubeconfig)");
  }
  if (o.live != "cluster" && (!o.kubeconfig.empty() || !o.context.empty())) {
    return invalid_input("--kubeconfig and --context go with --live cluster");
  }
  if (o.live == "cluster" && !o.live_kinds.empty()) {
    return invalid_input("--live-kinds goes with --live FILE (a cluster is read for every kind)");
  }
  PL_ASSIGN_OR_RETURN(ReportFormat format, format_of(o));
  // Bad --policy files fail before any fetch.
  if (auto files = load_policies(o); !files.ok()) return std::move(files).error();
  PL_ASSIGN_OR_RETURN(OpenedSource opened, open_source(o, err));
  PL_ASSIGN_OR_RETURN(auto policies_all, load_policies(o, opened.tree.get()));
  std::string environment = o.environment.empty() ? environment_name(o.paths[0]) : o.environment;
  PL_ASSIGN_OR_RETURN(Labels labels, labels_for(o, environment, {environment}));
  auto policies = policies_for(policies_all, environment, labels);
  PL_ASSIGN_OR_RETURN(DiffOptions options, options_for(o, policies, environment));

  // A live file is read and projected before the render, so that its text (as large as the
  // manifests) is freed before the desired state is built; its errors still come second.
  std::optional<Result<std::vector<LiveObject>>> live_file;
  if (o.live != "cluster") live_file = read_live_file(o);
  PL_ASSIGN_OR_RETURN(Desired desired,
                      render_path(*opened.tree, opened.source, o.paths[0], o, &err));
  // Rules on the environment as a whole read every rendered object, compared or not.
  std::vector<Violation> environment_wide = environment_violations(desired.objects, policies);
  // Either way the live objects are held projected, as the LiveCache keeps them.
  Coverage coverage;
  std::vector<LiveObject> live;
  if (o.live == "cluster") {
    PL_RETURN_IF_ERROR(check_not_empty(desired.objects.size(), o));
    PL_ASSIGN_OR_RETURN(live, read_cluster(o, desired.objects, err));
    coverage.compared = std::move(desired.objects);
  } else {
    PL_ASSIGN_OR_RETURN(live, std::move(*live_file));
    PL_ASSIGN_OR_RETURN(coverage, snapshot_coverage(std::move(desired.objects), live, o));
  }
  ThreadTaskRunner tasks = task_runner(o);
  DriftReport report =
      evaluate_environment_projected(std::move(coverage.compared), live, policies, options, &tasks);

  report.environment = environment;
  report.source = desired.source;
  report.declared_in = environment_file(*opened.tree, o.paths[0]);
  report.uncompared = std::move(coverage.uncompared);
  for (Violation& v : environment_wide) report.violations.push_back(std::move(v));
  if (!o.git_policies.empty()) {
    report.policy_source = desired.source;
    report.policy_source.path = o.git_policies;
  }
  report.warnings = std::move(desired.warnings);
  for (auto& warning : policy_warnings(policies_all, {{environment, labels}})) {
    report.warnings.push_back(std::move(warning));
  }
  for (auto& warning : unused_ignores(report.drifts, policies)) {
    report.warnings.push_back(std::move(warning));
  }

  FormatOptions format_options{.color = use_color(o), .tool_version = std::string(kToolVersion)};
  PL_RETURN_IF_ERROR(write_output(o, format_report(report, format, format_options), out));
  return exit_code(report);
}

Result<int> run_compare(const CliOptions& o, std::ostream& out, std::ostream& err) {
  if (o.paths.size() != 2)
    return invalid_input("compare needs --path twice (the two environments)");
  if (!o.environments.empty() && o.environments.size() != 2) {
    return invalid_input("--environment for compare takes two names: A,B");
  }
  PL_ASSIGN_OR_RETURN(ReportFormat format, format_of(o));
  PL_ASSIGN_OR_RETURN(auto policies_all, load_policies(o));
  std::string env_a = o.environments.empty() ? environment_name(o.paths[0]) : o.environments[0];
  std::string env_b = o.environments.empty() ? environment_name(o.paths[1]) : o.environments[1];
  if (env_a == env_b) env_b += " (b)";
  PL_ASSIGN_OR_RETURN(Labels labels_a, labels_for(o, env_a, {env_a, env_b}));
  PL_ASSIGN_OR_RETURN(Labels labels_b, labels_for(o, env_b, {env_a, env_b}));

  // Both environments' policies apply; the scope is the union.
  std::vector<Policy> for_a = policies_for(policies_all, env_a, labels_a);
  std::vector<Policy> for_b = policies_for(policies_all, env_b, labels_b);
  std::vector<Policy> policies = for_a;
  for (const auto& p : for_b) {
    bool seen = std::any_of(policies.begin(), policies.end(),
                            [&](const Policy& q) { return q.name == p.name; });
    if (!seen) policies.push_back(p);
  }
  PL_ASSIGN_OR_RETURN(DiffOptions options, options_for(o, policies, env_a));

  PL_ASSIGN_OR_RETURN(OpenedSource opened, open_source(o, err));
  PL_ASSIGN_OR_RETURN(Desired a, render_path(*opened.tree, opened.source, o.paths[0], o, &err));
  PL_ASSIGN_OR_RETURN(Desired b, render_path(*opened.tree, opened.source, o.paths[1], o, &err));

  PL_RETURN_IF_ERROR(check_not_empty(a.objects.size() + b.objects.size(), o));
  ManifestSet objects_a = materialize(a.objects), objects_b = materialize(b.objects);
  EnvironmentComparison comparison = compare_environments(objects_a, objects_b, options);
  comparison.env_a = env_a;
  comparison.env_b = env_b;
  comparison.source_a = a.source;
  comparison.source_b = b.source;
  comparison.objects_a = a.objects.size();
  comparison.objects_b = b.objects.size();
  apply_policies(comparison, for_a, for_b, objects_a, objects_b);
  comparison.warnings = std::move(a.warnings);
  for (auto& warning : b.warnings) comparison.warnings.push_back(std::move(warning));
  for (auto& warning : policy_warnings(policies_all, {{env_a, labels_a}, {env_b, labels_b}})) {
    comparison.warnings.push_back(std::move(warning));
  }

  FormatOptions format_options{.color = use_color(o), .tool_version = std::string(kToolVersion)};
  PL_RETURN_IF_ERROR(write_output(o, format_comparison(comparison, format, format_options), out));
  return exit_code(comparison);
}

Result<int> run_render(const CliOptions& o, std::ostream& out, std::ostream& err) {
  if (o.paths.size() != 1) return invalid_input("render needs exactly one --path");
  PL_ASSIGN_OR_RETURN(OpenedSource opened, open_source(o, err));
  PL_ASSIGN_OR_RETURN(Desired desired,
                      render_path(*opened.tree, opened.source, o.paths[0], o, &err));
  if (!o.quiet) {
    for (const auto& warning : desired.warnings) err << "plumbline: warning: " << warning << "\n";
  }
  // One object at a time (decoded, masked, written as YAML), in slices side by side: the set
  // is never held as trees. The text is to_yaml_stream's.
  const CompactManifestSet& objects = desired.objects;
  ThreadTaskRunner tasks = task_runner(o);
  std::mutex mu;
  std::map<size_t, std::string> texts;  // by the slice's first object
  run_in_slices(
      &tasks, objects.size(),
      [&](size_t begin, size_t end) {
        std::string text;
        for (size_t i = begin; i < end; ++i) {
          if (i > 0) text += "---\n";
          text += to_yaml(mask_object(objects[i].object()));
        }
        std::lock_guard lock(mu);
        texts[begin] = std::move(text);
      },
      /*min_count=*/1);
  std::string text;
  for (auto& [begin, t] : texts) {
    text += t;
    t = std::string();
  }
  PL_RETURN_IF_ERROR(write_output(o, text, out));
  return 0;
}

}  // namespace

ExitCode run(const CliOptions& o, std::ostream& out, std::ostream& err) {
  if (o.command == "help") {
    static const std::set<std::string> kTopics = {
        "", "diff", "compare", "check", "render", "pr-comment", "version", "controller", "help"};
    if (!kTopics.count(o.help_topic)) {
      err << "plumbline: error: no help for '" << o.help_topic
          << "' (commands: diff, compare, check, render, pr-comment, controller, version)\n";
      return ExitCode::kError;
    }
    out << usage(o.help_topic);
    return ExitCode::kConsistent;
  }
  if (o.command == "version") {
    out << "plumbline " << kToolVersion << "\n";
    return ExitCode::kConsistent;
  }
  Result<int> result = o.command == "diff"         ? run_diff(o, out, err)
                       : o.command == "compare"    ? run_compare(o, out, err)
                       : o.command == "check"      ? run_check(o, out, err)
                       : o.command == "controller" ? run_controller(o, err)
                       : o.command == "pr-comment" ? run_pr_comment(o, out, err)
                                                   : run_render(o, out, err);
  if (!result) {
    // Errors carry server and libgit2 messages: any URL in them is shown without credentials.
    err << "plumbline: error: " << redact_urls_in(result.error().to_string()) << "\n";
    return ExitCode::kError;
  }
  return *result == 0 ? ExitCode::kConsistent : ExitCode::kDrift;
}

int main_entry(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  auto options = parse_args(args);
  if (!options) {
    err << "plumbline: error: " << redact_urls_in(options.error().to_string()) << "\n";
    return static_cast<int>(ExitCode::kError);
  }
  return static_cast<int>(run(*options, out, err));
}

}  // namespace plumbline::app
