#!/usr/bin/env python3
# Random desired/live pairs in drift_encoded_fuzz's input form (a flags byte, the desired object
# as YAML (flow style), "%%%", the live object as JSON text), for its replay: the pairs a full pass diffs from
# encodings must give the drifts diff_object gives on trees. Structured, where libFuzzer's byte
# mutations rarely build a pod spec: workloads of every pod-template shape with resources, env
# (secret names, credentials in URLs, duplicates), security contexts (closed-world fields,
# capability sets, sysctls), envFrom and args; the live side is the desired one with values
# changed, retyped (1 -> 1.0 -> "1"), dropped, added, lists shuffled or grown, keys in random
# order and sometimes a duplicate key.
#   fuzz/drift_pairs.py OUT_DIR COUNT SEED
import copy
import json
import os
import random
import sys

out, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
os.makedirs(out, exist_ok=True)

def num():
    return rnd.choice([0, 1, 2, 1000, -1, 2.0, 1.5, -0.0, 18446744073709551615, 9223372036854775807,
                       "1", "1000", "0", "2.0", True, False, None])

def qty():
    return rnd.choice(["1", "1000m", "500m", "0.5", 1, 2, 0.5, "1Gi", "1024Mi", "1073741824",
                       1073741824, "2", "", None, "abc", 1e3])

def env_list():
    out = []
    for _ in range(rnd.randint(0, 5)):
        e = {"name": rnd.choice(["A", "B", "C", "DB_PASSWORD", "URL", 7, "a.b", "x]y"])}
        r = rnd.random()
        if r < 0.6:
            e["value"] = rnd.choice(["1", "", "x", "postgres://u:p@h/db", 1, None, "2"])
        elif r < 0.8:
            e["valueFrom"] = {"secretKeyRef": {"name": rnd.choice(["s", "t"]), "key": "k"}}
        out.append(e)
    return out

def caps():
    return [rnd.choice(["ALL", "NET_ADMIN", "SYS_TIME", "CHOWN"]) for _ in range(rnd.randint(0, 3))]

def security(container):
    s = {}
    for k in ["runAsUser", "runAsGroup", "privileged", "allowPrivilegeEscalation", "readOnlyRootFilesystem",
              "runAsNonRoot"]:
        if rnd.random() < 0.3:
            s[k] = num()
    if rnd.random() < 0.4:
        s["seccompProfile"] = {"type": rnd.choice(["RuntimeDefault", "Unconfined", "Localhost", ""])}
    if rnd.random() < 0.3:
        s["seLinuxOptions"] = {"type": rnd.choice(["spc_t", "", "container_t"]), "level": "s0"}
    if container and rnd.random() < 0.5:
        s["capabilities"] = {"add": caps(), "drop": caps()}
    if container and rnd.random() < 0.2:
        s["procMount"] = rnd.choice(["Default", "Unmasked"])
    if not container and rnd.random() < 0.4:
        s["sysctls"] = [{"name": rnd.choice(["net.ipv4.ip_forward", "kernel.shm_rmid_forced"]),
                         "value": rnd.choice(["0", "1", 1])} for _ in range(rnd.randint(0, 2))]
    return s

def container(name):
    c = {"name": name, "image": rnd.choice(["app:1", "app:2"])}
    if rnd.random() < 0.8:
        c["resources"] = {k: {r: qty() for r in rnd.sample(["cpu", "memory", "ephemeral-storage"], rnd.randint(0, 3))}
                          for k in rnd.sample(["limits", "requests"], rnd.randint(0, 2))}
    if rnd.random() < 0.8:
        c["env"] = env_list()
    if rnd.random() < 0.3:
        c["envFrom"] = [{"configMapRef": {"name": rnd.choice(["cm", "cm2"])}}]
    if rnd.random() < 0.3:
        c["args"] = rnd.choice([["a"], ["a", "b"], []])
    if rnd.random() < 0.5:
        c["securityContext"] = security(True)
    if rnd.random() < 0.2:
        c["ports"] = [{"containerPort": rnd.choice([80, 8080, "80"]), "protocol": "TCP"}]
    return c

def pod():
    p = {"containers": [container(n) for n in rnd.sample(["app", "side", 7, "x"], rnd.randint(0, 3))]}
    if rnd.random() < 0.3:
        p["initContainers"] = [container("init")]
    if rnd.random() < 0.5:
        p["securityContext"] = security(False)
    for k in ["hostNetwork", "hostPID", "hostIPC", "runtimeClassName", "serviceAccountName"]:
        if rnd.random() < 0.15:
            p[k] = rnd.choice([True, False, "gvisor", "sa", None])
    return p

def obj():
    kind = rnd.choice(["Deployment", "Deployment", "StatefulSet", "CronJob", "Pod"])
    o = {"apiVersion": "batch/v1" if kind == "CronJob" else ("v1" if kind == "Pod" else "apps/v1"),
         "kind": kind, "metadata": {"name": "w", "namespace": "ns"}}
    if rnd.random() < 0.5:
        o["metadata"]["labels"] = {"app": rnd.choice(["w", "v"]), "tier": "web"}
    p = pod()
    tmpl = {"metadata": {"labels": {"app": rnd.choice(["w", "v"])}}, "spec": p}
    if kind == "Pod":
        o["spec"] = p
    elif kind == "CronJob":
        o["spec"] = {"jobTemplate": {"spec": {"template": tmpl}}}
    else:
        o["spec"] = {"replicas": num(), "template": tmpl}
    return o

def mutate(v, depth=0):
    if isinstance(v, dict):
        v = {k: mutate(x, depth + 1) for k, x in v.items()}
        r = rnd.random()
        if r < 0.08 and v:
            del v[rnd.choice(list(v))]
        elif r < 0.14:
            v[rnd.choice(["extra", "value", "type", "privileged", "runAsUser"])] = num()
        return v
    if isinstance(v, list):
        v = [mutate(x, depth + 1) for x in v]
        r = rnd.random()
        if r < 0.1:
            rnd.shuffle(v)
        elif r < 0.15 and v:
            v.pop(rnd.randrange(len(v)))
        elif r < 0.2 and v:
            v.append(copy.deepcopy(rnd.choice(v)))
        return v
    r = rnd.random()
    if r < 0.05:
        return num()
    if r < 0.08 and isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    if r < 0.1 and isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    return v

def dumps(v):
    # JSON text with keys in random order and, sometimes, a duplicate key (the last one wins).
    if isinstance(v, dict):
        items = list(v.items())
        rnd.shuffle(items)
        parts = [json.dumps(str(k)) + ":" + dumps(x) for k, x in items]
        if items and rnd.random() < 0.05:
            k, _ = rnd.choice(items)
            parts.insert(0, json.dumps(str(k)) + ":" + dumps(num()))
        return "{" + ",".join(parts) + "}"
    if isinstance(v, list):
        return "[" + ",".join(dumps(x) for x in v) + "]"
    if isinstance(v, float) and v != v:
        return "null"
    return json.dumps(v)

for i in range(count):
    desired = obj()
    live = mutate(copy.deepcopy(desired)) if rnd.random() < 0.9 else obj()
    live.setdefault("metadata", {})["managedFields"] = [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}]
    flags = bytes([rnd.randrange(8)])
    # The desired side in YAML's flow style (JSON), so the script needs no YAML library.
    text = json.dumps(desired, indent=rnd.choice([None, 2])) + "\n%%%\n" + dumps(live)
    with open(os.path.join(out, f"pair-{seed}-{i}"), "wb") as f:
        f.write(flags + text.encode())
