// Helpers shared by the kubeconfig tests: fixture paths, an environment from a map, and a
// fixture class with a scratch directory.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include "plumbline/kube/kube_config.h"

namespace plumbline::kubeconfig_testing {

namespace fs = std::filesystem;

inline const std::string kFixtures = std::string(PLUMBLINE_FIXTURES_DIR) + "/kubeconfig";
inline const std::string kCerts = kFixtures + "/certs";

inline std::string read_text(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// Replaces every "@CERTS@" with the fixture certificate directory.
inline std::string with_certs(std::string text) {
  for (size_t at = text.find("@CERTS@"); at != std::string::npos; at = text.find("@CERTS@"))
    text.replace(at, 7, kCerts);
  return text;
}

class KubeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "kubeconfig-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    fs::path file = fs::path(dir_) / name;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
    return file.string();
  }

  // Loads `text` written as <dir>/config and returns the error as "where: message".
  std::string error_for(const std::string& text, const std::string& context = "") {
    std::string file = write("config", with_certs(text));
    auto config = load_kube_config({file, context}, env_of({}));
    if (config) return "unexpectedly loaded context " + config->context;
    return config.error().to_string();
  }

  std::string config_path() const { return dir_ + "/config"; }

  std::string dir_;
};

}  // namespace plumbline::kubeconfig_testing
