#!/usr/bin/env python3
"""plumbline's SARIF on the demo: valid against the official SARIF 2.1.0 JSON schema, and what
GitHub code scanning requires on top of it (a physicalLocation on every result, stable
partialFingerprints, one automationDetails.id per environment, rule help).

Usage: sarif_schema_test.py PLUMBLINE_BINARY SOURCE_DIR SCHEMA_FILE
Exit 0 passed, 1 failed (a missing python3-jsonschema is a failure: nothing was validated).
"""
import json
import subprocess
import sys

try:
    import jsonschema
except ImportError:
    print("FAILED: python3-jsonschema is not installed (scripts/install-deps installs it)")
    sys.exit(1)

BINARY, SOURCE, SCHEMA = sys.argv[1:4]
KINDS = "Deployment,StatefulSet,DaemonSet,CronJob"
RUNS = {
    "prod": ["diff", "--repo", "manifests", "--path", "envs/prod", "--live",
             "manifests/live/prod.yaml", "--live-kinds", KINDS,
             "--policy", "policies/samples/prod-baseline.yaml"],
    "staging": ["diff", "--repo", "manifests", "--path", "envs/staging", "--live",
                "manifests/live/staging.yaml", "--live-kinds", KINDS,
                "--policy", "policies/samples/prod-baseline.yaml"],
    "compare": ["compare", "--repo", "manifests", "--path", "envs/staging", "--path",
                "envs/prod", "--policy", "policies/samples/prod-baseline.yaml"],
}
GITHUB_MAX_RESULTS = 25000  # per run, GitHub's documented upload limit

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


schema = json.load(open(SCHEMA))
validator = jsonschema.validators.validator_for(schema)(schema)
automation_ids = set()
for name, args in RUNS.items():
    run = subprocess.run([BINARY] + args + ["--format", "sarif", "--quiet"], cwd=SOURCE,
                         capture_output=True, text=True)
    check(run.returncode in (0, 1), f"{name}: exit {run.returncode}: {run.stderr}")
    if run.returncode not in (0, 1):
        continue
    sarif = json.loads(run.stdout)
    for error in validator.iter_errors(sarif):
        failures.append(f"{name}: schema: {error.message} at {list(error.absolute_path)}")
    check(len(sarif["runs"]) == 1, f"{name}: one run")
    for r in sarif["runs"]:
        automation_id = r.get("automationDetails", {}).get("id", "")
        check(automation_id.endswith("/") and automation_id not in automation_ids,
              f"{name}: automationDetails.id {automation_id!r} is a category of its own")
        automation_ids.add(automation_id)
        rules = {rule["id"]: rule for rule in r["tool"]["driver"]["rules"]}
        check(len(r["results"]) <= GITHUB_MAX_RESULTS, f"{name}: at most 25,000 results")
        fingerprints = set()
        for i, result in enumerate(r["results"]):
            where = f"{name}: result {i} ({result['ruleId']})"
            check(result["ruleId"] in rules, f"{where}: its rule is listed")
            rule = rules.get(result["ruleId"], {})
            check(rule.get("help", {}).get("text"), f"{where}: the rule has help text")
            physical = [loc.get("physicalLocation") for loc in result.get("locations", [])]
            check(physical and all(p and p["artifactLocation"]["uri"] for p in physical),
                  f"{where}: has a physicalLocation")
            for p in physical:
                if p and "region" in p:
                    check(p["region"]["startLine"] >= 1, f"{where}: startLine >= 1")
            fingerprint = json.dumps(result.get("partialFingerprints"), sort_keys=True)
            check(result.get("partialFingerprints"), f"{where}: has partialFingerprints")
            check(fingerprint not in fingerprints, f"{where}: fingerprint is unique")
            fingerprints.add(fingerprint)
    # The same input twice gives the same fingerprints (alerts keep their identity).
    again = subprocess.run([BINARY] + args + ["--format", "sarif", "--quiet"], cwd=SOURCE,
                           capture_output=True, text=True)
    check(again.stdout == run.stdout, f"{name}: the output is stable")
    if name == "prod":
        check(len(sarif["runs"][0]["results"]) == 11, f"prod: 11 results, "
              f"got {len(sarif['runs'][0]['results'])}")

for failure in failures:
    print("FAILED:", failure)
print(f"{0 if failures else 1} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
