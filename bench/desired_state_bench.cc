// What the controller holds for one Environment, part by part, on a gen_corpus.py corpus:
// the live state projected as the LiveCache projects it, the desired state as the render
// returns it and as the controller keeps it, and the EnvironmentEvaluation built from both as
// Controller::evaluate builds it (a full pass), then one object re-evaluated (a watch event),
// then a stream of 20,000 watch events (is what it allocates flat?).
// Heap bytes are mallinfo2().uordblks differences (what is allocated, not what the allocator
// keeps); RSS is read after malloc_trim; times are CPU seconds. Not a Google Benchmark: one
// run, one table.
//
//   build/bench/desired_state_bench CORPUS/repo split CORPUS/live.json [--policy FILE]
#include <malloc.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "plumbline/cache/live_cache.h"
#include "plumbline/cache/live_store.h"
#include "plumbline/core/compact_manifest.h"
#include "plumbline/core/desired_scope.h"
#include "plumbline/core/file_tree.h"
#include "plumbline/core/findings.h"
#include "plumbline/evaluate/environment_evaluation.h"
#include "plumbline/policy/policy.h"
#include "plumbline/render/render.h"
#include "plumbline/snapshot/snapshot.h"

namespace plumbline::bench {
namespace {

// CPU time of this (single-threaded) process: a machine shared with compilers makes wall time
// meaningless.
struct Clock {
  using time_point = double;
  static double now() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
  }
};

size_t heap_bytes() { return mallinfo2().uordblks; }

// VmRSS (or VmHWM, the peak) of this process in MB; `trim`: after giving freed pages back.
double rss_mb(const char* field = "VmRSS:", bool trim = true) {
  if (trim) malloc_trim(0);
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  }
  return 0;
}

double seconds_since(Clock::time_point start) { return Clock::now() - start; }

