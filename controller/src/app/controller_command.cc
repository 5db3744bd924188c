// `plumbline controller`: wiring of the Controller to a cluster, metrics, health, leader
// election, logs and signals.
#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <set>

#include "app/cli.h"
#include "plumbline/kube/kube_client.h"
#include "plumbline/kube/kube_config.h"
#include "plumbline/kube/leader_election.h"
#include "plumbline/log/log.h"
#include "plumbline/reconcile/controller.h"
#include "plumbline/server/http_server.h"
#include "plumbline/server/metrics.h"
#include "plumbline/server/webhook.h"

namespace plumbline::app {
namespace {

constexpr std::string_view kControllerVersion = "0.1.0";

// Drift and violation gauges of one report; categories and rules without findings read 0.
void record_report(const PlumblineMetrics& metrics, const std::string& env,
                   const DriftReport& report) {
  std::map<std::string, double> by_category;
  for (Category c : all_categories()) by_category[std::string(to_string(c))] = 0;
  std::set<ObjectRef> drifted;
  for (const Drift& d : report.drifts) {
    if (d.action == Action::kIgnored) continue;
    drifted.insert(d.object);
    if (!d.path.empty()) by_category[std::string(to_string(d.category))] += 1;
  }
  for (const auto& [category, n] : by_category) metrics.drift_fields->with({env, category}).set(n);
  metrics.drifted_objects->with({env}).set(static_cast<double>(drifted.size()));
  std::map<std::string, double> by_rule;
  for (const char* rule : {"requireLimits", "qosClass", "gomaxprocs", "gomemlimit", "selinux",
                           "capabilities", "sysctls", "env"}) {
    by_rule[rule] = 0;
  }
  for (const Violation& v : report.violations) by_rule[v.rule] += 1;
  for (const auto& [rule, n] : by_rule) metrics.policy_violations->with({env, rule}).set(n);
}

}  // namespace

Result<int> run_controller(const CliOptions& o, std::ostream& err) {
  // Every thread started from here on inherits the blocked set; sigwait below takes them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // glibc gives each thread that allocates an arena of its own (up to 8 per core): the render
  // on a worker, the LIST pages on the HTTP client's threads. Memory one arena frees is not
  // reused by another, which left ~120 MB more resident at 10,000 Deployments (bench/README,
  // "The controller under load": 598 -> 474 MB at rest). Two arenas: the threads here rarely
  // allocate at once. MALLOC_ARENA_MAX in the environment still decides when it is set.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);

  Logger log(err, parse_log_level(o.log_level).value_or(LogLevel::kInfo));
  PL_ASSIGN_OR_RETURN(const std::string webhook_secret,
                      load_webhook_secret(o.webhook_secret_file, o.webhook_secret_env));
  PL_ASSIGN_OR_RETURN(
      KubeConfig config,
      load_kube_config({.kubeconfig = o.kubeconfig, .context = o.context}, process_environment()));
  PL_ASSIGN_OR_RETURN(std::unique_ptr<KubeClient> client, make_kube_client(config, {}));

  MetricsRegistry registry;
  PL_ASSIGN_OR_RETURN(PlumblineMetrics metrics,
                      PlumblineMetrics::create(registry, kControllerVersion));

  ControllerOptions options;
  options.report_namespace = o.report_namespace;
  if (options.report_namespace.empty()) {
    options.report_namespace =
        config.context == "in-cluster" ? config.namespace_ : "plumbline-system";
  }
  options.git_cache_dir = o.cache_dir;
  options.git_cache_max_bytes = o.git_cache_max_bytes;
  options.git_timeout = std::chrono::seconds(o.git_timeout_seconds);
  options.render_timeout = std::chrono::seconds(o.render_timeout_seconds);
  options.render_limits = o.render_limits;
  options.watch_idle_timeout = std::chrono::seconds(o.watch_idle_timeout_seconds);
  options.workers = o.workers;
  ThreadTaskRunner tasks = task_runner(o);
  options.tasks = &tasks;
  options.git_auth = GitAuth::from_environment();
  options.dry_run = o.dry_run;
  options.enforce_namespaces = o.enforce_namespaces;
  options.enforce_allowed = o.enforce_allowed;
  options.allow_system_namespaces = o.allow_system_namespaces;
  options.allow_local_sources = o.allow_local_sources;
  options.helm = o.helm;
  options.allow_render_commands = o.allow_render_commands;
  options.default_service_account = o.default_service_account;
  options.allow_http_git_credentials = o.allow_http_git_credentials;

  // Only the leader writes; the elector's callbacks run on its own thread after start().
  std::atomic<Controller*> running{nullptr};  // read by the elector's thread
  std::unique_ptr<LeaderElector> elector;
  if (o.leader_elect) {
    elector = std::make_unique<LeaderElector>(
        *client, LeaderElectionConfig{.lease_namespace = options.report_namespace},
        LeaderCallbacks{.on_started_leading =
                            [&] {
                              log.info("leading", {{"identity", elector->identity()}});
                              if (Controller* c = running.load()) c->resync();
                            },
                        .on_stopped_leading = [&] { log.warn("lost leadership; standing by"); },
                        .on_new_leader =
                            [&](const std::string& leader) {
                              log.info("leader", {{"identity", leader}});
                            }});
    options.leading = [&elector] { return elector->is_leader(); };
  }

  options.queue.on_wait = [&metrics](std::chrono::duration<double> waited) {
    metrics.workqueue_queue_duration_seconds.observe(waited.count());
  };
  options.queue.on_retry = [&metrics] { metrics.workqueue_retries_total.inc(); };

  ControllerHooks hooks;
  hooks.on_report = [&metrics](const std::string& env, const DriftReport& report) {
    record_report(metrics, env, report);
  };
  hooks.on_reconcile = [&metrics](const std::string& env, double seconds, bool ok) {
    metrics.reconcile_duration_seconds->with({env}).observe(seconds);
    metrics.reconcile_total->with({env, ok ? "success" : "error"}).inc();
  };
  hooks.on_git_fetch = [&metrics](const std::string& env, double seconds, bool ok) {
    metrics.git_fetch_duration_seconds->with({env}).observe(seconds);
    if (!ok) metrics.git_fetch_errors_total->with({env}).inc();
  };
  hooks.on_environment_removed = [&metrics](const std::string& env) {
    metrics.forget_environment(env);
  };
  hooks.on_evaluated = [&metrics](const std::string& env, std::string_view pass, size_t n) {
    metrics.objects_evaluated_total->with({env, std::string(pass)}).inc(static_cast<double>(n));
  };
  hooks.on_correction = [&metrics](const std::string& env, std::string_view result) {
    metrics.corrections_total->with({env, std::string(result)}).inc();
  };

  std::unique_ptr<GitSource> git = make_git_source();
  Controller controller(*client, *git, options, log, hooks);

  // Gauges read at scrape time; API call counters advanced by what the client counted since.
  std::mutex scrape_mu;
  std::map<std::pair<std::string, int>, long> reported_calls;
  auto scrape = [&]() {
    std::lock_guard lock(scrape_mu);
    metrics.workqueue_depth.set(static_cast<double>(controller.queue_depth()));
    if (const LiveCache* cache = controller.workloads()) {
      metrics.live_cache_objects.set(static_cast<double>(cache->size()));
      metrics.live_cache_bytes.set(static_cast<double>(cache->memory_bytes()));
    }
    metrics.leader.set(elector == nullptr || elector->is_leader() ? 1 : 0);
    for (const ApiCallCount& c : client->call_counts()) {
      long& seen = reported_calls[{c.verb, c.code}];
      if (c.count > seen) {
        metrics.api_requests_total->with({c.verb, std::to_string(c.code)})
            .inc(static_cast<double>(c.count - seen));
        seen = c.count;
      }
    }
    return registry.exposition();
  };
  PL_ASSIGN_OR_RETURN(
      std::unique_ptr<HttpServer> server,
      HttpServer::start(o.listen, {.metrics = scrape,
                                   .healthz = [&controller] { return controller.healthy(); },
                                   .readyz = [&controller]() -> Status {
                                     if (controller.ready()) return {};
                                     return Error(ErrorCode::kUnavailable,
                                                  "caches not synced or environments not yet "
                                                  "reconciled");
                                   }}));

  // Git webhooks on their own port, so an Ingress can reach them and never /metrics.
  std::unique_ptr<HttpServer> webhooks;
  if (!webhook_secret.empty()) {
    PostRoute route = git_webhook_route(
        {.secret = webhook_secret,
         .trigger =
             [&controller](const std::vector<std::string>& urls) {
               return controller.fetch_now(urls);
             },
         .log = &log,
         .on_received =
             [&metrics](std::string_view provider, std::string_view event) {
               const std::string_view kind =
                   event == "push" || event == "Push Hook" ? "push"
                   : event.starts_with("pull_request") || event == "Merge Request Hook"
                       ? "pull_request"
                       : "other";
               metrics.webhooks_received_total->with({std::string(provider), std::string(kind)})
                   .inc();
             },
         .on_rejected =
             [&metrics](std::string_view reason) {
               metrics.webhooks_rejected_total->with({std::string(reason)}).inc();
             }});
    PL_ASSIGN_OR_RETURN(webhooks, HttpServer::start(o.webhook_listen, {.posts = {route}}));
  }

  log.info("starting", {{"server", config.server},
                        {"context", config.context},
                        {"reportNamespace", options.report_namespace},
                        {"listen", server->url()},
                        {"webhooks", webhooks ? webhooks->url() + std::string(kGitWebhookPath)
                                              : std::string("off")},
                        {"leaderElection", o.leader_elect}});
  PL_RETURN_IF_ERROR(controller.start());
  running = &controller;
  if (elector != nullptr) PL_RETURN_IF_ERROR(elector->start());

  int signal = 0;
  sigwait(&signals, &signal);
  log.info("stopping", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
  // In-flight work is cancelled (and its writes end) before the Lease is released, so a
  // standby that takes over at once never writes beside this replica.
  controller.stop();
  running = nullptr;
  if (elector != nullptr) elector->stop();  // releases the Lease: a standby takes over at once
  if (webhooks != nullptr) webhooks->stop();
  server->stop();
  log.info("stopped");
  return 0;
}

}  // namespace plumbline::app
