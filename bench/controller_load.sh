#!/usr/bin/env bash
# The controller under load, on a real kube-apiserver (issues 12 and 13):
#
#   bench/controller_load.sh [build/plumbline] [N]        # default N: 10000
#
# 1. gen_corpus.py N (seeded; reused from $BENCH_DIR/N) and a kube-testenv apiserver with its
#    audit log on; the N Deployments created in it exactly as Git declares them.
# 2. `plumbline controller` started with one Environment over them (report mode, plain render
#    of the corpus' $LOAD_LAYOUT path): time to the first DriftReport.
# 3. A client-go informer caching the same Deployments (the Go peer's memory).
# 4. $LOAD_REST_SECONDS at rest: the controller's API requests, counted by the apiserver.
# 5. $LOAD_RATE changes per minute for $LOAD_MINUTES (bench/load: a drift planted in, or
#    reverted from, one Deployment's env): change-to-report latency p50/p99 per minute, the
#    controller's CPU and RSS every 5 s, its API requests per change.
#
#   LOAD_RATE=1000 LOAD_MINUTES=10 LOAD_REST_SECONDS=60 LOAD_LAYOUT=single BENCH_DIR=/tmp/plumbline-bench
#   LOAD_STARTS=3   # that many starts before step 2, each to its first DriftReport (starts.txt)
#   LOAD_START_BINS="OLD NEW"  # the starts alternate between these binaries (an A/B on one
#                              # apiserver); default: the binary measured
#
# Needs Go (bench/load and the test apiserver are built with it, cached in ~/.cache), python3
# and git. Takes LOAD_MINUTES + ~5 minutes at 10k (more the first time Go builds).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
bin="$(realpath "${1:-$root/build/plumbline}")"
n="${2:-10000}"
rate="${LOAD_RATE:-1000}"
minutes="${LOAD_MINUTES:-10}"
rest="${LOAD_REST_SECONDS:-60}"
layout="${LOAD_LAYOUT:-single}"
bench_dir="${BENCH_DIR:-/tmp/plumbline-bench}"
[ -x "$bin" ] || { echo "controller_load.sh: no plumbline binary at $bin (build it first)" >&2; exit 1; }

cache="${XDG_CACHE_HOME:-$HOME/.cache}/plumbline"
export PATH="$cache/kube-testenv:$PATH"
stamp=$(cat "$here/load/go.mod" "$here/load/go.sum" "$here/load/"*.go | sha256sum | cut -c1-16)
driver="$cache/bench/plumbline-load-$stamp"
if [ ! -x "$driver" ]; then
  echo "building the load driver (bench/load) ..." >&2
  mkdir -p "$cache/bench"
  (cd "$here/load" && CGO_ENABLED=0 go build -o "$driver.tmp" . && mv "$driver.tmp" "$driver")
fi

