#!/usr/bin/env bash
# End-to-end benchmark of `plumbline diff` on generated corpora (bench/gen_corpus.py): wall
# time and peak RSS of
#   plumbline diff --repo R --path single --render plain --live live.json --format json
# (one big file) and of the same over one file per workload (--path split), at each N, and a
# check that the findings are exactly the planted drifts (found == planted, zero false).
#
#   bench/compare.sh [PLUMBLINE_BINARY] [N ...]      default: build/plumbline 1000 10000
#   BENCH_DIR=/tmp/plumbline-bench                   where corpora are generated (kept, reused)
#   BENCH_LAYOUTS="single split"                      which repo layouts to run
#   BENCH_PEERS=gitops-engine                         peers run on the same pairs (one-file
#                                                     layout; "" for none): Argo CD's diff
#                                                     (bench/peers/, needs Go the first time)
#
# Needs python3 and GNU time (/usr/bin/time; Debian: apt-get install time).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/time_figures.sh"
bin="${1:-$here/../build/plumbline}"
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000)
dir="${BENCH_DIR:-/tmp/plumbline-bench}"
layouts="${BENCH_LAYOUTS:-single split}"
[ -x /usr/bin/time ] || { echo "compare.sh: needs GNU time (apt-get install time)" >&2; exit 2; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

rows=()
for n in "${sizes[@]}"; do
  corpus="$dir/$n"
  [ -f "$corpus/planted.json" ] || python3 "$here/gen_corpus.py" "$n" "$corpus" >&2
  for layout in $layouts; do
    out="$corpus/report-$layout.json"
    set +e
    /usr/bin/time -v -o "$corpus/time-$layout.txt" "$bin" diff --repo "$corpus/repo" \
      --path "$layout" --render plain --live "$corpus/live.json" --format json --quiet \
      --scope resources,env,selinux,seccomp,capabilities,identity,runtime,image,replicas,labels \
      --max-render-bytes 4Gi --max-render-files 1000000 --max-render-objects 1000000 \
      >"$out" 2>"$corpus/stderr-$layout.txt"
    status=$?
    set -e
    if [ "$status" -gt 1 ]; then
      echo "compare.sh: plumbline failed (exit $status) on N=$n $layout:" >&2
      cat "$corpus/stderr-$layout.txt" >&2
      exit 1
    fi
    wall_s=$(wall_seconds "$corpus/time-$layout.txt")
    rss=$(peak_rss_mb "$corpus/time-$layout.txt")
    check=$(python3 - "$out" "$corpus/planted.json" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
planted = {(p["namespace"], p["name"], p["path"]) for p in json.load(open(sys.argv[2]))}
found = set()
for d in report.get("drifts", []):
    o = d.get("object", {})
    found.add((o.get("namespace", ""), o.get("name", ""), d.get("path", "")))
print(f"{len(found & planted)}/{len(planted)} found, {len(found - planted)} false,"
      f" {len(report.get('violations', []))} violations")
EOF
)
    rows+=("$(printf '| %6s | %-6s | %8s s | %7s MB | %s |' "$n" "$layout" "$wall_s" "$rss" "$check")")
  done
done
echo "| N | layout | wall | peak RSS | findings |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"

# Side by side with the peers, on the one-file layout: the same desired objects, the same
# live List. Objects, not fields: gitops-engine says whether an object differs.
peers="${BENCH_PEERS-gitops-engine}"
[ -n "$peers" ] || exit 0
echo
echo "| N | measure | plumbline | gitops-engine | plumbline advantage |"
echo "|---|---|---|---|---|"
for n in "${sizes[@]}"; do
  corpus="$dir/$n"
  [ -f "$corpus/time-single.txt" ] || { echo "compare.sh: side by side needs the single layout" >&2; exit 1; }
  read -r peer_wall peer_rss peer_found planted_objects peer_noise peer_pairs \
    < <("$here/peers/gitops_engine.sh" "$corpus")
  wall=$(wall_seconds "$corpus/time-single.txt")
  rss=$(peak_rss_mb "$corpus/time-single.txt")
  read -r found noise < <(python3 - "$corpus/report-single.json" "$corpus/planted.json" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
planted = {(p["namespace"], p["name"]) for p in json.load(open(sys.argv[2]))}
flagged = {(d["object"].get("namespace", ""), d["object"]["name"]) for d in report.get("drifts", [])}
print(len(flagged & planted), len(flagged - planted))
EOF
)
  awk -v n="$n" -v w="$wall" -v pw="$peer_wall" -v r="$rss" -v pr="$peer_rss" \
    'BEGIN { printf "| %s | wall | %.2f s | %.2f s | %.1fx faster |\n", n, w, pw, pw / w
             printf "| %s | peak RSS | %d MB | %d MB | %.1fx less |\n", n, r, pr, pr / r }'
  echo "| $n | drifted objects found | $found/$planted_objects | $peer_found/$planted_objects | |"
  echo "| $n | objects flagged without a planted drift (noise) | $noise | $peer_noise | |"
  echo "| $n | pairs compared | $n | $peer_pairs | |"
done
