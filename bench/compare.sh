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
#
# Needs python3 and GNU time (/usr/bin/time; Debian: apt-get install time).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
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
      >"$out" 2>"$corpus/stderr-$layout.txt"
    status=$?
    set -e
    if [ "$status" -gt 1 ]; then
      echo "compare.sh: plumbline failed (exit $status) on N=$n $layout:" >&2
      cat "$corpus/stderr-$layout.txt" >&2
      exit 1
    fi
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$corpus/time-$layout.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$corpus/time-$layout.txt")
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
    wall_s=$(awk -v w="$wall" 'BEGIN { n = split(w, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }')
    rows+=("$(printf '| %6s | %-6s | %8s s | %7s MB | %s |' "$n" "$layout" "$wall_s" "$rss" "$check")")
  done
done
echo "| N | layout | wall | peak RSS | findings |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