std::string read_text(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void row(const char* what, double bytes, size_t deployments) {
  std::printf("%-44s %10.1f MB %10.0f B/Deployment\n", what, bytes / 1e6,
              deployments ? bytes / static_cast<double>(deployments) : 0.0);
}

int run(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s REPO PATH LIVE.json [--policy FILE]\n", argv[0]);
    return 2;
  }
  std::vector<Policy> policies;
  if (argc >= 6 && std::string(argv[4]) == "--policy") {
    auto parsed = parse_policies(read_text(argv[5]), argv[5]);
    if (!parsed.ok()) {
      std::fprintf(stderr, "%s\n", parsed.error().to_string().c_str());
      return 2;
    }
    policies = std::move(*parsed);
  }

  // The live state, as the LiveCache holds it (projected to every category).
  size_t before_live = heap_bytes();
  std::vector<LiveObject> cache;
  {
    auto projected = parse_live_snapshot_projected(read_text(argv[3]), argv[3], all_categories());
    if (!projected.ok()) {
      std::fprintf(stderr, "%s\n", projected.error().to_string().c_str());
      return 1;
    }
    cache = std::move(*projected);
  }
  size_t live_bytes = heap_bytes() - before_live;

  // The desired state, through the controller's render call (plain YAML here).
  size_t before_render = heap_bytes();
  Clock::time_point render_start = Clock::now();
  FileTreePtr tree = make_directory_tree(argv[1]);
  RenderOptions render_options;
  render_options.mode = RenderMode::kPlain;
  Result<CompactManifestSet> rendered = render_compact(*tree, argv[2], render_options);
  if (!rendered.ok()) {
    std::fprintf(stderr, "%s\n", rendered.error().to_string().c_str());
    return 1;
  }
  default_namespaces(*rendered, "default",
                     [](const ObjectRef& ref) { return ref.kind != "Namespace"; });
  double render_seconds = seconds_since(render_start);
  tree.reset();
  size_t deployments = 0, origins_bytes = 0;
  for (const CompactManifest& m : *rendered) {
    if (m.ref().kind == "Deployment") ++deployments;
    if (m.fields()) origins_bytes += m.fields()->memory_bytes();
  }
  size_t rendered_bytes = heap_bytes() - before_render;

  // What the controller keeps as its last good render (EnvState::desired): the render's own.
  Clock::time_point compact_start = Clock::now();
  CompactManifestSet held = std::move(*rendered);
  double compact_seconds = seconds_since(compact_start);
  size_t held_bytes = heap_bytes() - before_render;
  size_t encoded_bytes = 0;
  for (const CompactManifest& m : held) encoded_bytes += m.memory_bytes();

  // A full pass, as Controller::evaluate runs it: the compared kinds (sharing the held
  // objects), the live objects of the environment's namespaces copied from the cache
  // (projected), the evaluation built and given the live state.
  size_t before_evaluation = heap_bytes();
  Clock::time_point full_start = Clock::now();
  KindCoverage watched;
  for (const WatchedKind& k : workload_kinds()) watched.kinds.insert(k.kind);
  CompactManifestSet covered;
  for (const CompactManifest& m : held) {
    if (watched.covers_kind(m.ref().kind)) covered.push_back(m);
  }
  DiffOptions options = diff_options_for(policies, "bench");
  options.environment = "bench";
  std::vector<LiveObject> live = cache;
  size_t pass_input_bytes = heap_bytes() - before_evaluation;
  std::optional<EnvironmentEvaluation> evaluation;
  evaluation.emplace(std::move(covered), policies, std::move(options));
  evaluation->set_live_projected(live);
  double full_seconds = seconds_since(full_start);
  size_t peak_pass_bytes = heap_bytes() - before_evaluation;
  live.clear();
  live.shrink_to_fit();
  size_t evaluation_bytes = heap_bytes() - before_evaluation;

  size_t before_report = heap_bytes();
  DriftReport report = evaluation->report();
  size_t report_bytes = heap_bytes() - before_report;

  // A watch event: one live object re-evaluated (the middle one), 100 times.
  const LiveObject& changed = cache[cache.size() / 2];
  Clock::time_point one_start = Clock::now();
  for (int i = 0; i < 100; ++i) {
    json object = changed.to_json();
    evaluation->update_live(changed.ref, &object);
  }
  double one_seconds = seconds_since(one_start) / 100;

  // A change stream, as bench/controller_load.sh makes it: a drift planted in, or reverted
  // from, the first env value of a random Deployment (at most 200 drifted at once), each one a
  // watch event and a report. What the evaluation allocates should not grow with the stream.
  std::mt19937 random(1);
  std::vector<size_t> drifted;
  size_t before_stream = heap_bytes();
  std::string stream_heap;
  for (int i = 1; i <= 20000; ++i) {
    bool revert = !drifted.empty() && (drifted.size() >= 200 || random() % 2 == 0);
    size_t index = 0;
    json object;
    if (revert) {
      size_t k = random() % drifted.size();
      index = drifted[k];
      drifted.erase(drifted.begin() + static_cast<long>(k));
      object = cache[index].to_json();
    } else {
      index = random() % cache.size();
      object = cache[index].to_json();
      json* env = &object["spec"]["template"]["spec"]["containers"][0]["env"];
      if (!env->is_array() || env->empty()) continue;
      (*env)[0]["value"] = "drift-" + std::to_string(i);
      drifted.push_back(index);
    }
    evaluation->update_live(cache[index].ref, &object);
    DriftReport stream_report = evaluation->report();
    if (i % 4000 == 0) {
      char figure[48];
      std::snprintf(figure, sizeof figure, " %d: %+.2f MB", i,
                    (static_cast<double>(heap_bytes()) - static_cast<double>(before_stream)) / 1e6);
      stream_heap += figure;
    }
  }

  // Decoding alone: every held object materialized once (what a full pass adds).
  Clock::time_point decode_start = Clock::now();
  size_t decoded_nodes = 0;
  for (const CompactManifest& m : held) decoded_nodes += m.object().size();
  double decode_seconds = seconds_since(decode_start);

  std::printf("objects %zu (Deployments %zu), live objects %zu, drifts %zu, violations %zu\n",
              held.size(), deployments, cache.size(), report.drifts.size(),
              report.violations.size());
  std::printf("%-44s %10s    %10s\n", "held (heap, mallinfo2)", "total", "per Deployment");
  row("live projections (LiveCache)", live_bytes, deployments);
  row("desired as rendered (objects + origins)", rendered_bytes, deployments);
  row("  of which field origins", origins_bytes, deployments);
  row("  of which objects (and the rest)", rendered_bytes - origins_bytes, deployments);
  row("desired as the controller keeps it", held_bytes, deployments);
  row("  of which compact objects", encoded_bytes, deployments);
  row("evaluation (desired copy, entries, findings)", evaluation_bytes, deployments);
  row("one report (findings)", report_bytes, deployments);
  row("full pass: compared set + live as given", pass_input_bytes, deployments);
  row("full pass peak above the held state", peak_pass_bytes, deployments);
  row("held after the pass (live+desired+eval)", live_bytes + held_bytes + evaluation_bytes,
      deployments);
  std::printf(
      "render %.2f s; compact %.3f s; full evaluation %.3f s; one object re-evaluated %.3f ms; "
      "materialize all %.3f s (%zu)\n",
      render_seconds, compact_seconds, full_seconds, one_seconds * 1e3, decode_seconds,
      decoded_nodes);
  std::printf("change stream, heap allocated after N events (drifted now %zu):%s\n", drifted.size(),
              stream_heap.c_str());
  double untrimmed = rss_mb("VmRSS:", false);
  std::printf("RSS now %.0f MB (%.0f MB before malloc_trim), peak %.0f MB\n", rss_mb(), untrimmed,
              rss_mb("VmHWM:"));
  return 0;
}

}  // namespace
}  // namespace plumbline::bench

int main(int argc, char** argv) { return plumbline::bench::run(argc, argv); }
