// Conformance: every case under tests/fixtures/kustomize/<case>/overlay renders natively to
// what `kubectl kustomize` produces (live when kubectl is on PATH) and to the checked-in
// expected.yaml; a case may hold more overlays (overlay-prod -> expected-prod.yaml), e.g. two
// overlays sharing a component. Error cases under kustomize-errors/ must fail with the exact
// message in expected-error.txt; where kustomize-error.txt exists, `kubectl kustomize` must
// fail too, with that text in its message.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "plumbline/core/yaml.h"
#include "plumbline/render/render.h"

extern char** environ;

namespace plumbline {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> cases(const char* group) {
  std::vector<std::string> out;
  fs::path root = fs::path(PLUMBLINE_FIXTURES_DIR) / group;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (entry.is_directory()) out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// "<case>/overlay", "<case>/overlay-prod", ...: every overlay of every conformance case.
std::vector<std::string> overlays() {
  std::vector<std::string> out;
  for (const auto& name : cases("kustomize")) {
    std::error_code ec;
    for (const auto& entry :
         fs::directory_iterator(fs::path(PLUMBLINE_FIXTURES_DIR) / "kustomize" / name, ec)) {
      std::string dir = entry.path().filename().string();
      if (entry.is_directory() && dir.rfind("overlay", 0) == 0) out.push_back(name + "/" + dir);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// overlay -> expected.yaml, overlay-prod -> expected-prod.yaml.
fs::path expected_file(const std::string& overlay) {
  fs::path path = fs::path(PLUMBLINE_FIXTURES_DIR) / "kustomize" / overlay;
  std::string dir = path.filename().string();
  return path.parent_path() / ("expected" + dir.substr(std::string("overlay").size()) + ".yaml");
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

bool kubectl_on_path() {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && access((fs::path(dir) / "kubectl").c_str(), X_OK) == 0) return true;
  }
  return false;
}

// Runs kubectl without a shell (argv only), so a fixture path can never be interpreted.
// `out` gets stdout, or stderr with `want_stderr`.
bool run_kubectl_kustomize(const std::string& dir, std::string& out, bool want_stderr = false) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return false;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1],
                                   want_stderr ? STDERR_FILENO : STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  std::vector<std::string> args = {"kubectl", "kustomize", dir};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "kubectl", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (rc != 0) {
    close(pipe_fds[0]);
    return false;
  }
  char buffer[4096];
  ssize_t n;
  while ((n = read(pipe_fds[0], buffer, sizeof buffer)) > 0)
    out.append(buffer, static_cast<size_t>(n));
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::vector<json> documents(const std::string& text, const std::string& name) {
  std::vector<json> out;
  auto parsed = parse_yaml_documents(text, name);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().to_string());
  if (!parsed.ok()) return out;
  for (auto& document : *parsed) {
    if (!document.value.is_null()) out.push_back(std::move(document.value));
  }
  return out;
}

// A readable difference: which objects differ, and the paths that differ inside them.
std::string describe_difference(const std::vector<json>& actual,
                                const std::vector<json>& expected) {
  std::ostringstream out;
  if (actual.size() != expected.size()) {
    out << "native rendered " << actual.size() << " objects, expected " << expected.size() << "\n";
  }
  for (size_t i = 0; i < std::max(actual.size(), expected.size()); ++i) {
    json a = i < actual.size() ? actual[i] : json::object();
    json e = i < expected.size() ? expected[i] : json::object();
    if (a == e) continue;
    out << "object #" << i << " (native " << a.value("kind", json("")).dump() << " "
        << (a.is_object() && a.contains("metadata") ? a["metadata"].value("name", json("")).dump()
                                                    : "")
        << ", expected " << e.value("kind", json("")).dump() << " "
        << (e.is_object() && e.contains("metadata") ? e["metadata"].value("name", json("")).dump()
                                                    : "")
        << "):\n";
    for (const auto& op : json::diff(e, a)) out << "  " << op.dump() << "\n";
  }
  return out.str();
}

// Renders "<case>/<overlay>" with the case directory as the repository root.
std::vector<json> render_native(const std::string& overlay) {
  fs::path path = fs::path(PLUMBLINE_FIXTURES_DIR) / "kustomize" / overlay;
  auto tree = make_directory_tree(path.parent_path());
  auto rendered = render_kustomize(*tree, path.filename().string());
  EXPECT_TRUE(rendered.ok()) << (rendered.ok() ? "" : rendered.error().to_string());
  std::vector<json> out;
  if (!rendered.ok()) return out;
  for (const auto& manifest : *rendered) out.push_back(manifest.object);
  return out;
}

class KustomizeConformance : public ::testing::TestWithParam<std::string> {};

TEST_P(KustomizeConformance, MatchesCheckedInExpectation) {
  std::vector<json> actual = render_native(GetParam());
  fs::path file = expected_file(GetParam());
  ASSERT_TRUE(fs::exists(file)) << file;
  std::vector<json> expected = documents(read_text(file), file.filename().string());
  EXPECT_TRUE(actual == expected) << describe_difference(actual, expected);
}

TEST_P(KustomizeConformance, MatchesKubectl) {
  if (!kubectl_on_path()) GTEST_SKIP() << "kubectl is not on PATH";
  fs::path dir = fs::path(PLUMBLINE_FIXTURES_DIR) / "kustomize" / GetParam();
  std::string output;
  ASSERT_TRUE(run_kubectl_kustomize(dir.string(), output)) << "kubectl kustomize failed";
  std::vector<json> actual = render_native(GetParam());
  std::vector<json> expected = documents(output, "kubectl output");
  EXPECT_TRUE(actual == expected) << describe_difference(actual, expected);
}

INSTANTIATE_TEST_SUITE_P(Cases, KustomizeConformance, ::testing::ValuesIn(overlays()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

class KustomizeErrors : public ::testing::TestWithParam<std::string> {};

TEST_P(KustomizeErrors, FailsWithExactMessageAndNoOutput) {
  fs::path dir = fs::path(PLUMBLINE_FIXTURES_DIR) / "kustomize-errors" / GetParam();
  std::string expected = read_text(dir / "expected-error.txt");
  while (!expected.empty() && (expected.back() == '\n' || expected.back() == '\r'))
    expected.pop_back();
  auto tree = make_directory_tree(fs::path(PLUMBLINE_FIXTURES_DIR) / "kustomize-errors");
  auto rendered = render_kustomize(*tree, GetParam() + "/overlay");
  ASSERT_FALSE(rendered.ok());
  EXPECT_EQ(rendered.error().to_string(), expected);
}

TEST_P(KustomizeErrors, KubectlFailsToo) {
  fs::path dir = fs::path(PLUMBLINE_FIXTURES_DIR) / "kustomize-errors" / GetParam();
  if (!fs::exists(dir / "kustomize-error.txt")) GTEST_SKIP() << "no kustomize-error.txt";
  if (!kubectl_on_path()) GTEST_SKIP() << "kubectl is not on PATH";
  std::string want = read_text(dir / "kustomize-error.txt");
  while (!want.empty() && (want.back() == '\n' || want.back() == '\r')) want.pop_back();
  std::string message;
  EXPECT_FALSE(run_kubectl_kustomize((dir / "overlay").string(), message, true));
  EXPECT_NE(message.find(want), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(Cases, KustomizeErrors, ::testing::ValuesIn(cases("kustomize-errors")),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

}  // namespace
}  // namespace plumbline
