// `plumbline controller`: wiring of the Controller to a cluster, logs and signals.
#include <pthread.h>
#include <signal.h>

#include <fstream>
#include <iostream>

#include "app/cli.h"
#include "plumbline/controller.h"
#include "plumbline/kube_client.h"
#include "plumbline/kube_config.h"
#include "plumbline/log.h"

namespace plumbline::app {

Result<int> run_controller(const CliOptions& o, std::ostream& err) {
  // Every thread started from here on inherits the blocked set; sigwait below takes them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Logger log(err, parse_log_level(o.log_level).value_or(LogLevel::kInfo));
  PL_ASSIGN_OR_RETURN(
      KubeConfig config,
      load_kube_config({.kubeconfig = o.kubeconfig, .context = o.context}, process_environment()));
  PL_ASSIGN_OR_RETURN(std::unique_ptr<KubeClient> client, make_kube_client(config, {}));

  ControllerOptions options;
  options.report_namespace = o.report_namespace;
  if (options.report_namespace.empty()) {
    options.report_namespace =
        config.context == "in-cluster" ? config.namespace_ : "plumbline-system";
  }
  options.git_cache_dir = o.cache_dir;
  options.dry_run = o.dry_run;
  options.git_auth = GitAuth::from_environment();

  Controller controller(*client, options, log);
  log.info("starting", {{"server", config.server},
                        {"context", config.context},
                        {"reportNamespace", options.report_namespace}});
  PL_RETURN_IF_ERROR(controller.start());

  int signal = 0;
  sigwait(&signals, &signal);
  log.info("stopping", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
  controller.stop();
  log.info("stopped");
  return 0;
}

}  // namespace plumbline::app
