// Smoke tests of the KubeTestEnv harness against a real kube-apiserver: the demo prod
// environment applied with kubectl survives an apiserver restart, a restricted
// ServiceAccount kubeconfig is Forbidden outside its namespace, a bad start reports the
// apiserver log, and a test process that dies leaves no server running.
#include "integration/kube_testenv.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

namespace {

using plumbline::testing::KubeTestEnv;

std::set<std::string> Lines(const std::string& text) {
  std::set<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.insert(line);
  return lines;
}

std::string Describe(const KubeTestEnv::Result& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// True while a kube-testenv process with this state dir in its argv exists.
bool ServerAlive(int pid, const std::string& state_dir) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return cmdline.find(state_dir + "/etcd") != std::string::npos;
}

TEST(KubeTestEnvTest, ProdEnvironmentSurvivesApiserverRestart) {
  std::string error;
  auto env = KubeTestEnv::Start({}, &error);
  ASSERT_NE(env, nullptr) << error;
  ASSERT_TRUE(env->running());
  EXPECT_EQ(env->server().rfind("https://127.0.0.1:", 0), 0u) << env->server();
  EXPECT_TRUE(std::filesystem::exists(env->kubeconfig()));
  EXPECT_TRUE(std::filesystem::exists(env->ca_file()));
  EXPECT_FALSE(env->token().empty());

  // manifests/envs/prod renders objects in namespace shop-prod but not the Namespace.
  auto rendered = env->Kubectl({"kustomize", KubeTestEnv::SourceDir() + "/manifests/envs/prod"});
  ASSERT_EQ(rendered.exit_code, 0) << Describe(rendered);
  ASSERT_NE(rendered.out.find("namespace: shop-prod"), std::string::npos);
  auto ns = env->Kubectl({"create", "namespace", "shop-prod"});
  ASSERT_EQ(ns.exit_code, 0) << Describe(ns);
  auto applied = env->Kubectl({"apply", "-f", "-", "-o", "name"}, rendered.out);
  ASSERT_EQ(applied.exit_code, 0) << Describe(applied);
  const std::set<std::string> objects = Lines(applied.out);
  for (const char* want :
       {"deployment.apps/checkout", "statefulset.apps/ledger", "cronjob.batch/report-builder",
        "daemonset.apps/log-shipper", "service/checkout"})
    EXPECT_EQ(objects.count(want), 1u) << want << " not in\n" << applied.out;
  EXPECT_EQ(objects.size(), 6u) << applied.out;  // + the hashed ConfigMap

  auto uid = env->Kubectl(
      {"get", "deployment", "checkout", "-n", "shop-prod", "-o", "jsonpath={.metadata.uid}"});
  ASSERT_EQ(uid.exit_code, 0) << Describe(uid);
  ASSERT_FALSE(uid.out.empty());
  // A ServiceAccount token made before the restart must still be accepted after it.
  std::string reader = env->RestrictedKubeconfig("shop-prod", "reader", {"get", "list"}, {"apps"},
                                                 {"deployments"}, &error);
  ASSERT_FALSE(reader.empty()) << error;

  const std::string server = env->server();
  const int pid = env->pid();
  ASSERT_TRUE(env->Restart(&error)) << error;
  EXPECT_EQ(env->server(), server);
  EXPECT_NE(env->pid(), pid);
  EXPECT_FALSE(ServerAlive(pid, env->state_dir()));

  auto after = env->Kubectl({"get", "-f", "-", "-o", "name"}, rendered.out);
  ASSERT_EQ(after.exit_code, 0) << Describe(after);
  EXPECT_EQ(Lines(after.out), objects);
  auto uid_after = env->Kubectl(
      {"get", "deployment", "checkout", "-n", "shop-prod", "-o", "jsonpath={.metadata.uid}"});
  EXPECT_EQ(uid_after.out, uid.out);
  auto as_reader = env->KubectlAs(reader, {"get", "deployment", "checkout", "-o", "name"});
  EXPECT_EQ(as_reader.exit_code, 0) << Describe(as_reader);
  EXPECT_EQ(as_reader.out, "deployment.apps/checkout\n");

  ASSERT_TRUE(env->Stop(&error)) << error;
  EXPECT_FALSE(env->running());
  EXPECT_FALSE(ServerAlive(env->pid(), env->state_dir()));
  auto stopped = env->Kubectl({"get", "namespaces", "--request-timeout=5s"});
  EXPECT_NE(stopped.exit_code, 0);
}

TEST(KubeTestEnvTest, RestrictedKubeconfigIsForbiddenOutsideItsNamespace) {
  std::string error;
  auto env = KubeTestEnv::Start({}, &error);
  ASSERT_NE(env, nullptr) << error;
  auto other = env->Kubectl({"create", "namespace", "team-b"});
  ASSERT_EQ(other.exit_code, 0) << Describe(other);
  auto cm = env->Kubectl({"create", "configmap", "settings", "-n", "team-b"});
  ASSERT_EQ(cm.exit_code, 0) << Describe(cm);

  std::string kubeconfig = env->RestrictedKubeconfig("team-a", "viewer", {"get", "list", "watch"},
                                                     {""}, {"configmaps"}, &error);
  ASSERT_FALSE(kubeconfig.empty()) << error;
  auto mine = env->Kubectl({"create", "configmap", "mine", "-n", "team-a"});
  ASSERT_EQ(mine.exit_code, 0) << Describe(mine);

  // Allowed: read configmaps in its own namespace (the kubeconfig's default namespace).
  auto own = env->KubectlAs(kubeconfig, {"get", "configmaps", "-o", "name"});
  EXPECT_EQ(own.exit_code, 0) << Describe(own);
  EXPECT_NE(own.out.find("configmap/mine"), std::string::npos) << own.out;

  // Forbidden: another namespace, another verb, another resource.
  auto elsewhere = env->KubectlAs(kubeconfig, {"get", "configmaps", "-n", "team-b"});
  EXPECT_NE(elsewhere.exit_code, 0) << Describe(elsewhere);
  EXPECT_NE(elsewhere.err.find("Forbidden"), std::string::npos) << elsewhere.err;
  EXPECT_NE(elsewhere.err.find("system:serviceaccount:team-a:viewer"), std::string::npos)
      << elsewhere.err;
  auto write = env->KubectlAs(kubeconfig, {"create", "configmap", "x"});
  EXPECT_NE(write.exit_code, 0);
  // kubectl create words it "... configmaps is forbidden: User ... cannot create ...".
  EXPECT_NE(write.err.find("forbidden: User"), std::string::npos) << write.err;
  auto secrets = env->KubectlAs(kubeconfig, {"get", "secrets"});
  EXPECT_NE(secrets.exit_code, 0);
  EXPECT_NE(secrets.err.find("Forbidden"), std::string::npos) << secrets.err;
  // kubectl auth can-i agrees (exit 1 = no).
  auto can = env->KubectlAs(kubeconfig, {"auth", "can-i", "list", "configmaps", "-n", "team-b"});
  EXPECT_EQ(can.exit_code, 1) << Describe(can);

  // Names that are not DNS labels are refused before anything is sent.
  EXPECT_EQ(env->RestrictedKubeconfig("Bad NS", "x", {"get"}, {""}, {"pods"}, &error), "");
  EXPECT_NE(error.find("DNS label"), std::string::npos) << error;
}

TEST(KubeTestEnvTest, FailedStartReportsTheApiserverLog) {
  std::string error;
  auto env = KubeTestEnv::Start({"--no-such-apiserver-flag=1"}, &error);
  EXPECT_EQ(env, nullptr);
  EXPECT_NE(error.find("unknown flag: --no-such-apiserver-flag"), std::string::npos) << error;
}

TEST(KubeTestEnvTest, ServerStopsWhenTheTestProcessDies) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // a "test" that starts a server and is then SIGKILLed: no cleanup at all
    ::close(fds[0]);
    std::string error;
    auto env = KubeTestEnv::Start({}, &error);
    std::string msg =
        env ? std::to_string(env->pid()) + " " + env->state_dir() + "\n" : "error " + error + "\n";
    (void)!::write(fds[1], msg.data(), msg.size());
    ::kill(::getpid(), SIGKILL);
    ::_exit(1);
  }
  ::close(fds[1]);
  std::string msg;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) msg.append(buf, n);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  std::istringstream in(msg);
  int pid = 0;
  std::string state_dir;
  ASSERT_TRUE(in >> pid >> state_dir && pid > 0) << msg;
  // The server notices within 0.5 s (--watch-pid) and shuts down gracefully (~1-2 s).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (ServerAlive(pid, state_dir) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(ServerAlive(pid, state_dir)) << "kube-testenv pid " << pid << " still running";
  if (ServerAlive(pid, state_dir)) ::kill(-pid, SIGKILL);
  std::ifstream log(state_dir + "/apiserver.log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("watched process " + std::to_string(child) + " is gone"), std::string::npos);
  std::filesystem::remove_all(state_dir);
}

}  // namespace