corpus="$bench_dir/$n"
[ -f "$corpus/repo/single/all.yaml" ] || python3 "$here/gen_corpus.py" "$n" "$corpus" --seed 1
out="$bench_dir/load-$n-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
state=$(mktemp -d /tmp/plumbline-load-XXXXXX)
controller_pid=""
sampler_pid=""
daemon_pid=""
watch_pid=""
cleanup() {
  [ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null || true
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null || true
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null || true
  [ -n "$controller_pid" ] && kill "$controller_pid" 2>/dev/null && wait "$controller_pid" 2>/dev/null || true
  "$root/tests/kube-testenv/stop" "$state/kube" >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 143' INT TERM

# The audit log records every request with its user agent: the controller's are "plumbline".
cat >"$state/audit-policy.yaml" <<'YAML'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
YAML
echo "starting the test apiserver ..." >&2
PLUMBLINE_TESTENV_WATCH_PID=$$ "$root/tests/kube-testenv/start" "$state/kube" -- --allow-privileged=true \
  --audit-policy-file="$state/audit-policy.yaml" --audit-log-path="$out/audit.log" \
  --audit-log-mode=batch --audit-log-maxsize=0 >/dev/null
kubeconfig="$state/kube/kubeconfig"
kubectl --kubeconfig "$kubeconfig" apply -f "$root/policies/crds/" >/dev/null
kubectl --kubeconfig "$kubeconfig" create namespace plumbline-system >/dev/null
"$driver" create --kubeconfig "$kubeconfig" --objects "$corpus/repo/single/all.yaml" | tee "$out/create.txt"

# The repository is served by a Git server (git daemon), as a cluster's controller fetches it:
# over file:// libgit2 would pack the whole repository itself (~10 s at 10k, no server does).
git_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
git daemon --reuseaddr --export-all --base-path="$corpus" --listen=127.0.0.1 --port="$git_port" \
  "$corpus" 2>"$out/git-daemon.log" &
daemon_pid=$!
for _ in $(seq 1 50); do git ls-remote "git://127.0.0.1:$git_port/repo" >/dev/null 2>&1 && break; sleep 0.1; done
branch=$(git -C "$corpus/repo" symbolic-ref --short HEAD)
namespaces=$(python3 -c "import sys,re; print(', '.join(sorted(set(re.findall(r'^  namespace: (\S+)', open(sys.argv[1]).read(), re.M)))))" "$corpus/repo/single/all.yaml")
kubectl --kubeconfig "$kubeconfig" apply -f - >/dev/null <<YAML
apiVersion: plumbline.dev/v1alpha1
kind: Environment
metadata: {name: load}
spec:
  source: {url: "git://127.0.0.1:$git_port/repo", ref: $branch, path: $layout}
  render: {type: plain}
  namespaces: [$namespaces]
  interval: 10m
YAML

now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN {printf "%.1f", a-b}'; }
# The DriftReports' revisions as one watch sees them, a line per event, into the file $1. One
# watch, not a kubectl process every few hundred ms: each such poll costs ~0.1 s of CPU on the
# two cores the controller's start is measured on. Started a second before the controller, so
# it is established before the first report can be written.
watch_reports() {
  kubectl --kubeconfig "$kubeconfig" get driftreports -n plumbline-system --watch \
    -o jsonpath='{.status.source.revision}{"\n"}' >"$1" 2>/dev/null &
  watch_pid=$!
  sleep 1
}
# Seconds from $1 to the first report with a revision in the file $2, polling the file (cheap)
# every 50 ms; "" when the controller ($3) exits first, its log ($4) says it could not load
# the desired state, or after 600 s. Stops the watch.
first_report_after() {
  local t0=$1 seen=$2 pid=$3 log=$4 first=""
  for _ in $(seq 1 12000); do
    kill -0 "$pid" 2>/dev/null || break
    if grep -q '[0-9a-f]' "$seen"; then first=$(since "$t0"); break; fi
    grep -q '"desired state not loaded' "$log" && break
    sleep 0.05
  done
  kill "$watch_pid" 2>/dev/null; wait "$watch_pid" 2>/dev/null || true
  echo "$first"
}

# Seconds from $1 to the controller's first "caches synced", "desired state loaded" and
# "DriftReport updated" lines in the log $2 (its JSON lines carry ms timestamps).
timeline() {
  python3 - "$1" "$2" <<'PY'
import datetime, json, sys
t0, marks = float(sys.argv[1]), {}
for line in open(sys.argv[2], errors="replace"):
    try:
        entry = json.loads(line)
    except ValueError:
        continue
    msg = entry.get("msg")
    if msg in ("caches synced", "desired state loaded", "DriftReport updated") and msg not in marks:
        ts = datetime.datetime.fromisoformat(entry["ts"].replace("Z", "+00:00")).timestamp()
        marks[msg] = f"{msg} {ts - t0:.1f} s"
        if "fetchSeconds" in entry:
            marks[msg] += f" (fetch {entry['fetchSeconds']:.1f} s, render {entry['renderSeconds']:.1f} s)"
print(", ".join(marks.values()))
PY
}

# $LOAD_STARTS earlier starts (default 0), each stopped 10 s after its first DriftReport: the
# time to the first report varies by a second or more from start to start on 2 shared cores.
start_bins="${LOAD_START_BINS:-$bin}"
for start in $(seq 1 "${LOAD_STARTS:-0}"); do
  b=0
  for start_bin in $start_bins; do
  b=$((b + 1))
  label="$start"
  log="$out/controller-start-$start.log"
  if [ "$start_bins" != "$bin" ]; then
    label="$start ($start_bin)"
    log="$out/controller-start-$start-bin$b.log"
  fi
  kubectl --kubeconfig "$kubeconfig" delete driftreport load -n plumbline-system --ignore-not-found >/dev/null
  watch_reports "$state/watch-start.txt"
  t0=$(now)
  "$start_bin" controller --kubeconfig "$kubeconfig" --cache-dir "$state/cache-start" --listen 127.0.0.1:0 \
    --report-namespace plumbline-system 2>"$log" &
  controller_pid=$!
  first=$(first_report_after "$t0" "$state/watch-start.txt" "$controller_pid" "$log")
  if [ -z "$first" ]; then
    echo "start $label: no DriftReport (the controller exited, could not load the desired state, or 600 s passed):" >&2
    tail -20 "$log" >&2; exit 1
  fi
  sleep 10
  rss=$(awk '/^VmRSS:/ {printf "%.0f", $2/1024}' "/proc/$controller_pid/status")
  peak=$(awk '/^VmHWM:/ {printf "%.0f", $2/1024}' "/proc/$controller_pid/status")
  echo "start $label: first DriftReport after $first s ($(timeline "$t0" "$log")); RSS 10 s later $rss MB, peak $peak MB" | tee -a "$out/starts.txt" >&2
  kill "$controller_pid"; wait "$controller_pid" 2>/dev/null || true
  controller_pid=""
  rm -rf "$state/cache-start" "$state/watch-start.txt"
  done
done
kubectl --kubeconfig "$kubeconfig" delete driftreport load -n plumbline-system --ignore-not-found >/dev/null

watch_reports "$state/watch-load.txt"
t_start=$(now)
"$bin" controller --kubeconfig "$kubeconfig" --cache-dir "$state/cache" --listen 127.0.0.1:0 \
  --report-namespace plumbline-system 2>"$out/controller.log" &
controller_pid=$!
# RSS (MB) and CPU (user+system seconds) of the controller every second.
hz=$(getconf CLK_TCK)
(
  echo "t_s,rss_mb,cpu_s" >"$out/samples.csv"
  while kill -0 "$controller_pid" 2>/dev/null; do
    rss=$(awk '/^VmRSS:/ {printf "%.1f", $2/1024}' "/proc/$controller_pid/status" 2>/dev/null || echo 0)
    cpu=$(awk -v hz="$hz" '{printf "%.2f", ($14+$15)/hz}' "/proc/$controller_pid/stat" 2>/dev/null || echo 0)
    echo "$(awk -v a="$(now)" -v b="$t_start" 'BEGIN {printf "%.1f", a-b}'),$rss,$cpu" >>"$out/samples.csv"
    sleep 1
  done
) &
sampler_pid=$!

echo "waiting for the first DriftReport ..." >&2
first=$(first_report_after "$t_start" "$state/watch-load.txt" "$controller_pid" "$out/controller.log")
if [ -z "$first" ]; then
  echo "no DriftReport (the controller exited, could not load the desired state, or 600 s passed):" >&2
  tail -20 "$out/controller.log" >&2; exit 1
fi
kubectl --kubeconfig "$kubeconfig" get driftreport load -n plumbline-system -o json >"$out/first-report.json"
echo "first DriftReport after $first s" >&2

echo "a client-go informer over the same Deployments ..." >&2
"$driver" informer --kubeconfig "$kubeconfig" | tee "$out/informer.json"

t_rest=$(now)
echo "at rest for $rest s ..." >&2
sleep "$rest"
t_load=$(now)
"$driver" run --kubeconfig "$kubeconfig" --objects "$corpus/repo/single/all.yaml" --report load \
  --rate "$rate" --duration "${minutes}m" --csv "$out/changes.csv" | tee "$out/run.json"
t_end=$(now)
kill -0 "$controller_pid" 2>/dev/null || { echo "the controller exited during the run" >&2; exit 1; }
sleep 2   # the audit log's last batch

python3 "$here/load_summary.py" --out "$out" --n "$n" --rate "$rate" --minutes "$minutes" \
  --first "$first" --t-start "$t_start" --t-rest "$t_rest" --t-load "$t_load" --t-end "$t_end" \
  | tee "$out/summary.md"
echo "files: $out" >&2
