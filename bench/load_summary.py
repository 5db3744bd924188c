#!/usr/bin/env python3
"""The figures of one bench/controller_load.sh run, as Markdown (read from its output dir)."""
import argparse
import csv
import datetime
import json
import os
from collections import Counter


def epoch(timestamp):
    return datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    for name in ("n", "rate", "minutes"):
        p.add_argument("--" + name, type=int, required=True)
    for name in ("first", "t-start", "t-rest", "t-load", "t-end"):
        p.add_argument("--" + name, type=float, required=True)
    a = p.parse_args()
    rest_s = a.t_load - a.t_rest

    samples = [(float(r["t_s"]), float(r["rss_mb"]), float(r["cpu_s"]))
               for r in csv.DictReader(open(os.path.join(a.out, "samples.csv"))) if float(r["rss_mb"]) > 0]
    if not samples:
        raise SystemExit("load_summary.py: no controller samples")

    def before(t):  # the last sample at or before t seconds after the start
        earlier = [s for s in samples if s[0] <= t]
        return earlier[-1] if earlier else samples[0]

    def after(t):  # the first sample at or after t
        later = [s for s in samples if s[0] >= t]
        return later[0] if later else samples[-1]

    def cpu_between(t0, t1):  # CPU seconds and the seconds they were measured over
        a0, a1 = after(t0), before(t1)
        return max(a1[2] - a0[2], 0.0), max(a1[0] - a0[0], 1e-9)

    def window(t0, t1):
        return [s for s in samples if t0 <= s[0] <= t1]

    rel = lambda t: t - a.t_start
    run = json.load(open(os.path.join(a.out, "run.json")))
    informer = json.load(open(os.path.join(a.out, "informer.json")))

    # The controller's requests as the apiserver's audit log recorded them, per phase.
    phases = {"startup": (a.t_start, a.t_start + a.first), "rest": (a.t_rest, a.t_load),
              "load": (a.t_load, a.t_end)}
    counts = {k: Counter() for k in phases}
    per_object = {k: 0 for k in phases}
    with open(os.path.join(a.out, "audit.log")) as log:
        for line in log:
            event = json.loads(line)
            if event.get("stage") != "ResponseComplete":
                continue
            if event.get("userAgent", "").split("/")[0] != "plumbline":
                continue
            t = epoch(event["requestReceivedTimestamp"])
            ref = event.get("objectRef", {})
            for phase, (t0, t1) in phases.items():
                if t0 <= t < t1:
                    counts[phase][f"{event['verb']} {ref.get('resource', event.get('requestURI', ''))}"] += 1
                    if ref.get("name") and ref.get("resource") in ("deployments", "statefulsets",
                                                                    "daemonsets", "pods", "replicasets"):
                        per_object[phase] += 1
    changes = max(run["changes"], 1)

    rest_rss = max((s[1] for s in window(rel(a.t_rest), rel(a.t_load))), default=0.0)
    minute_rss = []
    for m in range(a.minutes):
        w = window(rel(a.t_load) + 60 * m, rel(a.t_load) + 60 * (m + 1))
        if w:
            minute_rss.append(max(s[1] for s in w))
    cpu_start = after(a.first)[2]
    cpu_rest, rest_measured = cpu_between(rel(a.t_rest), rel(a.t_load))
    cpu_load, load_measured = cpu_between(rel(a.t_load), rel(a.t_end))

    fmt = lambda c: ", ".join(f"{k}: {v}" for k, v in sorted(c.items())) or "none"
    print(f"## Controller under load: {a.n} Deployments, {a.rate} changes/min for {a.minutes} min\n")
    print("| measure | plumbline controller | client-go informer (peer) |")
    print("|---|---|---|")
    print(f"| first DriftReport after start | {a.first:.1f} s | informer synced in {informer['sync_s']:.1f} s |")
    print(f"| RSS at rest, after the first report | {rest_rss:.0f} MB | {informer['rss_mb']:.0f} MB "
          f"(Go heap in use {informer['heap_inuse_mb']:.0f} MB) |")
    print(f"| RSS during the load, max of each minute | {', '.join(f'{r:.0f}' for r in minute_rss)} MB | |")
    print(f"| peak RSS over the whole run | {max(s[1] for s in samples):.0f} MB | |")
    print(f"| CPU to the first report | {cpu_start:.1f} s | |")
    print(f"| CPU at rest | {cpu_rest / rest_measured * 100:.1f} % of a core | |")
    print(f"| CPU under load | {cpu_load / load_measured * 100:.1f} % of a core ({cpu_load:.1f} s) | |")
    print(f"| API requests at rest ({rest_s:.0f} s) | {sum(counts['rest'].values())}, "
          f"per-object {per_object['rest']} ({fmt(counts['rest'])}) | |")
    print(f"| API requests under load | {sum(counts['load'].values())} = "
          f"{sum(counts['load'].values()) / changes:.2f} per change, per-object {per_object['load']} "
          f"({fmt(counts['load'])}) | |")
    print(f"| API requests to the first report | {sum(counts['startup'].values())} ({fmt(counts['startup'])}) | |")
    print(f"| changes made / seen in the report / missed | {run['changes']} / {run['seen']} / {run['missed']} | |")
    print(f"| change-to-report latency p50 / p90 / p99 / max | {run['p50_ms']} / {run['p90_ms']} / "
          f"{run['p99_ms']} / {run['max_ms']} ms | |")
    print(f"| drifts omitted from the report (size limit) | {run['omitted_drifts_max']} | |")
    print("\n| minute | changes | p50 ms | p99 ms | max RSS MB |")
    print("|---|---|---|---|---|")
    for i, m in enumerate(run.get("per_minute") or []):
        rss = f"{minute_rss[i]:.0f}" if i < len(minute_rss) else ""
        print(f"| {m['minute']} | {m['changes']} | {m['p50_ms']} | {m['p99_ms']} | {rss} |")
    if run["missed"] or run["patch_errors"]:
        raise SystemExit(f"load_summary.py: {run['missed']} changes never reached the report, "
                         f"{run['patch_errors']} patches failed")


if __name__ == "__main__":
    main()
