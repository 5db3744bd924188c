// KubeTestEnv: a private real kube-apiserver (+ embedded etcd) for one integration
// test, driven through tests/kube-testenv/{start,stop}. Header-only.
//
//   std::string error;
//   auto env = plumbline::testing::KubeTestEnv::Start({}, &error);
//   ASSERT_NE(env, nullptr) << error;          // error ends with the apiserver log tail
//   auto r = env->Kubectl({"create", "namespace", "demo"});
//   ASSERT_EQ(r.exit_code, 0) << r.err;
//   ASSERT_TRUE(env->Restart(&error)) << error;  // same state dir, port and data
//
// Every server is started with PLUMBLINE_TESTENV_WATCH_PID=<this process>, so it shuts
// itself down (within ~3 s) if the test crashes or is killed; live environments are also
// stopped by an atexit handler, and the destructor stops the server and removes the dir.
// Subprocesses are run with posix_spawnp and pipes: arguments are never parsed by a shell.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

#ifndef PLUMBLINE_SOURCE_DIR
#error "KubeTestEnv needs PLUMBLINE_SOURCE_DIR (the repository root) defined"
#endif

namespace plumbline::testing {

class KubeTestEnv {
 public:
  struct Result {
    int exit_code = -1;  // the process's exit status; 128+N if killed by signal N; -1 if not run
    std::string out, err;
  };

  // Starts a private apiserver in a fresh temp dir ($TMPDIR or /tmp, plumbline-kube-XXXXXX)
  // via tests/kube-testenv/start, with `extra_flags` passed to kube-apiserver (after --).
  // Builds the binary first if it is missing (minutes on a cold Go cache). Returns nullptr on
  // failure, with a message in *error that includes the tail of the apiserver log.
  static std::unique_ptr<KubeTestEnv> Start(std::vector<std::string> extra_flags = {},
                                            std::string* error = nullptr) {
    SweepStaleDirs();
    std::string base = TempBase();
    std::string tmpl = base + "/plumbline-kube-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) {
      SetError(error, "mkdtemp " + tmpl + ": " + std::strerror(errno));
      return nullptr;
    }
    std::unique_ptr<KubeTestEnv> env(new KubeTestEnv(buf.data(), std::move(extra_flags)));
    {
      std::ofstream owner(env->state_dir_ + "/owner");
      owner << ::getpid() << " " << ProcessStart(::getpid()) << "\n";
    }
    if (!env->StartServer(error)) return nullptr;  // the destructor removes the dir
    return env;
  }

  ~KubeTestEnv() {
    Unregister(this);
    Stop();
    std::error_code ec;
    std::filesystem::remove_all(state_dir_, ec);
  }

  KubeTestEnv(const KubeTestEnv&) = delete;
  KubeTestEnv& operator=(const KubeTestEnv&) = delete;

  // Stops the server (tests/kube-testenv/stop: SIGTERM, SIGKILL after 30 s); keeps the dir.
  // Idempotent.
  bool Stop(std::string* error = nullptr) {
    Result r = Run({StopScript(), state_dir_}, "", {}, 120);
    running_ = false;
    if (r.exit_code != 0) {
      SetError(error, "kube-testenv/stop failed (" + std::to_string(r.exit_code) + "): " + r.err);
      return false;
    }
    return true;
  }

  // Stop, then start again on the same state dir: same URL (port), certificates, admin
  // token, service-account signing key (tokens from RestrictedKubeconfig stay valid) and
  // etcd data; a new pid. The extra flags given to Start are passed again.
  bool Restart(std::string* error = nullptr) {
    if (!Stop(error)) return false;
    return StartServer(error);
  }

  bool running() const { return running_; }

