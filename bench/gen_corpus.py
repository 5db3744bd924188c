#!/usr/bin/env python3
"""Deterministic corpus for plumbline's end-to-end benchmark (bench/compare.sh).

Writes, for N Deployments (3 containers x 20 env vars, ports, resources, securityContext):

  OUT/repo/split/<ns>/<name>.yaml   one file per workload (a Git repo, committed)
  OUT/repo/single/all.yaml          the same workloads as one multi-document file
  OUT/live.json                     `kubectl get deploy -A -o json --show-managed-fields`-like
                                    List: status, defaults, managedFields, uid,
                                    resourceVersion, creationTimestamp, annotations
  OUT/planted.json                  the drifts planted in ~5 % of the live objects, as
                                    [{"namespace", "name", "path", "category"}], sorted

Same seed and N -> byte-identical output. Usage: gen_corpus.py N OUT [--seed S]
"""
import argparse
import json
import os
import random
import subprocess

NAMESPACES = 10
FIELD_MANAGER = "kubectl-client-side-apply"


def container(rng, w, c):
    name = ["app", "sidecar", "metrics"][c]
    cpu_m = rng.choice([50, 100, 200, 250, 500, 1000])
    mem_mi = rng.choice([64, 128, 256, 512, 1024])
    env = []
    for e in range(20):
        kind = e % 4
        key = f"SETTING_{c}_{e:02d}"
        if kind == 0:
            env.append({"name": key, "value": f"value-{w}-{c}-{e}-{rng.randrange(10**6)}"})
        elif kind == 1:
            env.append({"name": key, "value": str(rng.randrange(1, 65536))})
        elif kind == 2:
            env.append({"name": key, "value": rng.choice(["true", "false"])})
        else:
            env.append({"name": key, "value": f"https://svc-{rng.randrange(500)}.internal:8443/v1/path"})
    return {
        "name": name,
        "image": f"registry.example.com/team-{w % 37}/{name}:1.{rng.randrange(40)}.{rng.randrange(10)}",
        "ports": [{"containerPort": 8080 + c, "name": f"p{c}", "protocol": "TCP"}],
        "env": env,
        "resources": {
            "requests": {"cpu": f"{cpu_m}m", "memory": f"{mem_mi}Mi"},
            "limits": {"cpu": f"{cpu_m * 2}m", "memory": f"{mem_mi * 2}Mi"},
        },
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10000 + c,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def desired_deployment(rng, w):
    ns = f"team-{w % NAMESPACES:02d}"
    name = f"svc-{w:06d}"
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": f"product-{w % 53}", "tier": rng.choice(["web", "worker", "batch"])}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": labels,
                     "annotations": {"team.example.com/owner": f"owner-{w % 97}@example.com"}},
        "spec": {
            "replicas": rng.choice([1, 2, 3, 5]),
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "serviceAccountName": f"sa-{w % 41}",
                    "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}, "fsGroup": 2000},
                    "containers": [container(rng, w, c) for c in range(3)],
                },
            },
        },
    }


# --- YAML writer (block style, as people write manifests) -------------------------------------

PLAIN_UNSAFE = set("{}[],&*#?|-<>=!%@`'\":")


def scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    s = str(v)
    # Quote anything YAML 1.1 would read as another type or that holds indicators.
    if (s == "" or s[0] in PLAIN_UNSAFE or s[0].isdigit() or s in ("true", "false", "yes", "no", "on", "off", "null", "~")
            or ": " in s or " #" in s or s != s.strip()):
        return json.dumps(s)
    return s


def yaml_lines(v, indent, out):
    pad = " " * indent
    if isinstance(v, dict):
        for k, x in v.items():
            if isinstance(x, (dict, list)) and x:
                out.append(f"{pad}{scalar(k)}:")
                yaml_lines(x, indent + 2 if isinstance(x, dict) else indent, out)
            else:
                out.append(f"{pad}{scalar(k)}: {inline(x)}")
    else:
        for x in v:
            if isinstance(x, dict) and x:
                sub = []
                yaml_lines(x, indent + 2, sub)
                sub[0] = pad + "- " + sub[0][indent + 2:]
                out.extend(sub)
            elif isinstance(x, list) and x:
                raise ValueError("nested lists not generated")
            else:
                out.append(f"{pad}- {inline(x)}")


def inline(x):
    if isinstance(x, dict):
        return "{}"
    if isinstance(x, list):
        return "[]"
    return scalar(x)


def to_yaml(doc):
    out = []
    yaml_lines(doc, 0, out)
    return "\n".join(out) + "\n"


# --- the live side --------------------------------------------------------------------------

