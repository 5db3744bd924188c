// plumbline/process/subprocess.h — run another program with bounds: the one home for child
// processes (the Git fetch, exec credential plugins, command renderers).
//
// No shell: argv is passed as it is. The child gets only the environment given (nothing is
// inherited), its own process group, no other open file descriptors, and the limits set below.
// At the deadline, on cancellation or when stdout passes its limit, the whole process group is
// killed (SIGKILL) and reaped before run_process returns. Secrets go through stdin_data, never
// through argv or env (both are readable by other processes of the user).
//
//   ProcessSpec spec{.argv = {"/usr/bin/helm", "template", "."},
//                    .display = "helm template",
//                    .timeout = std::chrono::seconds(30)};
//   PL_ASSIGN_OR_RETURN(ProcessResult done, run_process(spec));
//   if (done.exit_code != 0) return Error(..., spec.display + " " + describe_exit(done));
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "plumbline/core/error.h"

namespace plumbline {

struct ProcessSpec {
  // argv[0] is a path, or with search_path a name looked up in the PATH of `env` (or of
  // plumbline's own environment when `env` has none).
  std::vector<std::string> argv;
  bool search_path = false;
  // The child's whole environment ("NAME=value"); empty: an empty environment.
  std::vector<std::string> env;
  std::filesystem::path working_dir;  // empty: plumbline's
  std::string stdin_data;             // written to stdin, which is then closed
  // How errors name the command ("the Git fetch of https://host/ops.git"); default argv[0].
  std::string display;
  std::chrono::milliseconds timeout{60000};
  // Past max_stdout_bytes the child is killed and run_process fails; stderr keeps its first
  // max_stderr_bytes and drops the rest (ProcessResult::stderr_truncated).
  size_t max_stdout_bytes = 16u << 20;
  size_t max_stderr_bytes = 64u << 10;
  size_t max_memory_bytes = 0;  // RLIMIT_AS; 0: no limit
  size_t max_file_bytes = 0;    // RLIMIT_FSIZE (one file written); 0: no limit
  bool inherit_stderr = false;  // stderr goes to plumbline's own (not captured)
  // Asked about every 50 ms; true kills the child and fails with kCancelled.
  std::function<bool()> cancelled;
  // Each complete stderr line as it arrives (progress), besides being captured.
  std::function<void(std::string_view line)> on_stderr_line;
};

struct ProcessResult {
  int exit_code = 0;  // the exit status; 128 + the signal's number when a signal ended it
  int signal = 0;     // the signal that ended it (0: it exited)
  std::string stdout_text;
  std::string stderr_text;
  bool stderr_truncated = false;
};

// Runs the child to its end. Errors (each naming spec.display): kNotFound when the program
// cannot be run, kTimeout at the deadline, kCancelled, kInvalidInput when stdout passes its
// limit, kInternal when the system refuses a pipe or a fork. An exit status other than 0 is
// not an error here: the caller knows what it means.
Result<ProcessResult> run_process(const ProcessSpec& spec);

// "exited with status 3" / "was killed by signal 9 (Killed)", and the first line of stderr.
std::string describe_exit(const ProcessResult& result);

}  // namespace plumbline