  // Values from STATE_DIR/env (see tests/kube-testenv/README.md), as of the last start.
  std::string kubeconfig() const { return Env("KUBECONFIG"); }
  std::string server() const { return Env("PLUMBLINE_TESTENV_SERVER"); }  // https://127.0.0.1:PORT
  std::string token() const { return Env("PLUMBLINE_TESTENV_TOKEN"); }    // admin (system:masters)
  std::string ca_file() const { return Env("PLUMBLINE_TESTENV_CA"); }
  std::string client_cert() const { return Env("PLUMBLINE_TESTENV_CLIENT_CERT"); }
  std::string client_key() const { return Env("PLUMBLINE_TESTENV_CLIENT_KEY"); }
  std::string etcd_url() const { return Env("PLUMBLINE_TESTENV_ETCD"); }
  std::string log_file() const { return state_dir_ + "/apiserver.log"; }
  std::string state_dir() const { return state_dir_; }
  int pid() const { return std::atoi(Env("PLUMBLINE_TESTENV_PID").c_str()); }
  std::string Env(const std::string& key) const {
    auto it = env_.find(key);
    return it == env_.end() ? std::string() : it->second;
  }

  // The last `lines` lines of the apiserver log (all starts on this dir).
  std::string LogTail(size_t lines = 40) const { return TailFile(log_file(), lines); }

  // kubectl --kubeconfig=<admin kubeconfig> ARGS, with `stdin_text` on its stdin.
  // Killed after `timeout_s` seconds (exit_code 128+9).
  Result Kubectl(const std::vector<std::string>& args, const std::string& stdin_text = "",
                 int timeout_s = 120) const {
    return KubectlAs(kubeconfig(), args, stdin_text, timeout_s);
  }

  // The same with another kubeconfig (e.g. one from RestrictedKubeconfig).
  Result KubectlAs(const std::string& kubeconfig_path, const std::vector<std::string>& args,
                   const std::string& stdin_text = "", int timeout_s = 120) const {
    std::vector<std::string> argv = {"kubectl", "--kubeconfig=" + kubeconfig_path,
                                     "--cache-dir=" + state_dir_ + "/kubectl-cache"};
    argv.insert(argv.end(), args.begin(), args.end());
    return Run(argv, stdin_text, {}, timeout_s);
  }