def fields_v1(value):
    """A managedFields fieldsV1 tree owning every field of `value` (lists by key, as the API does)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out["f:" + k] = fields_v1_list(k, v) if isinstance(v, list) else fields_v1(v)
        return out
    return {}


LIST_KEYS = {"containers": "name", "env": "name", "ports": "containerPort"}


def fields_v1_list(field, items):
    key = LIST_KEYS.get(field)
    if key is None:
        return {}
    out = {}
    for item in items:
        k = json.dumps({key: item[key]}, separators=(",", ":"))
        entry = {".": {}}
        entry.update(fields_v1(item))
        out["k:" + k] = entry
    return out


def live_object(rng, w, desired, t):
    live = json.loads(json.dumps(desired))
    md = live["metadata"]
    md["uid"] = "%08x-%04x-%04x-%04x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(16), rng.getrandbits(16), rng.getrandbits(48))
    md["resourceVersion"] = str(100000 + w * 7)
    md["generation"] = rng.randrange(1, 9)
    md["creationTimestamp"] = t
    md["annotations"]["deployment.kubernetes.io/revision"] = str(md["generation"])
    md["managedFields"] = [
        {"apiVersion": "apps/v1", "fieldsType": "FieldsV1", "manager": FIELD_MANAGER, "operation": "Update", "time": t,
         "fieldsV1": fields_v1({"metadata": {"annotations": desired["metadata"]["annotations"], "labels": desired["metadata"]["labels"]}, "spec": desired["spec"]})},
        {"apiVersion": "apps/v1", "fieldsType": "FieldsV1", "manager": "kube-controller-manager", "operation": "Update", "subresource": "status", "time": t,
         "fieldsV1": {"f:metadata": {"f:annotations": {"f:deployment.kubernetes.io/revision": {}}},
                      "f:status": {"f:availableReplicas": {}, "f:conditions": {}, "f:observedGeneration": {}, "f:readyReplicas": {}, "f:replicas": {}, "f:updatedReplicas": {}}}},
    ]
    spec = live["spec"]
    spec.update({"progressDeadlineSeconds": 600, "revisionHistoryLimit": 10,
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}})
    tspec = spec["template"]["spec"]
    tspec.update({"dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
                  "terminationGracePeriodSeconds": 30, "serviceAccount": tspec["serviceAccountName"]})
    spec["template"]["metadata"]["creationTimestamp"] = None
    for c in tspec["containers"]:
        c["imagePullPolicy"] = "IfNotPresent"
        c["terminationMessagePath"] = "/dev/termination-log"
        c["terminationMessagePolicy"] = "File"
    r = spec["replicas"]
    live["status"] = {
        "availableReplicas": r, "readyReplicas": r, "replicas": r, "updatedReplicas": r, "observedGeneration": md["generation"],
        "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability.", "lastTransitionTime": t, "lastUpdateTime": t},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": f'ReplicaSet "{desired["metadata"]["name"]}-7d9c5b" has successfully progressed.', "lastTransitionTime": t, "lastUpdateTime": t},
        ],
    }
    return live


def plant(rng, live):
    """One drift in the live object, by someone other than Git. Returns (path, category)."""
    tspec = live["spec"]["template"]["spec"]
    c = rng.randrange(3)
    cont = tspec["containers"][c]
    cname = cont["name"]
    base = f"spec.template.spec.containers[name={cname}]"
    choice = rng.randrange(6)
    if choice == 0:
        cont["resources"]["limits"]["memory"] = "4Gi"
        return base + ".resources.limits.memory", "resources"
    if choice == 1:
        e = rng.randrange(20)
        cont["env"][e]["value"] = "hotfix-" + str(rng.randrange(10**6))
        return base + f".env[name={cont['env'][e]['name']}].value", "env"
    if choice == 2:
        cont["image"] = cont["image"].rsplit(":", 1)[0] + ":hotfix"
        return base + ".image", "image"
    if choice == 3:
        live["spec"]["replicas"] = live["spec"]["replicas"] + 7
        live["status"]["replicas"] = live["spec"]["replicas"]
        return "spec.replicas", "replicas"
    if choice == 4:
        cont["securityContext"]["capabilities"]["add"] = ["NET_ADMIN"]
        return base + ".securityContext.capabilities.add[NET_ADMIN]", "capabilities"
    cont["securityContext"]["runAsNonRoot"] = False
    return base + ".securityContext.runAsNonRoot", "identity"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--drift-percent", type=float, default=5.0)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    repo = os.path.join(a.out, "repo")
    os.makedirs(os.path.join(repo, "single"), exist_ok=True)
    items, planted = [], []
    with open(os.path.join(repo, "single", "all.yaml"), "w") as single:
        for w in range(a.n):
            d = desired_deployment(rng, w)
            text = to_yaml(d)
            ns, name = d["metadata"]["namespace"], d["metadata"]["name"]
            os.makedirs(os.path.join(repo, "split", ns), exist_ok=True)
            with open(os.path.join(repo, "split", ns, name + ".yaml"), "w") as f:
                f.write(text)
            single.write("---\n" + text)
            t = "2026-%02d-%02dT%02d:%02d:%02dZ" % (1 + w % 12, 1 + w % 28, w % 24, w % 60, (w * 7) % 60)
            live = live_object(rng, w, d, t)
            if rng.random() * 100 < a.drift_percent:
                path, category = plant(rng, live)
                planted.append({"namespace": ns, "name": name, "path": path, "category": category})
            items.append(live)
    with open(os.path.join(a.out, "live.json"), "w") as f:
        # Compact, one object per line (kubectl's 4-space indentation triples the size of the
        # deeply nested managedFields without changing what is parsed).
        f.write('{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[\n')
        for i, item in enumerate(items):
            f.write(("," if i else "") + json.dumps(item, separators=(",", ":")) + "\n")
        f.write("]}\n")
    planted.sort(key=lambda p: (p["namespace"], p["name"], p["path"]))
    with open(os.path.join(a.out, "planted.json"), "w") as f:
        json.dump(planted, f, indent=1)
        f.write("\n")
    if not os.path.isdir(os.path.join(repo, ".git")):
        env = dict(os.environ, GIT_AUTHOR_DATE="2026-01-01T00:00:00Z", GIT_COMMITTER_DATE="2026-01-01T00:00:00Z")
        git = ["git", "-C", repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
        subprocess.run(["git", "init", "-q", repo], check=True)
        subprocess.run(git + ["add", "-A"], check=True)
        subprocess.run(git + ["commit", "-q", "-m", f"{a.n} workloads"], check=True, env=env)
    print(f"{a.n} workloads, {len(planted)} planted drifts -> {a.out}")


if __name__ == "__main__":
    main()
