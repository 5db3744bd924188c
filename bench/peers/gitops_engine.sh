#!/usr/bin/env bash
# Argo CD's diff (gitops-engine, bench/peers/gitops-engine) on one corpus of
# bench/gen_corpus.py: the one-file desired state against live.json, timed with GNU time.
#
#   bench/peers/gitops_engine.sh CORPUS_DIR
#
# Prints one line: wall_seconds peak_rss_mb drifted_objects_found planted_objects
# noise_objects compared_pairs (noise: objects it reports as modified that have no planted
# drift). The peer is built once with Go (>= the go line of its go.mod) into
# ~/.cache/plumbline/bench/ and rebuilt when its sources change.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../time_figures.sh"
corpus=$1
cache="${XDG_CACHE_HOME:-$HOME/.cache}/plumbline/bench"
stamp=$(cat "$here/gitops-engine/go.mod" "$here/gitops-engine/go.sum" "$here/gitops-engine/main.go" | sha256sum | cut -c1-16)
peer="$cache/gitops-engine-diff-$stamp"
if [ ! -x "$peer" ]; then
  command -v go >/dev/null || { echo "gitops_engine.sh: needs Go to build the peer" >&2; exit 2; }
  mkdir -p "$cache"
  echo "building gitops-engine's diff (first run: a few minutes)" >&2
  (cd "$here/gitops-engine" && go build -o "$peer.tmp" .) && mv "$peer.tmp" "$peer"
fi
/usr/bin/time -v -o "$corpus/time-gitops-engine.txt" "$peer" "$corpus/repo/single/all.yaml" \
  "$corpus/live.json" >"$corpus/report-gitops-engine.json" 2>"$corpus/stderr-gitops-engine.txt" || {
  echo "gitops_engine.sh: the peer failed:" >&2; cat "$corpus/stderr-gitops-engine.txt" >&2; exit 1; }
wall_s=$(wall_seconds "$corpus/time-gitops-engine.txt")
rss=$(peak_rss_mb "$corpus/time-gitops-engine.txt")
counts=$(python3 - "$corpus/report-gitops-engine.json" "$corpus/planted.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
planted = {(p["namespace"], p["name"]) for p in json.load(open(sys.argv[2]))}
flagged = {(m["namespace"], m["name"]) for m in report["modified"]}
if report["compared"] == 0:
    sys.exit("gitops_engine.sh: the peer compared no pair")
print(len(flagged & planted), len(planted), len(flagged - planted), report["compared"])
PY
)
echo "$wall_s $rss $counts"
