// commit_bench: what a new commit costs the controller, in process, with the calls it makes.
//
//   commit_bench REPO OLD_REV NEW_REV PATH LIVE_JSON [ROUNDS [after]]
//
// Renders PATH (plain) at OLD_REV and evaluates it against LIVE_JSON (projected, as the
// controller's cache holds it); then, for NEW_REV, times the two ways to get its report:
//   before: render every file again, then a full evaluation (every object diffed), which is
//           what the controller did for every new commit;
//   after:  render through the parse cache (only the files whose blob id changed are parsed),
//           compact the result sharing the cache's objects (as the controller keeps it) and
//           EnvironmentEvaluation::set_desired (only changed objects diffed again).
// Both reports are compared (they must be equal). Each round alternates OLD_REV and NEW_REV
// so the cache always sees a real change. Prints CPU milliseconds per step (median of ROUNDS).
#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "plumbline/evaluate/environment_evaluation.h"
#include "plumbline/git/git_source.h"
#include "plumbline/render/parse_cache.h"
#include "plumbline/render/render.h"
#include "plumbline/report/report.h"
#include "plumbline/snapshot/snapshot.h"

namespace {

using namespace plumbline;
// The thread's CPU time: the machine is shared, and the question is what the work costs, not
// how long others kept the core.
struct Clock {
  using time_point = double;
  static double now() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
  }
};

double ms_since(Clock::time_point start) { return Clock::now() - start; }

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

[[noreturn]] void fail(const std::string& what, const Error& error) {
  std::cerr << "commit_bench: " << what << ": " << error.to_string() << "\n";
  std::exit(2);
}

FileTreePtr open_tree(const std::string& repo, const std::string& rev) {
  GitSourceOptions options;
  options.repo = repo;
  options.ref = rev;
  Result<GitSnapshot> snapshot = open_git_snapshot(options);
  if (!snapshot.ok()) fail("opening " + rev, snapshot.error());
  return std::move(snapshot->tree);
}

// As the controller renders (load_desired): compact, sharing the cache's objects.
CompactManifestSet render_at(const FileTree& tree, const std::string& path, ParseCache* cache) {
  RenderOptions options{.mode = RenderMode::kPlain, .parse_cache = cache};
  Result<CompactManifestSet> rendered = render_compact(tree, path, options);
  if (!rendered.ok()) fail("rendering " + path, rendered.error());
  return std::move(*rendered);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::cerr << "usage: commit_bench REPO OLD_REV NEW_REV PATH LIVE_JSON [ROUNDS [after]]\n";
    return 2;
  }
  const std::string repo = argv[1], path = argv[4];
  const std::string revs[2] = {argv[2], argv[3]};
  const int rounds = argc > 6 ? std::max(1, std::atoi(argv[6])) : 5;
  // "after": skip the full render and evaluation (to profile the incremental path alone).
  const bool after_only = argc > 7 && std::string(argv[7]) == "after";

  std::ifstream in(argv[5], std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  Result<std::vector<LiveObject>> live =
      parse_live_snapshot_projected(text.str(), argv[5], all_categories());
  if (!live.ok()) fail("reading the live file", live.error());
  std::map<std::pair<std::string, std::string>, const LiveObject*> by_name;  // kind, ns/name
  for (const LiveObject& o : *live) by_name[{o.ref.kind, o.ref.ns + "/" + o.ref.name}] = &o;
  auto lookup = [&](const ObjectRef& ref) -> std::optional<json> {
    auto it = by_name.find({ref.kind, ref.ns + "/" + ref.name});
    if (it == by_name.end()) return std::nullopt;
    return it->second->to_json();
  };

  DiffOptions options = diff_options_for({}, "bench");
  options.scope = all_categories();
  options.environment = "bench";

  FileTreePtr trees[2] = {open_tree(repo, revs[0]), open_tree(repo, revs[1])};
  auto cache_owner = std::make_unique<MemoryParseCache>();
  MemoryParseCache& cache = *cache_owner;
  auto start = Clock::now();
  EnvironmentEvaluation kept(render_at(*trees[0], path, &cache), {}, options);
  kept.set_live_projected(*live);
  std::printf("first render + full evaluation of %s: %.0f ms, %zu objects, %zu files cached\n",
              revs[0].c_str(), ms_since(start), kept.desired().size(), cache.size());

  std::vector<double> before_render, before_eval, after_render, after_eval, after_copy;
  size_t reevaluated = 0;
  for (int round = 0; round < rounds; ++round) {
    for (int side : {1, 0}) {
      const FileTree& tree = *trees[side];
      DriftReport expected;
      if (!after_only) {
        // Before: every file parsed, every object diffed (live materialized as the cache gives it).
        start = Clock::now();
        CompactManifestSet full = render_at(tree, path, nullptr);
        before_render.push_back(ms_since(start));
        start = Clock::now();
        std::vector<json> live_json;
        live_json.reserve(live->size());
        for (const LiveObject& o : *live) live_json.push_back(o.to_json());
        EnvironmentEvaluation fresh(std::move(full), {}, options);
        fresh.set_live(live_json);
        expected = fresh.report();
        before_eval.push_back(ms_since(start));
      }

      // After: the parse cache, the compact desired state sharing its objects (load_desired),
      // and set_desired.
      start = Clock::now();
      CompactManifestSet desired = render_at(tree, path, &cache);
      after_render.push_back(ms_since(start));
      after_copy.push_back(0);  // the render is compact already
      start = Clock::now();
      reevaluated = kept.set_desired(std::move(desired), lookup);
      DriftReport report = kept.report();
      after_eval.push_back(ms_since(start));
      if (!after_only && to_json(report).dump() != to_json(expected).dump()) {
        std::cerr << "commit_bench: the incremental report differs from a full evaluation\n";
        return 1;
      }
    }
  }
  std::printf("objects re-evaluated per commit: %zu; reports equal to a full evaluation\n",
              reevaluated);
  std::printf("before: render %.1f ms + full evaluation %.1f ms = %.1f ms\n", median(before_render),
              median(before_eval), median(before_render) + median(before_eval));
  std::printf(
      "after:  render (compact, sharing the cache's) %.1f ms + %.1f ms + set_desired %.1f ms = "
      "%.1f "
      "ms\n",
      median(after_render), median(after_copy), median(after_eval),
      median(after_render) + median(after_copy) + median(after_eval));
  std::printf("parse cache: %zu files, %.1f MB of text; %zu hits, %zu misses\n", cache.size(),
              cache.bytes() / 1e6, cache.hits(), cache.misses());
  // What the cache holds beyond the desired state the controller keeps anyway: the heap freed
  // when it goes (its index and entries; the objects are shared with the evaluation's set).
  size_t held = mallinfo2().uordblks;
  cache_owner.reset();
  size_t without_cache = mallinfo2().uordblks;
  std::printf("heap held by the parse cache beyond the desired state: %.1f MB\n",
              (held - without_cache) / 1e6);
  size_t desired_bytes = 0;
  for (const CompactManifest& m : kept.desired()) desired_bytes += m.memory_bytes();
  std::printf("compact desired objects (shared with the cache while it lived): %.1f MB\n",
              desired_bytes / 1e6);
  return 0;
}
