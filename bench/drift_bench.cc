// Diff + policy over N synthetic workloads (3 containers, 20 env vars each, drift planted in
// every tenth). Reports time per iteration, drifts found and peak RSS of the process.
//   build/bench/drift_bench --benchmark_filter=DiffAndPolicy
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "plumbline/diff/drift.h"
#include "plumbline/evaluate/environment_evaluation.h"
#include "plumbline/policy/policy.h"
#include "workload_generator.h"

namespace plumbline::bench {
namespace {

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

const std::vector<Policy>& bench_policies() {
  static const std::vector<Policy> kPolicies = [] {
    auto parsed = parse_policies(R"(apiVersion: plumbline.dev/v1alpha1
kind: ConsistencyPolicy
metadata: {name: bench}
spec:
  rules:
    requireLimits: {cpu: true, memory: true}
    gomaxprocs: {maxOverCpuLimit: 1.0}
    capabilities: {requireDropAll: true, allowedAdd: [NET_BIND_SERVICE]}
    env: {required: [TZ], forbidden: [GODEBUG]}
)",
                                 "bench-policy.yaml");
    return parsed ? *parsed : std::vector<Policy>{};
  }();
  return kPolicies;
}

void BM_DiffAndPolicy(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  GeneratedSet set = generate_workloads(n);
  double input_rss = peak_rss_mib();
  DiffOptions options = diff_options_for(bench_policies(), "bench");
  size_t drifts = 0;
  for (auto _ : state) {
    DriftReport report;
    report.environment = "bench";
    report.objects = set.desired.size();
    report.drifts = compute_drift(set.desired, set.live, options);
    apply_policies(report, bench_policies(), set.desired, &set.live);
    drifts = report.drifts.size();
    benchmark::DoNotOptimize(report);
  }
  state.counters["workloads"] = static_cast<double>(n);
  state.counters["drifts"] = static_cast<double>(drifts);
  state.counters["planted"] = static_cast<double>(set.planted_drifts);
  state.counters["rss_after_input_MiB"] = input_rss;
  state.counters["peak_rss_MiB"] = peak_rss_mib();
}
BENCHMARK(BM_DiffAndPolicy)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(3);

// The controller's first pass over an environment (and after a new commit or policy change).
void BM_EvaluateEnvironment(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  GeneratedSet set = generate_workloads(n);
  DiffOptions options = diff_options_for(bench_policies(), "bench");
  for (auto _ : state) {
    state.PauseTiming();  // the controller and the CLI hand over their render; no copy there
    ManifestSet desired = set.desired;
    state.ResumeTiming();
    DriftReport report =
        evaluate_environment(std::move(desired), set.live, bench_policies(), options);
    benchmark::DoNotOptimize(report);
  }
  state.counters["workloads"] = static_cast<double>(n);
}
BENCHMARK(BM_EvaluateEnvironment)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(3);

// The controller's pass after the watch reports one changed workload: that object is diffed
// again and the report reassembled from the kept per-object findings.
void BM_IncrementalOneObject(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  GeneratedSet set = generate_workloads(n);
  DiffOptions options = diff_options_for(bench_policies(), "bench");
  EnvironmentEvaluation evaluation(set.desired, bench_policies(), options);
  evaluation.set_live(set.live);
  json changed = set.live[n / 2];
  ObjectRef ref = ObjectRef::of(changed);
  int round = 0;
  for (auto _ : state) {
    changed["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] =
        std::to_string(1 + (++round % 4)) + "Gi";
    evaluation.update_live(ref, &changed);
    DriftReport report = evaluation.report();
    benchmark::DoNotOptimize(report);
  }
  state.counters["workloads"] = static_cast<double>(n);
}
BENCHMARK(BM_IncrementalOneObject)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace plumbline::bench

BENCHMARK_MAIN();
