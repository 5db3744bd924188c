// libFuzzer target: ConsistencyPolicy files come from Git and from the cluster. Any bytes give
// policies or an Error; the policies that parse are applied to a fixed Deployment, so every
// rule and ignore pattern they can express runs on real fields.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "plumbline/core/file_tree.h"
#include "plumbline/policy/policy.h"
#include "plumbline/render/render.h"

namespace {

constexpr std::string_view kDeployment = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app: web, tier: front}}
spec:
  replicas: 3
  template:
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: app
        image: web:1
        env: [{name: GOMAXPROCS, value: "8"}, {name: DB_PASSWORD, value: x}]
        resources: {limits: {cpu: 500m, memory: 1Gi}, requests: {cpu: 100m}}
        securityContext: {capabilities: {add: [NET_ADMIN], drop: [ALL]}}
)";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto policies = plumbline::parse_policies(text, "policy.yaml");
  if (!policies) {
    if (policies.error().code() == plumbline::ErrorCode::kInternal) __builtin_trap();
    return 0;
  }
  plumbline::MemoryTree tree;
  tree.add("app/deployment.yaml", std::string(kDeployment));
  auto desired = plumbline::render_plain(tree, "app");
  if (!desired) __builtin_trap();  // the fixed Deployment always renders
  for (const auto& manifest : *desired) {
    (void)plumbline::desired_violations(manifest, *policies);
    (void)plumbline::live_violations(manifest.object, *policies);
  }
  (void)plumbline::environment_violations(*desired, *policies);
  (void)plumbline::diff_options_for(*policies, "prod");
  return 0;
}
