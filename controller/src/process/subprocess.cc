// run_process: fork + execve with pipes, limits and a deadline (see
// plumbline/process/subprocess.h). Between fork and execve the child calls only async-signal-safe
// functions: the parent has other threads, whose locks (malloc's among them) may be held at the
// fork.
#include "plumbline/process/subprocess.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>

#include "plumbline/core/utf8.h"

namespace plumbline {
namespace {

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read, write;
};

Result<Pipe> make_pipe(const std::string& display) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return Error(ErrorCode::kInternal, "cannot run " + display + ": pipe: " + std::strerror(errno));
  }
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

std::string seconds_text(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

// argv[0] as a path: itself when it has a '/', else the first executable of that name on PATH.
std::optional<std::string> resolve_program(const ProcessSpec& spec) {
  const std::string& name = spec.argv.front();
  if (!spec.search_path || name.find('/') != std::string::npos) return name;
  std::string path;
  for (const std::string& entry : spec.env) {
    if (entry.starts_with("PATH=")) path = entry.substr(5);
  }
  if (path.empty()) {
    const char* own = std::getenv("PATH");
    path = own != nullptr ? own : "/usr/local/bin:/usr/bin:/bin";
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = end > start ? path.substr(start, end - start) : ".";
    std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

// The child between fork and execve: async-signal-safe calls only. Reports errno on
// `exec_error` (close-on-exec, so a successful execve closes it with nothing written).
[[noreturn]] void exec_child(const char* program, char* const* argv, char* const* envp,
                             const char* working_dir, int stdin_fd, int stdout_fd, int stderr_fd,
                             int exec_error, pid_t parent, const ProcessSpec& spec) {
  auto fail = [exec_error](int error) {
    ssize_t ignored = write(exec_error, &error, sizeof error);
    (void)ignored;
    _exit(127);
  };
  setpgid(0, 0);
  // Dies with plumbline (SIGKILL of the controller leaves no orphan fetch behind).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, nullptr);
  }
  if (dup2(stdin_fd, 0) < 0 || dup2(stdout_fd, 1) < 0) fail(errno);
  if (stderr_fd >= 0 && dup2(stderr_fd, 2) < 0) fail(errno);
  // Every other descriptor closes at execve (the error pipe must stay open until then).
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    rlimit files{};
    getrlimit(RLIMIT_NOFILE, &files);
    int top = files.rlim_cur == RLIM_INFINITY || files.rlim_cur > 65536
                  ? 65536
                  : static_cast<int>(files.rlim_cur);
    for (int fd = 3; fd < top; ++fd) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);  // a core file would hold what the child had in memory
  if (spec.max_memory_bytes > 0) {
    rlimit memory{spec.max_memory_bytes, spec.max_memory_bytes};
    if (setrlimit(RLIMIT_AS, &memory) != 0) fail(errno);
  }
  if (spec.max_file_bytes > 0) {
    rlimit file{spec.max_file_bytes, spec.max_file_bytes};
    if (setrlimit(RLIMIT_FSIZE, &file) != 0) fail(errno);
  }
  if (working_dir != nullptr && chdir(working_dir) != 0) fail(errno);
  execve(program, argv, envp);
  fail(errno);
  _exit(127);  // not reached
}

// Keeps SIGPIPE (a write to a child that closed its stdin) from ending plumbline: blocked in
// this thread while the child runs, and a pending one taken before the mask is restored.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlock() {
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE) == 1) {
      timespec zero{0, 0};
      sigtimedwait(&pipe_, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t pipe_{}, old_{};
};

// The running child: killed with its whole group and reaped when it goes out of scope early.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      kill_group();
      reap();
    }
  }
  // The group is killed before the leader is reaped: until then its id cannot be reused.
  void kill_group() const { kill(-pid_, SIGKILL); }
  bool exited() const {
    siginfo_t info{};
    return waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == pid_;
  }
  int reap() {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_;
};

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

}  // namespace

