#include <algorithm>
#include <map>
#include <optional>

#include "app/cli.h"

namespace plumbline::app {
namespace {

struct FlagSpec {
  std::string name;
  bool takes_value;
  std::vector<std::string> commands;  // where the flag is accepted
};

const std::vector<FlagSpec>& flag_specs() {
  static const std::vector<FlagSpec> kSpecs = {
      {"repo", true, {"diff", "compare", "check", "render", "pr-comment"}},
      {"ref", true, {"diff", "compare", "check", "render"}},
      {"path", true, {"diff", "compare", "check", "render", "pr-comment"}},
      {"render", true, {"diff", "compare", "check", "render", "pr-comment"}},
      {"cache-dir", true, {"diff", "compare", "check", "render", "controller", "pr-comment"}},
      {"verify-ssh-allowed-signers", true, {"diff", "compare", "check", "render", "pr-comment"}},
      {"verify-openpgp-keys", true, {"diff", "compare", "check", "render", "pr-comment"}},
      {"live", true, {"diff", "pr-comment"}},
      {"kubeconfig", true, {"diff", "controller", "pr-comment"}},
      {"context", true, {"diff", "controller", "pr-comment"}},
      {"report-namespace", true, {"controller"}},
      {"listen", true, {"controller"}},
      {"webhook-listen", true, {"controller"}},
      {"webhook-secret-file", true, {"controller"}},
      {"webhook-secret-env", true, {"controller"}},
      {"log-level", true, {"controller"}},
      {"dry-run", false, {"controller", "pr-comment"}},
      {"leader-elect", false, {"controller"}},
      {"enforce-namespaces", true, {"controller"}},
      {"no-enforce", false, {"controller"}},
      {"allow-system-namespaces", false, {"controller"}},
      {"allow-local-sources", false, {"controller"}},
      {"default-service-account", true, {"controller"}},
      {"allow-http-git-credentials", false, {"controller"}},
      {"timeout", true, {"diff", "pr-comment"}},
      {"workers", true, {"controller"}},
      {"jobs", true, {"diff", "compare", "check", "render", "pr-comment", "controller"}},
      {"max-render-bytes",
       true,
       {"diff", "compare", "check", "render", "pr-comment", "controller"}},
      {"max-render-files",
       true,
       {"diff", "compare", "check", "render", "pr-comment", "controller"}},
      {"max-render-objects",
       true,
       {"diff", "compare", "check", "render", "pr-comment", "controller"}},
      {"git-timeout", true, {"controller"}},
      {"watch-idle-timeout", true, {"controller"}},
      {"render-timeout", true, {"diff", "compare", "check", "render", "pr-comment", "controller"}},
      {"helm", true, {"diff", "compare", "check", "render", "pr-comment", "controller"}},
      {"helm-values", true, {"diff", "compare", "check", "render", "pr-comment"}},
      {"helm-release", true, {"diff", "compare", "check", "render", "pr-comment"}},
      {"helm-namespace", true, {"diff", "compare", "check", "render", "pr-comment"}},
      {"allow-render-commands", false, {"controller"}},
      {"git-cache-max-bytes",
       true,
       {"diff", "compare", "render", "check", "controller", "pr-comment"}},
      {"policy", true, {"diff", "compare", "check", "pr-comment"}},
      {"git-policies", true, {"diff", "check"}},
      {"environment-label", true, {"diff", "compare", "check"}},
      {"scope", true, {"diff", "compare", "pr-comment"}},
      {"format", true, {"diff", "compare", "check"}},
      {"output", true, {"diff", "compare", "check", "render", "pr-comment"}},
      {"environment", true, {"diff", "compare", "check", "pr-comment"}},
      {"color", true, {"diff", "compare", "check"}},
      {"quiet", false, {"diff", "compare", "check", "render", "pr-comment"}},
      {"live-kinds", true, {"diff", "pr-comment"}},
      {"base", true, {"pr-comment"}},
      {"head", true, {"pr-comment"}},
      {"provider", true, {"pr-comment"}},
      {"repository", true, {"pr-comment"}},
      {"pr", true, {"pr-comment"}},
      {"api-url", true, {"pr-comment"}},
      {"token-env", true, {"pr-comment"}},
      {"allow-empty", false, {"diff", "compare", "pr-comment"}},
  };
  return kSpecs;
}

std::vector<std::string> split_list(const std::string& value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find(',', start);
    if (end == std::string::npos) end = value.size();
    if (end > start) out.push_back(value.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// A whole number with nothing after it.
std::optional<long> parse_number(const std::string& value, size_t* used = nullptr) {
  size_t n_used = 0;
  long n = 0;
  try {
    n = std::stol(value, &n_used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used != nullptr) {
    *used = n_used;
  } else if (n_used != value.size()) {
    return std::nullopt;
  }
  return n;
}

// A count option (--workers 4): a whole number within [least, most].
Result<long> parse_count(const std::string& name, const std::string& value, long least, long most) {
  long n = parse_number(value).value_or(least - 1);
  if (n < least || n > most) {
    return invalid_input("--" + name + " must be a number from " + std::to_string(least) + " to " +
                         std::to_string(most) + ", got '" + value + "'");
  }
  return n;
}

// "30" or "30s" or "2m", at most an hour.
Result<int> parse_duration(const std::string& flag, const std::string& value) {
  size_t used = 0;
  long n = parse_number(value, &used).value_or(-1);
  std::string unit = n > 0 ? value.substr(used) : "";
  long scale = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : 0;
  if (n <= 0 || scale == 0 || n * scale > 3600) {
    return invalid_input("--" + flag + " must be a duration like 30s or 2m (at most 1h), got '" +
                         value + "'");
  }
  return static_cast<int>(n * scale);
}

// "536870912", "512Mi" or "2Gi"; at least 1 MiB.
Result<std::uint64_t> parse_bytes(const std::string& flag, const std::string& value) {
  size_t used = 0;
  long n = parse_number(value, &used).value_or(-1);
  std::string unit = n > 0 ? value.substr(used) : "";
  int shift = unit.empty() ? 0 : unit == "Ki" ? 10 : unit == "Mi" ? 20 : unit == "Gi" ? 30 : -1;
  if (n <= 0 || shift < 0 || (static_cast<std::uint64_t>(n) << shift) < (1u << 20) ||
      static_cast<std::uint64_t>(n) > (std::uint64_t{1} << (50 - shift))) {
    return invalid_input("--" + flag + " must be a size like 512Mi or 2Gi (at least 1Mi), got '" +
                         value + "'");
  }
  return static_cast<std::uint64_t>(n) << shift;
}

Status set_flag(CliOptions& o, const std::string& name, const std::string& value) {
  if (name == "repo")
    o.repo = value;
  else if (name == "ref")
    o.ref = value;
  else if (name == "path")
    o.paths.push_back(value);
  else if (name == "render")
    o.render_mode = value;
  else if (name == "helm")
    o.helm = value;
  else if (name == "helm-values")
    o.helm_values.push_back(value);
  else if (name == "helm-release")
    o.helm_release = value;
  else if (name == "helm-namespace")
    o.helm_namespace = value;
  else if (name == "allow-render-commands")
    o.allow_render_commands = true;
  else if (name == "cache-dir")
    o.cache_dir = value;
  else if (name == "verify-ssh-allowed-signers" || name == "verify-openpgp-keys") {
    if (!o.verify_keys_file.empty()) {
      return invalid_input("--" + name +
                           ": give one of --verify-ssh-allowed-signers and "
                           "--verify-openpgp-keys, once");
    }
    o.verify_format = name == "verify-openpgp-keys" ? "openpgp" : "ssh";
    o.verify_keys_file = value;
  } else if (name == "live")
    o.live = value;
  else if (name == "dry-run")
    o.dry_run = true;
  else if (name == "leader-elect")
    o.leader_elect = true;
  else if (name == "enforce-namespaces")
    o.enforce_namespaces = split_list(value);
  else if (name == "no-enforce")
    o.enforce_allowed = false;
  else if (name == "allow-system-namespaces")
    o.allow_system_namespaces = true;
  else if (name == "allow-local-sources")
    o.allow_local_sources = true;
  else if (name == "default-service-account")
    o.default_service_account = value;
  else if (name == "allow-http-git-credentials")
    o.allow_http_git_credentials = true;
  else if (name == "report-namespace")
    o.report_namespace = value;
  else if (name == "listen")
    o.listen = value;
  else if (name == "webhook-listen")
    o.webhook_listen = value;
  else if (name == "webhook-secret-file")
    o.webhook_secret_file = value;
  else if (name == "webhook-secret-env")
    o.webhook_secret_env = value;
  else if (name == "log-level") {
    if (value != "debug" && value != "info" && value != "warn" && value != "error") {
      return invalid_input("--log-level must be debug, info, warn or error, got '" + value + "'");
    }
    o.log_level = value;
  } else if (name == "kubeconfig")
    o.kubeconfig = value;
  else if (name == "context")
    o.context = value;
  else if (name == "timeout" || name == "git-timeout" || name == "render-timeout" ||
           name == "watch-idle-timeout") {
    PL_ASSIGN_OR_RETURN(int seconds, parse_duration(name, value));
    (name == "timeout"          ? o.timeout_seconds
     : name == "git-timeout"    ? o.git_timeout_seconds
     : name == "render-timeout" ? o.render_timeout_seconds
                                : o.watch_idle_timeout_seconds) = seconds;
  } else if (name == "workers" || name == "jobs") {
    PL_ASSIGN_OR_RETURN(long n, parse_count(name, value, 1, 64));
    (name == "workers" ? o.workers : o.jobs) = static_cast<int>(n);
  } else if (name == "max-render-bytes") {
    PL_ASSIGN_OR_RETURN(std::uint64_t bytes, parse_bytes(name, value));
    o.render_limits.max_bytes = static_cast<size_t>(bytes);
  } else if (name == "max-render-files" || name == "max-render-objects") {
    PL_ASSIGN_OR_RETURN(long n, parse_count(name, value, 1, 10'000'000));
    (name == "max-render-files" ? o.render_limits.max_files : o.render_limits.max_objects) =
        static_cast<size_t>(n);
  } else if (name == "git-cache-max-bytes") {
    PL_ASSIGN_OR_RETURN(o.git_cache_max_bytes, parse_bytes(name, value));
  } else if (name == "policy")
    o.policies.push_back(value);
  else if (name == "git-policies")
    o.git_policies = value;
  else if (name == "environment-label") {
    // Label keys hold no ':', so "prod:plumbline.dev/env-type=prod" names its environment.
    auto eq = value.find('=');
    auto colon = value.substr(0, eq == std::string::npos ? value.size() : eq).find(':');
    size_t key_start = colon == std::string::npos ? 0 : colon + 1;
    if (eq == std::string::npos || eq == key_start || colon == 0) {
      return invalid_input(
          "--environment-label must be KEY=VALUE or ENVIRONMENT:KEY=VALUE, e.g. "
          "plumbline.dev/env-type=prod, got '" +
          value + "'");
    }
    Labels& labels = colon == std::string::npos ? o.environment_labels
                                                : o.labels_of_environment[value.substr(0, colon)];
    labels[value.substr(key_start, eq - key_start)] = value.substr(eq + 1);
  } else if (name == "scope") {
    auto items = split_list(value);
    o.scope.insert(o.scope.end(), items.begin(), items.end());
  } else if (name == "format")
    o.format = value;
  else if (name == "output")
    o.output = value;
  else if (name == "environment") {
    auto items = split_list(value);
    if (o.command == "compare" || o.command == "pr-comment")
      o.environments.insert(o.environments.end(), items.begin(), items.end());
    else
      o.environment = value;
  } else if (name == "color") {
    if (value != "auto" && value != "always" && value != "never") {
      return invalid_input("--color must be auto, always or never, got '" + value + "'");
    }
    o.color = value;
  } else if (name == "quiet")
    o.quiet = true;
  else if (name == "live-kinds") {
    auto items = split_list(value);
    if (items.empty())
      return invalid_input("--live-kinds needs kinds, e.g. Deployment,StatefulSet");
    o.live_kinds.insert(o.live_kinds.end(), items.begin(), items.end());
  } else if (name == "allow-empty")
    o.allow_empty = true;
  else if (name == "base")
    o.base = value;
  else if (name == "head")
    o.head = value;
  else if (name == "provider") {
    if (value != "github" && value != "gitlab" && value != "gitea") {
      return invalid_input("--provider must be github, gitlab or gitea, got '" + value + "'");
    }
    o.provider = value;
  } else if (name == "repository")
    o.repository = value;
  else if (name == "pr") {
    long n = parse_number(value).value_or(0);
    if (n <= 0) {
      return invalid_input("--pr must be a pull (merge) request number, got '" + value + "'");
    }
    o.pr = n;
  } else if (name == "api-url")
    o.api_url = value;
  else if (name == "token-env")
    o.token_env = value;
  return {};
}

}  // namespace

Result<CliOptions> parse_args(const std::vector<std::string>& args) {
  CliOptions o;
  if (args.empty()) {
    o.command = "help";
    return o;
  }
  const std::string& first = args[0];
  if (first == "-h" || first == "--help" || first == "help") {
    o.command = "help";
    if (args.size() > 1) o.help_topic = args[1];
    return o;
  }
  if (first == "version" || first == "--version") {
    o.command = "version";
    return o;
  }
  static const std::vector<std::string> kCommands = {"diff",   "compare",    "check",
                                                     "render", "pr-comment", "controller"};
  if (std::find(kCommands.begin(), kCommands.end(), first) == kCommands.end()) {
    return invalid_input(
        "unknown command '" + first +
        "' (commands: diff, compare, check, render, pr-comment, controller; see `plumbline "
        "--help`)");
  }
  o.command = first;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "-h" || arg == "--help") {
      o.help_topic = o.command;
      o.command = "help";
      return o;
    }
    if (arg == "--") {  // the render command: everything after it, as it is
      if (o.command == "controller") {
        return invalid_input(
            "`plumbline controller` takes no render command (Environments name theirs)");
      }
      o.render_command.assign(args.begin() + static_cast<long>(i) + 1, args.end());
      if (o.render_command.empty()) return invalid_input("-- must be followed by a render command");
      break;
    }
    if (arg.rfind("--", 0) != 0) {
      return invalid_input("unexpected argument '" + arg +
                           "' (flags start with --; see `plumbline " + o.command + " --help`)");
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (name == "no-color") {
      o.color = "never";
      continue;
    }
    auto spec = std::find_if(flag_specs().begin(), flag_specs().end(),
                             [&](const FlagSpec& s) { return s.name == name; });
    if (spec == flag_specs().end() || std::find(spec->commands.begin(), spec->commands.end(),
                                                o.command) == spec->commands.end()) {
      return invalid_input("unknown flag --" + name + " for `plumbline " + o.command +
                           "` (see `plumbline " + o.command + " --help`)");
    }
    if (spec->takes_value && !value) {
      if (i + 1 >= args.size()) return invalid_input("flag --" + name + " needs a value");
      value = args[++i];
    }
    if (!spec->takes_value && value) return invalid_input("flag --" + name + " takes no value");
    PL_RETURN_IF_ERROR(set_flag(o, name, value.value_or("")));
  }
  return o;
}

}  // namespace plumbline::app
