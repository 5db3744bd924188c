// ProcessRenderer: helm and render commands as sandboxed child processes on a private copy of
// their files (plumbline/process/render_process.h).
#include "plumbline/process/render_process.h"

#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "plumbline/core/mask.h"
#include "plumbline/core/utf8.h"
#include "plumbline/process/subprocess.h"
#include "process/tree_copy.h"

namespace plumbline {
namespace {

namespace fs = std::filesystem;

// A new private folder (mode 0700), removed with everything in it when it goes.
class PrivateFolder {
 public:
  static Result<PrivateFolder> create(const fs::path& parent_in) {
    fs::path parent = parent_in;
    if (parent.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      parent = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
    }
    std::string pattern = (parent / "plumbline-render-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      return Error(ErrorCode::kInternal, "cannot create a private folder for the renderer in " +
                                             parent.string() + ": " + std::strerror(errno));
    }
    return PrivateFolder(pattern);
  }
  PrivateFolder(PrivateFolder&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  PrivateFolder& operator=(PrivateFolder&&) = delete;
  ~PrivateFolder() {
    if (path_.empty()) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  explicit PrivateFolder(fs::path path) : path_(std::move(path)) {}
  fs::path path_;
};

// Secret-looking values in a line of stderr ("DB_PASSWORD=x", "apiToken: x") masked, and URLs
// without their credentials.
std::string mask_line(std::string_view line) {
  std::vector<std::string> words;
  std::string text = redact_urls_in(line);
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = std::min(text.find(' ', start), text.size());
    words.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  auto name_of = [](std::string_view word) {
    while (!word.empty() && !std::isalnum(static_cast<unsigned char>(word.front()))) {
      word.remove_prefix(1);
    }
    return word;
  };
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    std::string& word = words[i];
    size_t eq = word.find('=');
    if (eq != std::string::npos && eq + 1 < word.size() &&
        is_secret_name(name_of(std::string_view(word).substr(0, eq)))) {
      word = word.substr(0, eq + 1) + redact(std::string_view(word).substr(eq + 1));
    } else if (word.size() > 1 && word.back() == ':' && i + 1 < words.size() &&
               !words[i + 1].empty() &&
               is_secret_name(name_of(std::string_view(word).substr(0, word.size() - 1)))) {
      words[i + 1] = redact(words[i + 1]);
      ++i;
    }
  }
  for (size_t i = 0; i < words.size(); ++i) out += (i == 0 ? "" : " ") + words[i];
  return out;
}

// The last `count` non-empty lines of stderr, masked, each at most 300 bytes.
std::string stderr_tail(const ProcessResult& result, size_t count) {
  std::vector<std::string_view> lines;
  std::string_view text = result.stderr_text;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (!line.empty()) lines.push_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  std::string out;
  for (size_t i = lines.size() > count ? lines.size() - count : 0; i < lines.size(); ++i) {
    out += (out.empty() ? "" : " | ") + mask_line(utf8_prefix(lines[i], 300));
  }
  return out;
}

std::string exit_text(const ProcessResult& result) {
  return result.signal != 0 ? "was killed by signal " + std::to_string(result.signal)
                            : "exited with status " + std::to_string(result.exit_code);
}

// HOME, XDG and helm's folders: empty folders of the private folder.
Result<std::vector<std::string>> clean_environment(const fs::path& root) {
  const std::vector<std::pair<std::string, std::string>> folders = {
      {"HOME", "home"},
      {"XDG_CONFIG_HOME", "xdg/config"},
      {"XDG_CACHE_HOME", "xdg/cache"},
      {"XDG_DATA_HOME", "xdg/data"},
      {"HELM_CONFIG_HOME", "helm/config"},
      {"HELM_CACHE_HOME", "helm/cache"},
      {"HELM_DATA_HOME", "helm/data"},
      {"HELM_PLUGINS", "helm/plugins"},
      {"TMPDIR", "tmp"}};
  std::vector<std::string> env;
  for (const auto& [name, folder] : folders) {
    std::error_code ec;
    fs::create_directories(root / folder, ec);
    if (ec) {
      return Error(ErrorCode::kInternal,
                   "cannot create the renderer's " + name + ": " + ec.message());
    }
    env.push_back(name + "=" + (root / folder).string());
  }
  env.push_back("HELM_REPOSITORY_CONFIG=" + (root / "helm/config/repositories.yaml").string());
  env.push_back("HELM_REPOSITORY_CACHE=" + (root / "helm/cache/repository").string());
  env.push_back("HELM_REGISTRY_CONFIG=" + (root / "helm/config/registry.json").string());
  // Nothing here needs the network: a request would go to a closed port on loopback.
  for (const char* proxy : {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"}) {
    env.push_back(std::string(proxy) + "=http://127.0.0.1:9");
  }
  env.push_back("NO_PROXY=");
  env.push_back("no_proxy=");
  env.push_back("LC_ALL=C");
  return env;
}

}  // namespace

Result<std::string> ProcessRenderer::run(const FileTree& tree, const ExternalRun& run) const {
  const bool helm = run.kind == ExternalRun::Kind::kHelm;
  const std::string where = helm ? run.chart_dir : run.dir;
  const std::string display =
      helm ? "helm template of " + (run.chart_dir.empty() ? std::string(".") : run.chart_dir)
           : "the render command " + (run.argv.empty() ? std::string() : run.argv.front());
  if (!helm && !options_.allow_commands) {
    return Error(ErrorCode::kPermissionDenied,
                 "render commands are not allowed here (the installer allows them with "
                 "--allow-render-commands)",
                 where);
  }
  if (!helm && run.argv.empty()) return invalid_input("no render command given", where);
  PL_ASSIGN_OR_RETURN(PrivateFolder folder, PrivateFolder::create(options_.temp_dir));
  const fs::path& root = folder.path();
  PL_ASSIGN_OR_RETURN(std::vector<std::string> env, clean_environment(root));

  ProcessSpec spec;
  spec.search_path = true;
  spec.display = display;
  spec.timeout = options_.timeout;
  if (options_.deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        *options_.deadline - std::chrono::steady_clock::now());
    spec.timeout = std::clamp(left, std::chrono::milliseconds(1), spec.timeout);
  }
  spec.max_stdout_bytes = options_.max_output_bytes;
  spec.max_memory_bytes = options_.max_memory_bytes;
  spec.max_file_bytes = options_.max_copy_bytes;
  spec.cancelled = options_.cancelled;
  if (helm) {
    std::string name =
        run.chart_dir.empty() ? "chart" : run.chart_dir.substr(run.chart_dir.rfind('/') + 1);
    fs::path chart = root / "chart" / name;
    PL_RETURN_IF_ERROR(
        copy_tree(tree, run.chart_dir, chart, options_.max_copy_bytes, options_.max_copy_files));
    spec.argv = {options_.helm, "template", run.release_name, chart.string()};
    if (!run.namespace_name.empty())
      spec.argv.insert(spec.argv.end(), {"--namespace", run.namespace_name});
    spec.argv.insert(spec.argv.end(), run.flags.begin(), run.flags.end());
    size_t bytes = 0;
    for (size_t i = 0; i < run.values.size(); ++i) {
      const ExternalRun::Values& values = run.values[i];
      std::string text = values.text;
      if (!values.tree_path.empty()) {
        PL_ASSIGN_OR_RETURN(text, tree.read_file(values.tree_path));
      }
      bytes += text.size();
      if (bytes > options_.max_copy_bytes) {
        return invalid_input("the values files are larger than " +
                                 std::to_string(options_.max_copy_bytes) + " bytes",
                             values.tree_path.empty() ? where : values.tree_path);
      }
      fs::path file = root / ("values-" + std::to_string(i) + ".yaml");
      PL_RETURN_IF_ERROR(write_new_file(
          file, text, values.tree_path.empty() ? "inline values" : values.tree_path));
      spec.argv.insert(spec.argv.end(), {"--values", file.string()});
    }
    spec.working_dir = root / "chart";
  } else {
    PL_RETURN_IF_ERROR(
        copy_tree(tree, "", root / "repo", options_.max_copy_bytes, options_.max_copy_files));
    spec.argv = run.argv;
    spec.working_dir = root / "repo" / run.dir;
    const char* path = std::getenv("PATH");
    env.push_back(std::string("PATH=") + (path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin"));
  }
  spec.env = std::move(env);
  Result<ProcessResult> done = run_process(spec);
  if (!done.ok()) {
    return std::move(done).error();  // it names the program
  }
  if (done->exit_code != 0) {
    std::string tail = stderr_tail(*done, 5);
    return invalid_input(display + " " + exit_text(*done) +
                         (tail.empty() ? std::string(" and wrote nothing to stderr")
                                       : "; its stderr ended with: " + tail));
  }
  return std::move(done->stdout_text);
}

}  // namespace plumbline