  // Creates (server-side apply semantics of `kubectl apply`) namespace `ns`, ServiceAccount
  // `sa` in it, a Role `sa` allowing `verbs` on `resources` of `api_groups` ("" = core) and
  // a RoleBinding; gets a token for it (kubectl create token, `token_duration`); writes a
  // kubeconfig with that token and our CA to STATE_DIR/kubeconfig-NS-SA. Returns its path,
  // or "" with *error set.
  std::string RestrictedKubeconfig(const std::string& ns, const std::string& sa,
                                   const std::vector<std::string>& verbs,
                                   const std::vector<std::string>& api_groups,
                                   const std::vector<std::string>& resources,
                                   std::string* error = nullptr,
                                   std::chrono::seconds token_duration = std::chrono::hours(24)) {
    static const std::regex kName("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    if (!std::regex_match(ns, kName) || !std::regex_match(sa, kName)) {
      SetError(error, "RestrictedKubeconfig: namespace and service account must be DNS labels");
      return "";
    }
    using json = nlohmann::json;
    json rbac_meta = {{"name", sa}, {"namespace", ns}};
    json objects = {
        {"apiVersion", "v1"},
        {"kind", "List"},
        {"items",
         json::array(
             {{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}},
              {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", rbac_meta}},
              {{"apiVersion", "rbac.authorization.k8s.io/v1"},
               {"kind", "Role"},
               {"metadata", rbac_meta},
               {"rules",
                json::array(
                    {{{"apiGroups", api_groups}, {"resources", resources}, {"verbs", verbs}}})}},
              {{"apiVersion", "rbac.authorization.k8s.io/v1"},
               {"kind", "RoleBinding"},
               {"metadata", rbac_meta},
               {"roleRef",
                {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", sa}}},
               {"subjects",
                json::array({{{"kind", "ServiceAccount"}, {"name", sa}, {"namespace", ns}}})}}})}};
    Result applied = Kubectl({"apply", "-f", "-"}, objects.dump());
    if (applied.exit_code != 0) {
      SetError(error, "RestrictedKubeconfig: kubectl apply failed: " + applied.err);
      return "";
    }
    return ServiceAccountKubeconfig(ns, sa, error, token_duration);
  }

  // A kubeconfig (our CA, a token of ServiceAccount `sa` in `ns` from kubectl create token)
  // written to STATE_DIR/kubeconfig-NS-SA; its path, or "" with *error set.
  std::string ServiceAccountKubeconfig(
      const std::string& ns, const std::string& sa, std::string* error = nullptr,
      std::chrono::seconds token_duration = std::chrono::hours(24)) {
    using json = nlohmann::json;
    Result tok = Kubectl({"create", "token", sa, "-n", ns,
                          "--duration=" + std::to_string(token_duration.count()) + "s"});
    std::string token = Trim(tok.out);
    if (tok.exit_code != 0 || token.empty()) {
      SetError(error, "ServiceAccountKubeconfig: kubectl create token failed: " + tok.err);
      return "";
    }
    std::string path = state_dir_ + "/kubeconfig-" + ns + "-" + sa;
    const std::string user = ns + "/" + sa;
    json config = {
        {"apiVersion", "v1"},
        {"kind", "Config"},
        {"clusters",
         json::array(
             {{{"name", "kube-testenv"},
               {"cluster", {{"server", server()}, {"certificate-authority", ca_file()}}}}})},
        {"users", json::array({{{"name", user}, {"user", {{"token", token}}}}})},
        {"contexts",
         json::array(
             {{{"name", "restricted"},
               {"context", {{"cluster", "kube-testenv"}, {"user", user}, {"namespace", ns}}}}})},
        {"current-context", "restricted"}};
    std::ofstream out(path, std::ios::trunc);
    out << config.dump(2) << "\n";  // JSON is YAML
    out.close();
    if (!out) {
      SetError(error, "ServiceAccountKubeconfig: cannot write " + path);
      return "";
    }
    return path;
  }

  // Runs argv (argv[0] looked up in PATH) with `stdin_text` on stdin, `extra_env`
  // ("KEY=value") added to this process's environment; kills it after `timeout_s` s.
  static Result Run(const std::vector<std::string>& argv, const std::string& stdin_text = "",
                    const std::vector<std::string>& extra_env = {}, int timeout_s = 120) {
    Result result;
    if (argv.empty()) return result;
    IgnoreSigpipe();  // a child that exits before reading all of stdin must not kill us
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return Failed("pipe", result);
    if (::pipe2(out, O_CLOEXEC) != 0) {
      CloseAll({in[0], in[1]});
      return Failed("pipe", result);
    }
    if (::pipe2(err, O_CLOEXEC) != 0) {
      CloseAll({in[0], in[1], out[0], out[1]});
      return Failed("pipe", result);
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    posix_spawnattr_t attr;  // the child gets SIGPIPE's default action back
    posix_spawnattr_init(&attr);
    sigset_t sigdefault;
    sigemptyset(&sigdefault);
    sigaddset(&sigdefault, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &sigdefault);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);

    std::vector<std::string> env_strings;
    std::set<std::string> overridden;
    for (const auto& kv : extra_env) overridden.insert(kv.substr(0, kv.find('=')));
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      std::string kv(*e);
      if (overridden.count(kv.substr(0, kv.find('='))) == 0) env_strings.push_back(kv);
    }
    env_strings.insert(env_strings.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> envp, args;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_copy = argv;
    for (auto& s : argv_copy) args.push_back(s.data());
    args.push_back(nullptr);

    pid_t pid = -1;
    int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    CloseAll({in[0], out[1], err[1]});
    if (rc != 0) {
      CloseAll({in[1], out[0], err[0]});
      result.err = "cannot run " + argv[0] + ": " + std::strerror(rc);
      return result;
    }

    // Feed stdin and drain stdout/stderr together, so neither side blocks on a full pipe.
    size_t written = 0;
    int in_fd = in[1];
    if (stdin_text.empty()) {
      ::close(in_fd);
      in_fd = -1;
    } else {
      ::fcntl(in_fd, F_SETFL, ::fcntl(in_fd, F_GETFL) | O_NONBLOCK);
    }
    int fds[2] = {out[0], err[0]};
    std::string* sinks[2] = {&result.out, &result.err};
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    bool killed = false;
    while (fds[0] >= 0 || fds[1] >= 0 || in_fd >= 0) {
      std::vector<pollfd> pfds;
      for (int fd : fds)
        if (fd >= 0) pfds.push_back({fd, POLLIN, 0});
      if (in_fd >= 0) pfds.push_back({in_fd, POLLOUT, 0});
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) {
        ::kill(pid, SIGKILL);
        killed = true;
        break;
      }
      int n = ::poll(pfds.data(), pfds.size(), static_cast<int>(std::min<long long>(left, 1000)));
      if (n < 0 && errno != EINTR) break;
      if (n <= 0) continue;
      for (const auto& p : pfds) {
        if (p.revents == 0) continue;
        if (p.fd == in_fd) {
          ssize_t w = ::write(in_fd, stdin_text.data() + written, stdin_text.size() - written);
          if (w > 0) written += static_cast<size_t>(w);
          if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == stdin_text.size() ||
              (p.revents & (POLLERR | POLLHUP))) {
            ::close(in_fd);
            in_fd = -1;
          }
          continue;
        }
        for (int i = 0; i < 2; ++i) {
          if (p.fd != fds[i]) continue;
          char chunk[65536];
          ssize_t r = ::read(fds[i], chunk, sizeof chunk);
          if (r > 0) {
            sinks[i]->append(chunk, static_cast<size_t>(r));
          } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
            ::close(fds[i]);
            fds[i] = -1;
          }
        }
      }
    }
    if (in_fd >= 0) ::close(in_fd);
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
    if (killed)
      result.err +=
          "\n[KubeTestEnv: killed " + argv[0] + " after " + std::to_string(timeout_s) + " s]";
    return result;
  }

  static std::string SourceDir() { return PLUMBLINE_SOURCE_DIR; }
  static std::string StartScript() { return SourceDir() + "/tests/kube-testenv/start"; }
  static std::string StopScript() { return SourceDir() + "/tests/kube-testenv/stop"; }

 private:
  KubeTestEnv(std::string state_dir, std::vector<std::string> extra_flags)
      : state_dir_(std::move(state_dir)), extra_flags_(std::move(extra_flags)) {
    Register(this);
  }

  bool StartServer(std::string* error) {
    std::vector<std::string> argv = {StartScript(), state_dir_, "--"};
    argv.insert(argv.end(), extra_flags_.begin(), extra_flags_.end());
    // 900 s: the start script builds the binary first if it is missing (~9 min cold).
    Result r = Run(argv, "", {"PLUMBLINE_TESTENV_WATCH_PID=" + std::to_string(::getpid())}, 900);
    env_ = ReadEnvFile(state_dir_ + "/env");
    if (r.exit_code != 0 || env_.count("PLUMBLINE_TESTENV_SERVER") == 0) {
      std::string msg = "kube-testenv/start " + state_dir_ + " failed (exit " +
                        std::to_string(r.exit_code) + "): " + Trim(r.err);
      if (r.err.find("last lines of") == std::string::npos) {
        std::string tail = LogTail();
        if (!tail.empty()) msg += "\nlast lines of " + log_file() + ":\n" + tail;
      }
      SetError(error, msg);
      Run({StopScript(), state_dir_}, "", {}, 120);  // in case it got as far as starting
      running_ = false;
      return false;
    }
    running_ = true;
    return true;
  }

  static std::map<std::string, std::string> ReadEnvFile(const std::string& path) {
    std::map<std::string, std::string> env;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      auto eq = line.find('=');
      if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return env;
  }

  static std::string TailFile(const std::string& path, size_t lines) {
    std::ifstream in(path);
    std::deque<std::string> last;
    std::string line;
    while (std::getline(in, line)) {
      last.push_back(line);
      if (last.size() > lines) last.pop_front();
    }
    std::string out;
    for (const auto& l : last) out += l + "\n";
    return out;
  }

  static std::string TempBase() {
    const char* t = std::getenv("TMPDIR");
    // The start script wants a plain path (its env file is unquoted).
    static const std::regex kPlain("/[A-Za-z0-9._/@+-]*");
    if (t != nullptr && std::regex_match(t, kPlain) && std::filesystem::is_directory(t)) {
      std::string s(t);
      while (s.size() > 1 && s.back() == '/') s.pop_back();
      return s;
    }
    return "/tmp";
  }

  // Field 22 of /proc/PID/stat (start time), "" if there is no such live process.
  static std::string ProcessStart(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = s.rfind(')');
    if (close == std::string::npos) return "";
    std::istringstream fields(s.substr(close + 1));
    std::vector<std::string> f;
    for (std::string x; fields >> x;) f.push_back(x);
    if (f.size() < 20 || f[0] == "Z" || f[0] == "X") return "";
    return f[19];
  }

  // Removes plumbline-kube-* dirs left by a test process that died without cleanup (its
  // server stopped itself through --watch-pid): owner gone and server no longer running.
  static void SweepStaleDirs() {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(TempBase(), ec)) {
      std::string name = entry.path().filename().string();
      if (name.rfind("plumbline-kube-", 0) != 0 || !entry.is_directory(ec)) continue;
      std::ifstream owner(entry.path() / "owner");
      long owner_pid = 0;
      std::string owner_start;
      if (!(owner >> owner_pid >> owner_start)) continue;  // being created, or not ours
      if (owner_pid <= 0 || ProcessStart(static_cast<pid_t>(owner_pid)) == owner_start) continue;
      std::ifstream pidfile(entry.path() / "pid");
      long server_pid = 0;
      if (pidfile >> server_pid && server_pid > 0 &&
          !ProcessStart(static_cast<pid_t>(server_pid)).empty())
        continue;  // still shutting down; a later sweep removes it
      std::filesystem::remove_all(entry.path(), ec);
    }
  }

  // Live environments, stopped at exit() by an atexit handler if a test leaks one.
  struct Registry {
    std::mutex mu;
    std::set<KubeTestEnv*> live;
  };
  static Registry& registry() {
    static Registry* r = new Registry;  // never destroyed: usable from the atexit handler
    return *r;
  }
  static void Register(KubeTestEnv* env) {
    static std::once_flag once;
    std::call_once(once, [] { std::atexit(StopAllAtExit); });
    std::lock_guard<std::mutex> lock(registry().mu);
    registry().live.insert(env);
  }
  static void Unregister(KubeTestEnv* env) {
    std::lock_guard<std::mutex> lock(registry().mu);
    registry().live.erase(env);
  }
  static void StopAllAtExit() {
    std::set<KubeTestEnv*> live;
    {
      std::lock_guard<std::mutex> lock(registry().mu);
      live.swap(registry().live);
    }
    for (KubeTestEnv* env : live) {
      env->Stop();
      std::error_code ec;
      std::filesystem::remove_all(env->state_dir_, ec);
    }
  }

  static std::string Trim(const std::string& s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
  }
  static void IgnoreSigpipe() {
    static std::once_flag once;
    std::call_once(once, [] {
      struct sigaction old {};
      if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL)
        ::signal(SIGPIPE, SIG_IGN);
    });
  }
  static void SetError(std::string* error, const std::string& msg) {
    if (error != nullptr) *error = msg;
  }
  static void CloseAll(std::initializer_list<int> fds) {
    for (int fd : fds) ::close(fd);
  }
  static Result& Failed(const char* what, Result& r) {
    r.err = std::string(what) + ": " + std::strerror(errno);
    return r;
  }

  std::string state_dir_;
  std::vector<std::string> extra_flags_;
  std::map<std::string, std::string> env_;
  bool running_ = false;
};

}  // namespace plumbline::testing
