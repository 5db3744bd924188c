// integration/cli_runner.h — runs the plumbline binary from the source root and captures its
// exit status, stdout and stderr (for the end-to-end CLI tests).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

struct CliRun {
  int status = -1;
  std::string out;
  std::string err;
};

std::string quote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs the binary from the source root; stdout and stderr captured separately.
CliRun plumbline(const std::vector<std::string>& args) {
  std::filesystem::path err_file =
      std::filesystem::temp_directory_path() / ("plumbline-cli-err-" + std::to_string(::getpid()));
  std::string command = "cd " + quote(PLUMBLINE_SOURCE_DIR) + " && " + quote(PLUMBLINE_BINARY);
  for (const auto& a : args) command += " " + quote(a);
  command += " 2>" + quote(err_file.string());
  CliRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    run.out.append(buffer.data(), n);
  int raw = ::pclose(pipe);
  run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  std::ifstream err(err_file);
  run.err.assign(std::istreambuf_iterator<char>(err), {});
  std::filesystem::remove(err_file);
  return run;
}

}  // namespace
