// canaries.h — the manifests of the canary sweeps (cli_canary_test, kube_canary_test): a
// Deployment whose env holds secret-looking values and an SSH private key, and a Secret, each
// value carrying a unique "CANARY…" string (`tag` tells Git's copy from the live one).
#pragma once

#include <string>

namespace plumbline::testing {

// Deployment `name` in `ns`: DB_PASS, DATABASE_URL with userinfo, HOOK_URL with a query token,
// DEPLOY_KEY holding `ssh_key` (multi-line), and a memory limit.
inline std::string canary_workload(const std::string& name, const std::string& ns,
                                   const std::string& tag, const std::string& ssh_key,
                                   const std::string& memory) {
  std::string key;
  for (char c : ssh_key) key += c == '\n' ? std::string("\n            ") : std::string(1, c);
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: " + ns +
         "}\nspec:\n  selector: {matchLabels: {app: " + name + "}}\n  template:\n" +
         "    metadata: {labels: {app: " + name + "}}\n    spec:\n      containers:\n" +
         "      - name: app\n        image: " + name + ":1\n" +
         "        resources: {limits: {memory: " + memory + "}}\n        env:\n" +
         "        - {name: DB_PASS, value: 'CANARYdbpass" + tag + "'}\n" +
         "        - {name: DATABASE_URL, value: 'postgres://app:CANARYdburl" + tag +
         "@db:5432/shop'}\n" +
         "        - {name: HOOK_URL, value: 'https://hooks.example/x?token=CANARYhook" + tag +
         "'}\n" + "        - name: DEPLOY_KEY\n          value: |\n            " + key + "\n";
}

// Secret `db` in `ns` with stringData.password.
inline std::string canary_secret(const std::string& ns, const std::string& tag) {
  return "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: " + ns +
         "}\nstringData: {password: CANARYsecret" + tag + "}\n";
}

}  // namespace plumbline::testing
