// run_process against real programs (/bin/sh, cat, env, sleep, python3): output, stdin,
// limits, the deadline and the kill of the whole process group.
#include "plumbline/process/subprocess.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "temp_dir.h"

namespace plumbline {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using testing::TempDir;

ProcessSpec sh(const std::string& script) {
  return ProcessSpec{.argv = {"/bin/sh", "-c", script}, .display = "the test script"};
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// True once `pid` is gone (or a zombie nobody waits for any more), within a second.
bool gone(pid_t pid) {
  for (int i = 0; i < 100; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    size_t close = line.rfind(')');
    if (close != std::string::npos && line.size() > close + 2 && line[close + 2] == 'Z') {
      return true;
    }
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TEST(Subprocess, OutputErrorAndExitStatus) {
  auto done = run_process(sh("echo out; echo err >&2; exit 3"));
  ASSERT_TRUE(done.ok()) << done.error().to_string();
  EXPECT_EQ(done->exit_code, 3);
  EXPECT_EQ(done->signal, 0);
  EXPECT_EQ(done->stdout_text, "out\n");
  EXPECT_EQ(done->stderr_text, "err\n");
  EXPECT_EQ(describe_exit(*done), "exited with status 3: err");
}

TEST(Subprocess, StdinIsWrittenThenClosed) {
  std::string big(300000, 'x');  // more than a pipe holds: written as the child reads
  auto done = run_process({.argv = {"cat"}, .search_path = true, .stdin_data = big});
  ASSERT_TRUE(done.ok()) << done.error().to_string();
  EXPECT_EQ(done->stdout_text, big);
}

TEST(Subprocess, AChildThatNeverReadsStdinDoesNotKillPlumbline) {
  auto done = run_process({.argv = {"/bin/true"}, .stdin_data = std::string(1 << 20, 'x')});
  ASSERT_TRUE(done.ok()) << done.error().to_string();
  EXPECT_EQ(done->exit_code, 0);
}

TEST(Subprocess, TheEnvironmentIsOnlyWhatIsGiven) {
  setenv("PLUMBLINE_TEST_SECRET", "do-not-inherit", 1);
  auto done = run_process({.argv = {"/usr/bin/env"}, .env = {"ONLY=this"}});
  unsetenv("PLUMBLINE_TEST_SECRET");
  ASSERT_TRUE(done.ok()) << done.error().to_string();
  EXPECT_EQ(done->stdout_text, "ONLY=this\n");
}

TEST(Subprocess, NoOtherDescriptorIsInherited) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);  // deliberately without O_CLOEXEC
  auto done = run_process(sh("ls /proc/self/fd"));
  close(fds[0]);
  close(fds[1]);
  ASSERT_TRUE(done.ok()) << done.error().to_string();
  // 0, 1, 2 and the descriptor ls opens to read the directory.
  EXPECT_EQ(done->stdout_text, "0\n1\n2\n3\n");
}

TEST(Subprocess, AMissingProgramIsNotFoundNamingIt) {
  auto done = run_process({.argv = {"/nonexistent/helm"}, .display = "helm template"});
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(done.error().message(),
            "cannot run helm template: /nonexistent/helm: No such file or directory");
  auto on_path = run_process({.argv = {"plumbline-no-such-program"}, .search_path = true});
  ASSERT_FALSE(on_path.ok());
  EXPECT_EQ(on_path.error().message(),
            "cannot run plumbline-no-such-program: plumbline-no-such-program is not on PATH: No "
            "such file or directory");
}

TEST(Subprocess, TheDeadlineKillsTheWholeProcessGroup) {
  TempDir dir;
  ProcessSpec spec = sh("sleep 30 & echo $! > " + (dir.path() / "pid").string() + "; sleep 30");
  spec.timeout = 300ms;
  auto start = Clock::now();
  auto done = run_process(spec);
  double elapsed = seconds_since(start);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code(), ErrorCode::kTimeout);
  EXPECT_TRUE(done.error().retryable());
  EXPECT_EQ(done.error().message(),
            "the test script did not finish within 300 ms; it was killed with its process group");
  EXPECT_LT(elapsed, 1.0);
  pid_t background = 0;
  std::ifstream(dir.path() / "pid") >> background;
  ASSERT_GT(background, 0);
  EXPECT_TRUE(gone(background)) << "the background sleep survived";
}

TEST(Subprocess, WhatTheProgramLeftRunningDoesNotHoldItsCaller) {
  // The background sleep keeps stdout open; the caller still returns when the script exits.
  auto start = Clock::now();
  auto done = run_process(sh("sleep 30 & echo started"));
  ASSERT_TRUE(done.ok()) << done.error().to_string();
  EXPECT_EQ(done->stdout_text, "started\n");
  EXPECT_LT(seconds_since(start), 2.0);
}

TEST(Subprocess, CancellationKillsTheChild) {
  std::atomic<bool> stop{false};
  ProcessSpec spec = sh("sleep 30");
  spec.cancelled = [&stop] { return stop.load(); };
  std::thread stopper([&stop] {
    std::this_thread::sleep_for(100ms);
    stop = true;
  });
  auto start = Clock::now();
  auto done = run_process(spec);
  stopper.join();
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code(), ErrorCode::kCancelled);
  EXPECT_LT(seconds_since(start), 1.0);
}

TEST(Subprocess, StdoutPastItsLimitIsAnErrorAndStderrIsCut) {
  ProcessSpec spec = sh("yes");
  spec.max_stdout_bytes = 1000;
  auto done = run_process(spec);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(done.error().message(),
            "the test script wrote more than 1000 bytes to stdout; it was killed with its "
            "process group");

  ProcessSpec noisy = sh("head -c 100000 /dev/zero | tr '\\0' e >&2; echo ok");
  noisy.max_stderr_bytes = 100;
  auto cut = run_process(noisy);
  ASSERT_TRUE(cut.ok()) << cut.error().to_string();
  EXPECT_EQ(cut->stdout_text, "ok\n");
  EXPECT_EQ(cut->stderr_text, std::string(100, 'e'));
  EXPECT_TRUE(cut->stderr_truncated);
}

TEST(Subprocess, StderrLinesArriveAsTheyAreWritten) {
  std::vector<std::string> lines;
  ProcessSpec spec = sh("echo 'progress 1' >&2; echo 'progress 2' >&2");
  spec.on_stderr_line = [&lines](std::string_view line) { lines.emplace_back(line); };
  auto done = run_process(spec);
  ASSERT_TRUE(done.ok()) << done.error().to_string();
  EXPECT_EQ(lines, (std::vector<std::string>{"progress 1", "progress 2"}));
}

TEST(Subprocess, MemoryAndFileSizeLimits) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "python3 not installed";
  auto memory = run_process({.argv = {"/usr/bin/python3", "-c", "x = bytearray(400 << 20)"},
                             .max_memory_bytes = 200u << 20});
  ASSERT_TRUE(memory.ok()) << memory.error().to_string();
  EXPECT_NE(memory->exit_code, 0);
  EXPECT_NE(memory->stderr_text.find("MemoryError"), std::string::npos) << memory->stderr_text;

  TempDir dir;
  ProcessSpec file = sh("head -c 2000000 /dev/zero > " + (dir.path() / "big").string());
  file.max_file_bytes = 1u << 20;
  auto written = run_process(file);
  ASSERT_TRUE(written.ok()) << written.error().to_string();
  EXPECT_NE(written->exit_code, 0);
  EXPECT_EQ(std::filesystem::file_size(dir.path() / "big"), 1u << 20);
}

}  // namespace
}  // namespace plumbline
