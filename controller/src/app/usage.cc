#include "app/cli.h"

namespace plumbline::app {

std::string usage(const std::string& topic) {
  if (topic == "diff") {
    return R"(plumbline diff — compare one environment in Git with the live state

Usage:
  plumbline diff --repo REPO --path PATH --live FILE [flags]
  plumbline diff --repo REPO --path PATH --live cluster [--kubeconfig F] [--context C]

Git:
  --repo REPO        a local repository or directory, or a URL: https://…, ssh://…,
                     git@host:org/ops.git, file://…  (remote repos are cached and fetched)
  --ref REF          branch, tag or commit (default: the remote HEAD; HEAD for a local repo)
  --path PATH        the environment's folder in the repo, e.g. envs/prod
  --render MODE      auto (kustomize if PATH has a kustomization, else helm if it has a
                     Chart.yaml, else plain) | plain | kustomize | helm | command
  --cache-dir DIR    where remote repos are cached (default $XDG_CACHE_HOME/plumbline/git);
                     when given, also where the parses of Git files are kept (DIR/parses),
                     so the next run parses only the files that changed. Files holding
                     values plumbline masks (Secret data, secret-named env) are not kept
  --git-cache-max-bytes N  the most one repository's cache may hold, e.g. 512Mi (default)
  kustomize remote bases (resources: [https://host/org/bases.git//web?ref=v1]) are
                     fetched like --repo, into its cache; credentials go only to
                     PLUMBLINE_GIT_HOST, else --repo's host; a base not pinned to a tag or
                     commit is a warning in the report
  --verify-ssh-allowed-signers FILE  the commit must carry an SSH signature (gpg.format=ssh)
                     by a key in FILE (git's allowed_signers format), else exit 2
  --verify-openpgp-keys FILE  the commit must carry an OpenPGP signature by one of the
                     public keys in FILE (armored or binary, e.g. `gpg --export -a`), else exit 2

Rendering with programs (--render helm, kustomize helmCharts, --render command):
  --helm PROGRAM     the helm binary: a path, or a name looked up on PATH (default helm)
  --helm-values FILE a values file, a path in the repository from its root (repeatable,
                     applied in order after the chart's values.yaml)
  --helm-release NAME   the release name (default: the chart folder's name)
  --helm-namespace NS   the release namespace (.Release.Namespace; default helm's)
  --render-timeout DUR  kill helm or the render command after this long (default 60s)
  --max-render-bytes SIZE  --max-render-files N  --max-render-objects N
                     what one render may read and produce (defaults 64Mi, 20000 files,
                     50000 objects): raise them for a very large environment
  --jobs N           parse plain YAML and compare objects on up to N threads (files side
                     by side, a large file in parts; default: the CPUs plumbline may use,
                     at most 8)
  -- COMMAND ARG...  with --render command: the renderer and its arguments, everything
                     after `--`, run without a shell in a copy of the repository at PATH;
                     its stdout is read as YAML, e.g. --render command -- kustomize build .
  helm runs as `helm template` on a private copy of the chart (dependencies from its
  charts/ folder; nothing is pulled), with an empty HOME and helm config, HTTP(S) proxies
  at a closed loopback port (no network), a memory limit and a 64 MiB output cap; a
  failure names the program, its exit status and the last lines of its stderr, and
  nothing of its output is used.

Live state:
  --live FILE        `kubectl get deploy,sts,ds,cronjob -o yaml` output (a List or
                     multi-document YAML/JSON); '-' reads standard input
  --live cluster     read the cluster: one LIST per kind and namespace of the rendered
                     objects (read-only: needs get/list on those kinds, nothing else)
  --kubeconfig FILE  with --live cluster (default: $KUBECONFIG, then ~/.kube/config, then
                     the in-cluster service account); token, tokenFile, client
                     certificates and exec credential plugins are supported
  --context NAME     the kubeconfig context (default: current-context)
  --timeout DUR      deadline of each API call, retries included (default 30s)
  --live-kinds LIST  the kinds --live FILE covers, e.g. Deployment,StatefulSet: a desired
                     object of a listed kind that the file lacks is object-missing; objects
                     of other kinds are listed in the report as not compared. Without it, a
                     desired kind the file has no object of is an error (exit 2)
  --allow-empty      accept comparing nothing, or kinds the snapshot does not cover (they
                     are listed in the report as not compared)

Policy and scope:
  --policy FILE      a ConsistencyPolicy file (repeatable); scope, ignores and rules
  --scope LIST       categories to compare, comma-separated (default: resources,env,selinux,
                     seccomp,capabilities,identity,runtime; opt-in: image,replicas,labels)
  --environment NAME the environment's name in the report and for policies
                     (default: the last component of --path)
  --environment-label KEY=VALUE, --git-policies PATH   as for `plumbline check`

Output:
  --format FORMAT    text | json | markdown | sarif   (default text)
  --output FILE      write the report to FILE instead of standard output
  --color WHEN       auto | always | never  (--no-color = never; NO_COLOR is honoured)
  --quiet            no progress messages on standard error

Exit status: 0 consistent, 1 drift or policy violations, 2 error (also: nothing compared,
or desired kinds the snapshot does not cover, without --live-kinds or --allow-empty).
Warnings (a policy for no environment checked, an ignore rule that matched nothing) are in
the report and do not change the exit status.

Example:
  plumbline diff --repo . --path manifests/envs/prod --live manifests/live/prod.yaml \
      --live-kinds Deployment,StatefulSet,DaemonSet,CronJob \
      --policy policies/samples/prod-baseline.yaml
)";
  }
  if (topic == "controller") {
    return R"(plumbline controller — keep a DriftReport per Environment up to date, in a cluster

Usage:
  plumbline controller [--kubeconfig FILE] [--context NAME] [flags]

Reads Environment and ConsistencyPolicy resources (plumbline.dev/v1alpha1; install the CRDs
with `kubectl apply -f policies/crds/`), watches the workloads of every namespace, polls Git
per environment at spec.interval, and writes a DriftReport (named like the Environment),
the Environment's status and Events on drifted objects — only when they change. A fetch or
render failure keeps the last good state and sets the Stale and Degraded conditions.

Flags:
  --kubeconfig FILE        default: $KUBECONFIG, ~/.kube/config, then in-cluster
  --context NAME           the kubeconfig context (default: current-context)
  --report-namespace NS    the controller's namespace: DriftReports, the leader Lease and the
                           Secrets of spec.source.secretRef (default: the pod's namespace,
                           else plumbline-system)
  --cache-dir DIR          where Git repositories are cached
  --log-level LEVEL        debug | info | warn | error (JSON lines on stderr; default info)
  --listen ADDR            /metrics, /healthz, /readyz (default :8080; 127.0.0.1:0 picks a port)
  --webhook-secret-file FILE  serve Git webhooks (POST /webhooks/git on --webhook-listen)
                           signed with the secret in FILE (GitHub, Gitea, GitLab)
  --webhook-secret-env VAR the same, with the secret in environment variable VAR
  --webhook-listen ADDR    the webhook port (default :8081), apart from /metrics
  --leader-elect           run as one of several replicas: only the holder of the Lease
                           plumbline-controller (in the report namespace) writes; it is
                           released on SIGTERM so a standby takes over at once
  --dry-run                enforce-mode environments report `would-correct` (each correction
                           validated by the server with dryRun=All) and change nothing
  --enforce-namespaces NS,…  the only namespaces enforce mode may write to (default: any);
                           drift elsewhere is reported, never corrected
  --no-enforce             no corrections at all: enforce-mode Environments only report
  --allow-system-namespaces  allow corrections in kube-system, kube-public, kube-node-lease and
                           the controller's own namespace (refused by default)
  --allow-local-sources    accept local paths and file:// in spec.source.url (refused by
                           default: they read the controller's own filesystem)
  --default-service-account NAME  enforce mode writes (by impersonation) as this ServiceAccount
                           of the controller's namespace for Environments without
                           spec.serviceAccountName (none by default: they only report)
  --allow-http-git-credentials  send Git credentials over http:// (refused by default: they
                           would cross the network in clear; for test and lab setups)
  --workers N              reconcile up to N Environments at once (default 4, at most 64)
  --max-render-bytes SIZE, --max-render-files N, --max-render-objects N
                           what one Environment's render may read and produce (defaults
                           64Mi, 20000 files, 50000 objects)
  --jobs N                 threads one Environment's plain render and full evaluation run
                           on (default: the CPUs of the pod's CPU limit or the node, at most 8)
  --git-timeout DUR        deadline of one Environment's fetch; the fetch process is killed
                           then (default 120s)
  --render-timeout DUR     deadline of one Environment's render, helm and render commands
                           included (default 60s)
  --watch-idle-timeout DUR reopen a watch that received nothing, not even the apiserver's
                           minute bookmark, for this long: a connection stuck open
                           (default 150s)
  --helm PROGRAM           the helm binary for render type helm and kustomize helmCharts: a
                           path, or a name looked up on PATH (default helm)
  --allow-render-commands  let Environments use render type command (refused by default: it
                           runs a program of the Environment's choosing in the controller)
  --git-cache-max-bytes N  the most one repository's cache may hold, e.g. 512Mi (default)

Git credentials: as for `plumbline diff` (PLUMBLINE_GIT_TOKEN, …), and PLUMBLINE_GIT_HOST
must name their host. Stops on SIGTERM/SIGINT.
)";
  }
  if (topic == "compare") {
    return R"(plumbline compare — compare two environments of one repository

Usage:
  plumbline compare --repo REPO --path PATH_A --path PATH_B [flags]

Objects are matched by kind and base name (before namePrefix/nameSuffix); namespaces,
name prefixes and generator hash suffixes are never differences. A difference is allowed
when a policy's crossEnvironment.mayDiffer lists its category.

Flags:
  --repo, --ref, --render, --cache-dir, --helm…, --render-timeout, -- COMMAND,
                                         --verify-…   as for `plumbline diff`
  --path PATH        give it twice: the first and the second environment
  --environment A,B  names of the two environments (default: last path components)
  --policy FILE      ConsistencyPolicy files (repeatable)
  --environment-label [ENV:]KEY=VALUE  a label of both environments, or with ENV: (one of
                     the two names) of that one only (repeatable), for policies that select
                     environments by type (spec.environmentSelector), e.g.
                     --environment-label staging:plumbline.dev/env-type=staging
                     --environment-label prod:plumbline.dev/env-type=prod
  --scope LIST       categories to compare (default as for diff)
  --format, --output, --color, --quiet   as for `plumbline diff`
  --allow-empty      accept two environments with no objects (else exit 2)

Exit status: 0 no difference beyond what policies allow, 1 differences or violations, 2 error.

Example:
  plumbline compare --repo . --path manifests/envs/staging --path manifests/envs/prod \
      --policy policies/samples/prod-baseline.yaml
)";
  }
  if (topic == "check") {
    return R"(plumbline check — check an environment's desired state against its policies (CI)

Usage:
  plumbline check --repo REPO --path PATH --policy FILE [--policy FILE]... [flags]
  plumbline check --repo REPO --path PATH --git-policies PATH [--environment-label K=V]...

Renders PATH as `plumbline diff` does and checks every rendered object against the rules of
the policies that apply to the environment. It reads no cluster: run it in the pipeline,
before a merge, on the commit under review (a violation found here never reaches a cluster).
Violations point at the file and line in Git that declares the offending field.

Git:
  --repo, --ref, --path, --render, --cache-dir, --helm…, --render-timeout, -- COMMAND,
                                         --verify-…   as for `plumbline diff`

Policies:
  --policy FILE      a ConsistencyPolicy file (repeatable)
  --git-policies PATH  a folder of ConsistencyPolicy files in --repo, read at the same
                     revision as the manifests (what an Environment's spec.policies.path binds)
                     At least one policy must apply to the environment and have rules.
  --environment NAME the environment's name for spec.environments and the report
                     (default: the last component of --path)
  --environment-label KEY=VALUE  a label of the environment (repeatable), for policies that
                     select environments by type: spec.environmentSelector, e.g.
                     --environment-label plumbline.dev/env-type=prod (ENV:KEY=VALUE is
                     accepted too when ENV is the environment's name)

Output:
  --format FORMAT    text | json | markdown | sarif   (default text; SARIF results point at
                     the manifest line, for code-scanning annotations on the pull request)
  --output FILE      write the report to FILE instead of standard output
  --color WHEN       auto | always | never  (--no-color = never; NO_COLOR is honoured)
  --quiet            no progress messages on standard error

Exit status: 0 the desired state meets every rule, 1 policy violations, 2 error — also when
nothing could be checked: PATH renders no object, no policy applies to the environment, or
the policies that apply have no rules. A check never passes by accident.

Example (a pipeline step that blocks the merge on exit 1):
  plumbline check --repo . --path manifests/envs/prod \
      --policy policies/samples/prod-baseline.yaml \
      --policy policies/samples/prod-governance.yaml --format sarif --output check.sarif
)";
  }
  if (topic == "pr-comment") {
    return R"(plumbline pr-comment — what a pull request changes, as one comment per environment

Usage:
  plumbline pr-comment --repo REPO --base REF --head REF --path PATH [--path PATH]...
      --provider github|gitlab|gitea --repository OWNER/NAME|ID --pr N [flags]

For each --path, renders the environment at the PR's base and head and comments: the
in-scope fields the PR changes (base -> head), what the cluster has now for them (with
--live: "already live, set by hand by kubectl-edit"), the policy violations the PR
introduces or fixes, and the differences with the other --path environments it creates or
removes. Each comment starts with a hidden marker (<!-- plumbline:pr-comment env=NAME -->)
and is updated in place on every push, never duplicated. Long comments fold into <details>
and stay under the forge's limit (GitHub 65,536 characters; GitLab and Gitea 1,000,000),
with a notice of what was left out. Nothing is posted when a revision, a render or the live
state fails to load.

Flags:
  --repo, --render, --cache-dir, --helm…, --render-timeout, -- COMMAND,
                                   --verify-…   as for `plumbline diff`
  --base REF, --head REF           the PR's two revisions (branch, tag or commit)
  --path PATH                      an environment's folder (repeatable)
  --environment A,B,…              names for the paths (default: last path components)
  --live cluster|FILE              also show the live state of the changed fields
                                   (--kubeconfig, --context, --timeout, --live-kinds and
                                   --allow-empty as for `plumbline diff`)
  --policy FILE, --scope LIST      as for `plumbline diff`
  --provider NAME                  github | gitlab | gitea
  --repository R                   OWNER/NAME (GitHub, Gitea); project id or path (GitLab)
  --pr N                           the pull request number (GitLab: the merge request iid)
  --api-url URL                    default https://api.github.com, https://gitlab.com/api/v4;
                                   required for Gitea (https://gitea.example)
  --token-env VAR                  the variable holding the token (default GITHUB_TOKEN,
                                   GITLAB_TOKEN or GITEA_TOKEN); never printed, sent only to
                                   --api-url over https:// (http:// to loopback only)
  --dry-run                        print the comments instead of posting them
  --output FILE                    also write the comments to FILE
  --quiet                          no progress messages on standard error

Exit status: 0 posted (or printed), 2 error (nothing posted).

Example (GitHub Actions, on pull_request):
  plumbline pr-comment --repo . --base "$BASE_SHA" --head "$HEAD_SHA" \
      --path manifests/envs/staging --path manifests/envs/prod \
      --policy policies/samples/prod-baseline.yaml \
      --provider github --repository "$GITHUB_REPOSITORY" --pr "$PR_NUMBER"
)";
  }
  if (topic == "render") {
    return R"(plumbline render — print the rendered desired state of one environment (debugging)

Usage:
  plumbline render --repo REPO --path PATH [--ref REF] [--render MODE] [--output FILE]
                   [--helm PROGRAM] [--helm-values FILE] [--helm-release NAME]
                   [--helm-namespace NS] [--render-timeout DUR] [-- COMMAND ARG...]

Rendering flags as for `plumbline diff`. Prints multi-document YAML, as `kubectl kustomize` would. Secret data and secret-looking
env values are redacted.
)";
  }
  return R"(plumbline — keep Kubernetes workloads consistent with what Git declares

plumbline compares the runtime-relevant settings of workloads (resource requests and limits,
environment variables, SELinux, seccomp, capabilities, run-as identity, sysctls and runtime
settings) between Git and the cluster, and between environments — field by field, normalized,
with no noise from server defaults.

Usage:
  plumbline diff     --repo REPO --path PATH --live FILE   Git vs the live state
                     (--live cluster reads it from the cluster of a kubeconfig)
  plumbline compare  --repo REPO --path A --path B         environment vs environment
  plumbline check    --repo REPO --path PATH --policy F    the desired state vs its policies
                     (no cluster: the pipeline step before a merge)
  plumbline render   --repo REPO --path PATH               the rendered desired state
  plumbline pr-comment --repo R --base B --head H --path P ...  comment on a pull request
  plumbline controller [--kubeconfig F]                    in-cluster: DriftReport per Environment
  plumbline version
  plumbline help COMMAND                                   flags of one command

Exit status: 0 consistent, 1 drift or policy violations, 2 error.
)";
}

}  // namespace plumbline::app
