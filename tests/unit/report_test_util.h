// Shared sample findings for the reporter tests.
#pragma once

#include "plumbline/core/findings.h"

namespace plumbline::testing {

inline ObjectRef checkout() { return {"apps/v1", "Deployment", "shop-prod", "checkout"}; }
inline ObjectRef ledger() { return {"apps/v1", "Deployment", "shop-prod", "ledger"}; }

inline DriftReport sample_report() {
  DriftReport r;
  r.environment = "prod";
  r.source = {"https://git.example/ops.git", "main", "0123456789abcdef0123456789abcdef01234567",
              "envs/prod"};
  r.objects = 5;
  Drift memory;
  memory.object = checkout();
  memory.path = "spec.template.spec.containers[name=app].resources.limits.memory";
  memory.category = Category::kResources;
  memory.type = DriftType::kChanged;
  memory.desired = "512Mi";
  memory.live = "1Gi";
  memory.live_manager = "kubectl-edit";
  memory.live_changed_at = "2026-11-20T09:12:00Z";
  memory.source = {"envs/prod/checkout.yaml", 21, 0};
  Drift cap;
  cap.object = ledger();
  cap.path =
      "spec.template.spec.containers[name=ledger].securityContext.capabilities.add[SYS_ADMIN]";
  cap.category = Category::kCapabilities;
  cap.type = DriftType::kExtra;
  cap.live = "SYS_ADMIN";
  Drift otel;
  otel.object = checkout();
  otel.path = "spec.template.spec.containers[name=app].env[name=OTEL_ENDPOINT]";
  otel.category = Category::kEnv;
  otel.type = DriftType::kMissing;
  otel.desired = json{{"name", "OTEL_ENDPOINT"}, {"value", "http://otel:4317|x"}};
  otel.action = Action::kIgnored;
  otel.ignored_by = "prod-baseline";
  otel.source = {"envs/prod/checkout.yaml", 30, 0};
  r.drifts = {memory, cap, otel};
  Violation v;
  v.object = checkout();
  v.rule = "gomaxprocs";
  v.path = "spec.template.spec.containers[name=app].env[name=GOMAXPROCS].value";
  v.message = "GOMAXPROCS=4 exceeds the CPU limit 1";
  v.state = StateSide::kDesired;
  v.policy = "prod-baseline";
  v.source = {"envs/prod/checkout.yaml", 27, 0};
  r.violations = {v};
  return r;
}

inline EnvironmentComparison sample_comparison() {
  EnvironmentComparison c;
  c.env_a = "staging";
  c.env_b = "prod";
  c.source_a = {"https://git.example/ops.git", "main", "abc", "envs/staging"};
  c.source_b = {"https://git.example/ops.git", "main", "abc", "envs/prod"};
  c.objects_a = 4;
  c.objects_b = 5;
  Difference format;
  format.kind = "Deployment";
  format.name = "api";
  format.path = "spec.template.spec.containers[name=app].env[name=LOG_FORMAT]";
  format.category = Category::kEnv;
  format.type = DifferenceType::kOnlyInB;
  format.b = "json";
  Difference replicas;
  replicas.kind = "Deployment";
  replicas.name = "api";
  replicas.path = "spec.replicas";
  replicas.category = Category::kReplicas;
  replicas.a = 2;
  replicas.b = 6;
  replicas.allowed = true;
  c.differences = {format, replicas};
  return c;
}

}  // namespace plumbline::testing
