// The `helm` and `command` renderers: what to run (an ExternalRun), handed to the caller's
// ExternalRenderer, and its stdout read back with the loader of plain files.
#include "render/helm.h"

#include "render/budget.h"
#include "render/kustomize.h"

namespace plumbline::renderer {
namespace {

// The tree file a `# Source: <chart name>/templates/x.yaml` comment names: the chart's own
// name is replaced by its folder. A path that leaves the chart or does not exist (a subchart
// packed as a .tgz) gives the chart folder.
std::string template_file(const FileTree& tree, const std::string& chart_dir,
                          std::string_view source) {
  size_t slash = source.find('/');
  if (slash == std::string_view::npos) return chart_dir;
  auto joined = join_tree_path(chart_dir, source.substr(slash + 1));
  if (!joined.ok() || (!chart_dir.empty() && !joined->starts_with(chart_dir + "/"))) {
    return chart_dir;
  }
  auto type = tree.stat(*joined);
  return type.ok() && *type == EntryType::kFile ? *joined : chart_dir;
}

// Lines "# Source: x" (1-based line numbers), as helm writes them before each document.
std::vector<std::pair<int, std::string>> source_comments(std::string_view text) {
  constexpr std::string_view kPrefix = "# Source: ";
  std::vector<std::pair<int, std::string>> out;
  int line = 1;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view row = text.substr(start, end - start);
    if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
    if (row.starts_with(kPrefix)) out.emplace_back(line, std::string(row.substr(kPrefix.size())));
    start = end + 1;
    ++line;
  }
  return out;
}

}  // namespace

std::string last_component(const std::string& dir) {
  size_t slash = dir.find_last_of('/');
  return slash == std::string::npos ? dir : dir.substr(slash + 1);
}

Result<bool> has_chart(const FileTree& tree, const std::string& dir) {
  auto type = tree.stat(dir.empty() ? "Chart.yaml" : dir + "/Chart.yaml");
  if (type.ok()) return *type == EntryType::kFile;
  if (type.error().code() == ErrorCode::kNotFound) return false;
  return std::move(type).error();
}

Result<ManifestSet> read_rendered_stream(const FileTree& tree, std::string_view text,
                                         const std::string& display, const std::string& chart_dir,
                                         const std::string& origin_dir) {
  ManifestSet out;
  PL_RETURN_IF_ERROR(append_documents(text, display, out));
  // A document's location is its root node; its `# Source:` comment comes after the root of
  // the document before it.
  std::vector<std::pair<int, std::string>> sources =
      chart_dir.empty() && origin_dir.empty() ? decltype(sources){} : source_comments(text);
  size_t next = 0;
  int previous = 0;
  std::string origin = chart_dir.empty() ? origin_dir : chart_dir;
  for (Manifest& manifest : out) {
    int at = manifest.origin.line;
    if (!chart_dir.empty() && at != previous) {
      origin = chart_dir;
      while (next < sources.size() && sources[next].first < at) {
        if (sources[next].first > previous) {
          origin = template_file(tree, chart_dir, sources[next].second);
        }
        ++next;
      }
      previous = at;
    }
    manifest.origin = SourceLocation{origin, 0, 0};
    manifest.fields = nullptr;  // lines of the output stream mean nothing in the repository
  }
  return out;
}

Result<ManifestSet> run_helm(const FileTree& tree, const ExternalRun& run,
                             const ExternalRenderer* external) {
  const std::string display =
      "helm template of " + (run.chart_dir.empty() ? std::string(".") : run.chart_dir);
  if (external == nullptr) {
    return invalid_input("rendering the Helm chart needs helm, and this caller runs no programs",
                         run.chart_dir);
  }
  PL_ASSIGN_OR_RETURN(std::string text, external->run(tree, run));
  PL_ASSIGN_OR_RETURN(ManifestSet objects,
                      read_rendered_stream(tree, text, display, run.chart_dir, ""));
  PL_ASSIGN_OR_RETURN(std::vector<ValuesLeaf> leaves, values_leaves(tree, run));
  for (Manifest& manifest : objects) manifest.fields = values_origins(manifest.object, leaves);
  return objects;
}

}  // namespace plumbline::renderer

namespace plumbline {

Result<ManifestSet> render_helm(const FileTree& files, std::string_view path,
                                const RenderOptions& options) {
  renderer::BudgetedTree tree(files, options.limits);
  PL_ASSIGN_OR_RETURN(std::string dir, join_tree_path("", path));
  PL_ASSIGN_OR_RETURN(bool chart, renderer::has_chart(tree, dir));
  if (!chart) return not_found("no Chart.yaml in '" + dir + "'", dir);
  ExternalRun run;
  run.kind = ExternalRun::Kind::kHelm;
  run.chart_dir = dir;
  run.release_name = options.helm.release_name;
  if (run.release_name.empty())
    run.release_name = dir.empty() ? "release-name" : renderer::last_component(dir);
  run.namespace_name = options.helm.namespace_name;
  for (const std::string& file : options.helm.values_files) {
    auto joined = join_tree_path("", file);
    if (!joined.ok()) {
      return Error(joined.error().code(), "values file '" + file + "' leaves the repository");
    }
    auto type = tree.stat(*joined);
    if (!type.ok() || *type != EntryType::kFile) {
      return not_found("no values file '" + file + "' in the repository", *joined);
    }
    run.values.push_back({*joined, ""});
  }
  if (!options.helm.values.is_null()) {
    if (!options.helm.values.is_object()) return invalid_input("helm values must be a mapping");
    if (!options.helm.values.empty()) run.values.push_back({"", options.helm.values.dump()});
  }
  // What `helm install` creates and keeps: the chart's CRDs too, its hooks and tests not.
  run.flags = {"--include-crds", "--no-hooks"};
  PL_ASSIGN_OR_RETURN(ManifestSet objects, renderer::run_helm(tree, run, options.external));
  PL_RETURN_IF_ERROR(renderer::check_rendered(objects, options.limits));
  return objects;
}

Result<ManifestSet> render_command(const FileTree& files, std::string_view path,
                                   const RenderOptions& options) {
  renderer::BudgetedTree tree(files, options.limits);
  if (options.command.empty() || options.command.front().empty()) {
    return invalid_input("render type command needs a command to run");
  }
  PL_ASSIGN_OR_RETURN(std::string dir, join_tree_path("", path));
  PL_ASSIGN_OR_RETURN(EntryType type, tree.stat(dir));
  if (type != EntryType::kDirectory) {
    return invalid_input("render type command runs in a folder; '" + dir + "' is a file", dir);
  }
  if (options.external == nullptr) {
    return invalid_input("render type command runs a program, and this caller runs none", dir);
  }
  ExternalRun run;
  run.kind = ExternalRun::Kind::kCommand;
  run.argv = options.command;
  run.dir = dir;
  PL_ASSIGN_OR_RETURN(std::string text, options.external->run(tree, run));
  PL_ASSIGN_OR_RETURN(ManifestSet objects,
                      renderer::read_rendered_stream(tree, text, "the output of " + run.argv[0], "",
                                                     dir.empty() ? "." : dir));
  PL_RETURN_IF_ERROR(renderer::check_rendered(objects, options.limits));
  return objects;
}

}  // namespace plumbline
