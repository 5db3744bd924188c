// plumbline/process/render_process.h — the ExternalRenderer of the binaries: helm and render
// commands run as child processes (plumbline/process/subprocess.h) on a private copy of the files
// they need.
//
// Each run: the files (a chart folder and its values files; for a command the whole tree) are
// copied out of the FileTree (it may be a Git commit in memory) into a new private temporary
// folder, bounded in bytes and files and holding regular files only (no symlink is created,
// so nothing can point outside it); the program runs there with an argument vector (no
// shell), a clean environment whose HOME, XDG and HELM_* folders are empty folders of that
// temporary folder (no user repositories, plugins or credentials), HTTP(S) proxies pointed at
// a closed loopback port (helm template with a local chart needs no network), the timeout,
// a stdout cap and a memory limit (RLIMIT_AS); the folder is removed afterwards. A failure
// names the program and says why: its exit status and the last lines of its stderr (URLs
// and secret-looking values masked), the timeout, or the output cap. Nothing of a failed run
// is returned.
//
//   ProcessRendererOptions o{.helm = "helm", .timeout = std::chrono::seconds(60)};
//   ProcessRenderer runner(o);
//   render(tree, "charts/web", {.mode = RenderMode::kHelm, .external = &runner});
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "plumbline/render/render.h"

namespace plumbline {

struct ProcessRendererOptions {
  std::string helm = "helm";  // a path, or a name looked up on PATH
  // Render commands (render type command) run only when allowed: the CLI allows them (its
  // user chose the command), the controller only with --allow-render-commands.
  bool allow_commands = false;
  std::chrono::milliseconds timeout{60000};  // of each run
  // Optional: no run goes past it (a kustomization with several charts shares one deadline).
  std::optional<std::chrono::steady_clock::time_point> deadline;
  size_t max_output_bytes = size_t{64} << 20;  // stdout
  size_t max_memory_bytes = size_t{4} << 30;   // RLIMIT_AS (Go reserves address space early)
  size_t max_copy_bytes = size_t{64} << 20;    // what is copied out of the tree
  size_t max_copy_files = 20'000;
  std::filesystem::path temp_dir;  // where the private folders go; empty: TMPDIR or /tmp
  std::function<bool()> cancelled;
};

class ProcessRenderer : public ExternalRenderer {
 public:
  explicit ProcessRenderer(ProcessRendererOptions options) : options_(std::move(options)) {}
  Result<std::string> run(const FileTree& tree, const ExternalRun& run) const override;

 private:
  ProcessRendererOptions options_;
};

// Copies the folder `dir` of `tree` (recursively; "" the whole tree) to `target`, creating
// it: regular files only, each directory read once (by its real path), at most `max_bytes`
// and `max_files`, names that are plain path components. Errors name the tree path.
Status copy_tree(const FileTree& tree, const std::string& dir, const std::filesystem::path& target,
                 size_t max_bytes, size_t max_files);

}  // namespace plumbline
