// LiveCache ingest: a 10,000-Deployment LIST body as the API server returns it (full objects:
// managedFields of two managers, status, defaulted fields, probes, 3 containers x 20 env vars),
// parsed with simdjson into the projected form. Reports the body size, parse_list throughput,
// LiveStore bytes per object, RSS growth per cached object, and for comparison the RSS growth
// of holding the same objects as whole nlohmann::json (what a generic informer would keep).
//   build/bench/live_cache_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <simdjson.h>

#include <fstream>
#include <string>

#include "plumbline/cache/live_store.h"
#include "plumbline/policy/policy.h"
#include "workload_generator.h"

namespace plumbline::bench {
namespace {

constexpr size_t kDeployments = 10000;

// VmRSS of this process in bytes.
double rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) * 1024.0;  // kB
  }
  return 0;
}

// What the allocator keeps after frees is not the cache's: give it back before measuring.
double settled_rss_bytes() {
  malloc_trim(0);
  return rss_bytes();
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

// The LIST body: {"kind":"DeploymentList","apiVersion":"apps/v1","metadata":{...},"items":[...]}
// with items carrying no apiVersion/kind, as the API server writes them (compact JSON).
const std::string& list_body() {
  static const std::string kBody = [] {
    GeneratedSet set = generate_workloads(kDeployments);
    add_apiserver_detail(set);
    std::string body =
        R"({"kind":"DeploymentList","apiVersion":"apps/v1","metadata":{"resourceVersion":"123456"},"items":[)";
    for (size_t i = 0; i < set.live.size(); ++i) {
      json& item = set.live[i];
      item.erase("apiVersion");
      item.erase("kind");
      if (i > 0) body += ',';
      body += item.dump();
    }
    body += "]}";
    body.reserve(body.size() + simdjson::SIMDJSON_PADDING);  // parsed in place
    return body;
  }();
  return kBody;
}

void BM_ParseList(benchmark::State& state) {
  const std::string& body = list_body();
  Projector projector(projection_scope(bench_policies()));
  size_t items = 0;
  for (auto _ : state) {
    auto page = parse_list(body, projector);
    if (!page) {
      state.SkipWithError(page.error().to_string().c_str());
      return;
    }
    items = page->items.size();
    benchmark::DoNotOptimize(page);
  }
  state.SetBytesProcessed(static_cast<int64_t>(body.size() * state.iterations()));
  state.counters["objects"] = static_cast<double>(items);
  state.counters["body_MB"] = static_cast<double>(body.size()) / 1e6;
  state.counters["body_bytes_per_object"] = static_cast<double>(body.size()) / kDeployments;
}
BENCHMARK(BM_ParseList)->Unit(benchmark::kMillisecond)->Iterations(5);

// Memory of the cache (projected) vs whole objects, measured as RSS growth per object.
void BM_CacheMemory(benchmark::State& state) {
  const std::string& body = list_body();
  Projector projector(projection_scope(bench_policies()));
  for (auto _ : state) {
    double before = settled_rss_bytes();
    LiveStore store;
    {
      auto page = parse_list(body, projector);
      if (!page) {
        state.SkipWithError(page.error().to_string().c_str());
        return;
      }
      store.replace("Deployment", "", std::move(page->items));
    }
    double after = settled_rss_bytes();
    size_t projection_bytes = 0;
    for (const json& o : store.materialize()) projection_bytes += o.dump().size();
    state.counters["store_bytes_per_object"] =
        static_cast<double>(store.memory_bytes()) / static_cast<double>(store.size());
    state.counters["store_rss_per_object"] = (after - before) / static_cast<double>(store.size());
    state.counters["projection_json_bytes_per_object"] =
        static_cast<double>(projection_bytes) / static_cast<double>(store.size());

    double json_before = settled_rss_bytes();
    json whole = json::parse(body);
    double json_after = settled_rss_bytes();
    state.counters["whole_json_rss_per_object"] =
        (json_after - json_before) / static_cast<double>(whole["items"].size());
    benchmark::DoNotOptimize(whole);
    benchmark::DoNotOptimize(store);
  }
}
BENCHMARK(BM_CacheMemory)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_WatchEvent(benchmark::State& state) {
  GeneratedSet set = generate_workloads(1);
  add_apiserver_detail(set);
  std::string line = R"({"type":"MODIFIED","object":)" + set.live[0].dump() + "}";
  Projector projector(projection_scope(bench_policies()));
  for (auto _ : state) {
    auto event = parse_watch_event(line, projector);
    benchmark::DoNotOptimize(event);
  }
  state.SetBytesProcessed(static_cast<int64_t>(line.size() * state.iterations()));
  state.counters["line_bytes"] = static_cast<double>(line.size());
}
BENCHMARK(BM_WatchEvent)->Unit(benchmark::kMicrosecond);

// The DriftEngine's input: materializing 10k projections as nlohmann::json.
void BM_Materialize(benchmark::State& state) {
  Projector projector(projection_scope(bench_policies()));
  auto page = parse_list(list_body(), projector);
  if (!page) {
    state.SkipWithError(page.error().to_string().c_str());
    return;
  }
  LiveStore store;
  store.replace("Deployment", "", std::move(page->items));
  for (auto _ : state) {
    auto objects = store.materialize();
    benchmark::DoNotOptimize(objects);
  }
  state.counters["objects"] = static_cast<double>(store.size());
}
BENCHMARK(BM_Materialize)->Unit(benchmark::kMillisecond)->Iterations(3);

// For comparison: the same projections through nlohmann's own parser.
void BM_MaterializeNlohmannParse(benchmark::State& state) {
  Projector projector(projection_scope(bench_policies()));
  auto page = parse_list(list_body(), projector);
  if (!page) {
    state.SkipWithError(page.error().to_string().c_str());
    return;
  }
  for (auto _ : state) {
    std::vector<json> objects;
    objects.reserve(page->items.size());
    for (const LiveObject& o : page->items) objects.push_back(json::parse(o.projection));
    benchmark::DoNotOptimize(objects);
  }
  state.counters["objects"] = static_cast<double>(page->items.size());
}
BENCHMARK(BM_MaterializeNlohmannParse)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace plumbline::bench

BENCHMARK_MAIN();
