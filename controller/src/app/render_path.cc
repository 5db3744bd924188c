// render_path: one environment rendered for a CLI command, with its kustomize remote bases and,
// with --cache-dir, the parses of earlier runs.
#include <filesystem>
#include <optional>
#include <ostream>

#include "app/cli.h"
#include "plumbline/core/digest.h"
#include "plumbline/git/git_source.h"
#include "plumbline/git/remote_bases.h"
#include "plumbline/git/repo_location.h"
#include "plumbline/process/render_process.h"
#include "plumbline/render/parse_cache.h"
#include "plumbline/render/render.h"

namespace plumbline::app {
namespace {

namespace fs = std::filesystem;

// Remote bases are fetched as --repo is: its cache, limits and credentials, which go only to
// PLUMBLINE_GIT_HOST, else to --repo's host (none when --repo is local).
RemoteBaseSourceOptions remote_base_options(const CliOptions& o, std::ostream* err) {
  RemoteBaseSourceOptions remote;
  remote.defaults.cache_dir = o.cache_dir;
  remote.defaults.max_cache_bytes = o.git_cache_max_bytes;
  remote.defaults.timeout = std::chrono::seconds(o.git_timeout_seconds);
  remote.defaults.auth = GitAuth::from_environment();
  if (is_url(o.repo)) {
    if (auto location = git::classify_repo(o.repo); location.ok()) {
      remote.credentials_host = location->host;
    }
  }
  if (err != nullptr && !o.quiet) {
    remote.on_fetch = [err](const std::string& repo) {
      *err << "plumbline: fetching remote base " << repo << "\n";
    };
  }
  return remote;
}

// With --cache-dir, the parses of this environment's Git files are kept there between runs
// (render/parse_cache.h), one file per repository, path and render mode; a later run parses
// only the files whose content changed. Without it, nothing is written.
std::optional<FileParseCache> open_parse_cache(const CliOptions& o, const std::string& path) {
  if (o.cache_dir.empty()) return std::nullopt;
  std::error_code ec;
  std::string repo = is_url(o.repo) ? o.repo : fs::absolute(o.repo, ec).lexically_normal().string();
  std::string key = repo;
  key.append(1, '\0').append(path).append(1, '\0').append(o.render_mode);
  fs::path file = fs::path(o.cache_dir) / "parses" / (sha256_hex(key, 32) + ".bin");
  return FileParseCache(
      file, "plumbline " + std::string(kToolVersion),
      {.max_entries = o.render_limits.max_files, .max_bytes = o.render_limits.max_bytes});
}

}  // namespace

ThreadTaskRunner task_runner(const CliOptions& o) {
  return ThreadTaskRunner(o.jobs > 0 ? static_cast<size_t>(o.jobs) : default_task_concurrency());
}

Result<Desired> render_path(const FileTree& tree, const ReportSource& base, const std::string& path,
                            const CliOptions& o, std::ostream* err) {
  auto mode = parse_render_mode(o.render_mode);
  if (!mode) {
    return invalid_input("--render must be auto, plain, kustomize, helm or command, got '" +
                         o.render_mode + "'");
  }
  if ((*mode == RenderMode::kCommand) != !o.render_command.empty()) {
    return invalid_input(o.render_command.empty()
                             ? "--render command needs the command after --, e.g. "
                               "--render command -- kustomize build ."
                             : "a render command (after --) needs --render command");
  }
  Desired desired;
  desired.source = base;
  desired.source.path = path;
  // The CLI's user chose the command: it may run (the controller asks its installer).
  ProcessRenderer runner({.helm = o.helm,
                          .allow_commands = true,
                          .timeout = std::chrono::seconds(o.render_timeout_seconds)});
  RenderOptions options{.mode = *mode,
                        .limits = o.render_limits,
                        .helm = {.release_name = o.helm_release,
                                 .namespace_name = o.helm_namespace,
                                 .values_files = o.helm_values},
                        .command = o.render_command,
                        .external = &runner};
  std::unique_ptr<GitSource> git = make_git_source();
  GitRemoteBases remote_bases(*git, remote_base_options(o, err));
  options.remote_bases = &remote_bases;
  options.warnings = &desired.warnings;
  ThreadTaskRunner tasks = task_runner(o);
  options.tasks = &tasks;
  std::optional<FileParseCache> parses = open_parse_cache(o, path);
  if (parses) options.parse_cache = &*parses;
  auto objects = render_compact(tree, path, options);
  if (!objects) {
    Error error = std::move(objects).error();
    return error.context("rendering " + path + " (" + tree.describe() + ")");
  }
  desired.objects = std::move(*objects);
  if (parses) {
    // A cache that cannot be read or written costs a parse, never the command.
    Status saved = parses->save(&tasks);
    if (err != nullptr && !o.quiet) {
      if (!parses->load_problem().empty()) {
        *err << "plumbline: parse cache set aside (" << parses->load_problem() << ")\n";
      }
      if (parses->hits() > 0) {
        *err << "plumbline: " << parses->hits() << " of " << parses->hits() + parses->misses()
             << " files of " << path << " reused from the parse cache\n";
      }
      if (!saved.ok())
        *err << "plumbline: parse cache not saved: " << saved.error().to_string() << "\n";
    }
  }
  return desired;
}

}  // namespace plumbline::app