Result<ProcessResult> run_process(const ProcessSpec& spec) {
  if (spec.argv.empty() || spec.argv.front().empty()) {
    return Error(ErrorCode::kInternal, "run_process: no program given");
  }
  const std::string display = spec.display.empty() ? spec.argv.front() : spec.display;
  std::optional<std::string> program = resolve_program(spec);
  if (!program) {
    return Error(ErrorCode::kNotFound, "cannot run " + display + ": " + spec.argv.front() +
                                           " is not on PATH: No such file or directory");
  }

  // Everything the child needs is built before the fork: it may not allocate.
  std::vector<std::string> args = spec.argv, env = spec.env;
  std::vector<char*> argv, envp;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  for (std::string& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::string working_dir = spec.working_dir.string();

  PL_ASSIGN_OR_RETURN(Pipe in, make_pipe(display));
  PL_ASSIGN_OR_RETURN(Pipe out, make_pipe(display));
  PL_ASSIGN_OR_RETURN(Pipe err, make_pipe(display));
  PL_ASSIGN_OR_RETURN(Pipe exec_error, make_pipe(display));

  SigpipeBlock sigpipe;
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    return Error(ErrorCode::kInternal, "cannot run " + display + ": fork: " + std::strerror(errno));
  }
  if (pid == 0) {
    exec_child(program->c_str(), argv.data(), envp.data(),
               working_dir.empty() ? nullptr : working_dir.c_str(), in.read.get(), out.write.get(),
               spec.inherit_stderr ? -1 : err.write.get(), exec_error.write.get(), parent, spec);
  }
  Child child(pid);
  in.read.reset();
  out.write.reset();
  err.write.reset();
  exec_error.write.reset();

  int exec_errno = 0;
  ssize_t n = 0;
  while ((n = read(exec_error.read.get(), &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  if (n == static_cast<ssize_t>(sizeof exec_errno)) {
    child.reap();
    return Error(ErrorCode::kNotFound,
                 "cannot run " + display + ": " + *program + ": " + std::strerror(exec_errno));
  }

  ProcessResult result;
  size_t written = 0;
  if (spec.stdin_data.empty()) in.write.reset();
  if (in.write.get() >= 0) set_nonblocking(in.write.get());
  set_nonblocking(out.read.get());
  if (spec.inherit_stderr) err.read.reset();
  if (err.read.get() >= 0) set_nonblocking(err.read.get());
  std::string stderr_line;

  const Clock::time_point deadline = Clock::now() + spec.timeout;
  std::optional<Clock::time_point> leader_exit;
  char buffer[16384];
  while (out.read.get() >= 0 || err.read.get() >= 0) {
    Clock::time_point now = Clock::now();
    if (now >= deadline) {
      child.kill_group();
      child.reap();
      return Error(ErrorCode::kTimeout, display + " did not finish within " +
                                            seconds_text(spec.timeout) +
                                            "; it was killed with its process group");
    }
    if (spec.cancelled && spec.cancelled()) {
      child.kill_group();
      child.reap();
      return Error(ErrorCode::kCancelled, display + " cancelled");
    }
    // Once the program has exited, what it left running in its group goes too (it would
    // hold the pipes open); a descendant that left the group is read for one more second.
    if (!leader_exit && child.exited()) {
      leader_exit = now;
      child.kill_group();
    }
    if (leader_exit && now - *leader_exit > std::chrono::seconds(1)) break;

    pollfd fds[3];
    nfds_t count = 0;
    for (int fd : {out.read.get(), err.read.get()}) {
      if (fd >= 0) fds[count++] = {fd, POLLIN, 0};
    }
    if (in.write.get() >= 0) fds[count++] = {in.write.get(), POLLOUT, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    int ready = poll(fds, count, static_cast<int>(std::min<long long>(left + 1, 50)));
    if (ready < 0 && errno != EINTR) {
      return Error(ErrorCode::kInternal, "waiting for " + display + ": " + std::strerror(errno));
    }
    if (ready <= 0) continue;
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in.write.get()) {
        ssize_t w = write(in.write.get(), spec.stdin_data.data() + written,
                          spec.stdin_data.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == spec.stdin_data.size()) {
          in.write.reset();  // done, or the child closed its stdin (EPIPE): it reads no more
        }
        continue;
      }
      bool is_out = fds[i].fd == out.read.get();
      ssize_t r = read(fds[i].fd, buffer, sizeof buffer);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r <= 0) {
        (is_out ? out.read : err.read).reset();
        continue;
      }
      std::string_view chunk(buffer, static_cast<size_t>(r));
      if (is_out) {
        if (result.stdout_text.size() + chunk.size() > spec.max_stdout_bytes) {
          child.kill_group();
          child.reap();
          return Error(ErrorCode::kInvalidInput,
                       display + " wrote more than " + std::to_string(spec.max_stdout_bytes) +
                           " bytes to stdout; it was killed with its process group");
        }
        result.stdout_text.append(chunk);
        continue;
      }
      size_t room =
          spec.max_stderr_bytes - std::min(spec.max_stderr_bytes, result.stderr_text.size());
      result.stderr_text.append(chunk.substr(0, room));
      result.stderr_truncated = result.stderr_truncated || chunk.size() > room;
      if (spec.on_stderr_line) {
        stderr_line.append(chunk);
        size_t end;
        while ((end = stderr_line.find('\n')) != std::string::npos) {
          spec.on_stderr_line(std::string_view(stderr_line).substr(0, end));
          stderr_line.erase(0, end + 1);
        }
        if (stderr_line.size() > 4096) stderr_line.clear();  // no line that long is progress
      }
    }
  }
  in.write.reset();
  // The pipes are closed: the program has ended or is about to; its exit is waited for
  // within the same deadline.
  while (!child.exited()) {
    if (Clock::now() >= deadline) {
      child.kill_group();
      child.reap();
      return Error(ErrorCode::kTimeout, display + " did not finish within " +
                                            seconds_text(spec.timeout) +
                                            "; it was killed with its process group");
    }
    if (spec.cancelled && spec.cancelled()) {
      child.kill_group();
      child.reap();
      return Error(ErrorCode::kCancelled, display + " cancelled");
    }
    usleep(5000);
  }
  child.kill_group();
  int status = child.reap();
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
    result.exit_code = 128 + result.signal;
  }
  return result;
}

std::string describe_exit(const ProcessResult& result) {
  std::string text = result.signal != 0 ? "was killed by signal " + std::to_string(result.signal) +
                                              " (" + strsignal(result.signal) + ")"
                                        : "exited with status " + std::to_string(result.exit_code);
  std::string_view err = result.stderr_text;
  while (!err.empty() && (err.front() == '\n' || err.front() == ' ')) err.remove_prefix(1);
  std::string_view first = err.substr(0, err.find('\n'));
  if (!first.empty()) text += ": " + utf8_prefix(first, 500);
  return text;
}

}  // namespace plumbline
