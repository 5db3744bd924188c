#!/usr/bin/env python3
"""The long fuzz run: every libFuzzer target at once, each until it has had its CPU time.

    scripts/fuzz --long [CPU_SECONDS]     (builds first; default 1800 s, i.e. 30 CPU minutes)

A target is stopped (SIGINT, so libFuzzer prints its final stats) once its own CPU time reaches
the budget, not its wall time: on a shared machine every target still gets its full half hour
of fuzzing, however many others run beside it. A target that exits before that has found a
failing input; the run then fails and names the artifact. The table (Markdown) goes to stdout
and to build-fuzz/fuzz-long.md.
"""
import glob
import os
import re
import signal
import subprocess
import sys
import time

BUILD = "build-fuzz"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime, fields 14 and 15 of stat(5); the split above starts at field 3.
    return (int(fields[11]) + int(fields[12])) / TICKS


def seeds_for(name):
    seeds = f"fuzz/corpus/{name[: -len('_fuzz')]}"
    return seeds if os.path.isdir(seeds) else "fuzz/corpus/yaml"


def stat(log, key):
    found = re.findall(rf"^stat::{key}:\s+(\d+)", log, re.M)
    return int(found[-1]) if found else None


def main():
    budget = float(sys.argv[1]) if len(sys.argv) > 1 else 1800.0
    targets = sorted(glob.glob(f"{BUILD}/fuzz/*_fuzz"))
    if not targets:
        sys.exit(f"no fuzz targets under {BUILD}/fuzz: build them first (scripts/fuzz --long)")
    runs = {}
    for target in targets:
        name = os.path.basename(target)
        corpus = f"{BUILD}/corpus-{name}"
        os.makedirs(corpus, exist_ok=True)
        for old in glob.glob(f"{BUILD}/long-{name}-*"):
            os.remove(old)
        log = open(f"{BUILD}/long-{name}.log", "w")
        proc = subprocess.Popen(
            [target, "-runs=-1", "-max_total_time=0", "-timeout=10", "-rss_limit_mb=2048",
             "-print_final_stats=1", f"-artifact_prefix={BUILD}/long-{name}-", corpus,
             seeds_for(name)],
            stdout=log, stderr=subprocess.STDOUT)
        runs[name] = {"proc": proc, "start": time.monotonic(), "cpu": 0.0, "wall": None,
                      "stopped": False}
    print(f"fuzzing {len(runs)} targets, {budget:.0f} CPU seconds each", flush=True)
    last_report = time.monotonic()
    while any(r["wall"] is None for r in runs.values()):
        time.sleep(2)
        for name, r in runs.items():
            if r["wall"] is not None:
                continue
            if r["proc"].poll() is not None:
                r["wall"] = time.monotonic() - r["start"]
                continue
            try:
                r["cpu"] = cpu_seconds(r["proc"].pid)
            except (FileNotFoundError, ProcessLookupError):
                continue
            if r["cpu"] >= budget and not r["stopped"]:
                r["stopped"] = True
                r["proc"].send_signal(signal.SIGINT)
        if time.monotonic() - last_report >= 300:
            last_report = time.monotonic()
            done = ", ".join(f"{n} {r['cpu'] / 60:.0f}m" for n, r in runs.items())
            print(f"  CPU so far: {done}", flush=True)

    rows = ["| target | CPU min | wall min | executions | exec/s (CPU) | corpus units added "
            "| peak RSS MB | result |", "|---|---|---|---|---|---|---|---|"]
    failed = []
    for name, r in runs.items():
        log = open(f"{BUILD}/long-{name}.log", errors="replace").read()
        execs = stat(log, "number_of_executed_units")
        artifacts = glob.glob(f"{BUILD}/long-{name}-*")
        ok = r["stopped"] and not artifacts
        if not ok:
            failed.append(name)
        result = "0 crashes" if ok else ("failing input: " + ", ".join(artifacts) if artifacts
                                         else f"exited early ({r['proc'].returncode})")
        rate = f"{execs / r['cpu']:.0f}" if execs and r["cpu"] else "?"
        rows.append(f"| {name} | {r['cpu'] / 60:.1f} | {r['wall'] / 60:.1f} | {execs or '?'} "
                    f"| {rate} | {stat(log, 'new_units_added') or 0} "
                    f"| {stat(log, 'peak_rss_mb') or '?'} | {result} |")
    table = "\n".join(rows) + "\n"
    with open(f"{BUILD}/fuzz-long.md", "w") as f:
        f.write(table)
    print(table)
    if failed:
        sys.exit(f"fuzzing failed for: {', '.join(failed)} (logs: {BUILD}/long-<target>.log)")


if __name__ == "__main__":
    main()
