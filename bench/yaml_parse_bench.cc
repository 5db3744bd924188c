// The parser's own time, the baseline of issue 13's first target (`plumbline diff` at 10k
// within 1.3 x it): libyaml's event loop over a file, no handler work. Then, for comparison,
// what the render does with the same bytes: stream_yaml_manifests (the guards, the cut into
// parts, the events turned into compact objects and their field origins) on one thread and
// on the machine's threads.
//
//   build/bench/yaml_parse_bench FILE [RUNS]      # default 3 runs; prints each and the best
//
// The loop is what yaml_events.cc drives (yaml_parser_parse, then yaml_event_delete), on one
// thread, over the bytes in memory: the read of the file is not timed.
#include <yaml.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "plumbline/core/yaml_compact.h"
#include "plumbline/process/thread_task_runner.h"

namespace {

// Events parsed, or -1 when libyaml stops at an error.
long parse_events(const std::string& text) {
  yaml_parser_t parser;
  if (yaml_parser_initialize(&parser) == 0) return -1;
  std::unique_ptr<yaml_parser_t, decltype(&yaml_parser_delete)> owned(&parser, &yaml_parser_delete);
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  long events = 0;
  for (;;) {
    yaml_event_t event;
    if (yaml_parser_parse(&parser, &event) == 0) return -1;
    bool end = event.type == YAML_STREAM_END_EVENT;
    yaml_event_delete(&event);
    ++events;
    if (end) return events;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE [RUNS]\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "yaml_parse_bench: cannot read %s\n", argv[1]);
    return 1;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
  double best = 0;
  for (int i = 0; i < runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    long events = parse_events(text);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (events < 0) {
      std::fprintf(stderr, "yaml_parse_bench: libyaml stopped at an error in %s\n", argv[1]);
      return 1;
    }
    std::printf("run %d: %.3f s, %ld events, %.1f MB\n", i + 1, seconds, events,
                static_cast<double>(text.size()) / 1e6);
    if (i == 0 || seconds < best) best = seconds;
  }
  std::printf("best: %.3f s\n", best);

  // The render's own read of the same bytes, best of the same number of runs.
  size_t threads = plumbline::default_task_concurrency();
  for (size_t concurrency : {size_t{1}, threads}) {
    plumbline::ThreadTaskRunner runner(concurrency);
    double fastest = 0;
    size_t objects = 0;
    for (int i = 0; i < runs; ++i) {
      auto start = std::chrono::steady_clock::now();
      auto read = plumbline::stream_yaml_manifests(text, argv[1], &runner);
      double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!read) {
        std::fprintf(stderr, "yaml_parse_bench: %s is not read by the stream path\n", argv[1]);
        return 1;
      }
      objects = read->size();
      if (i == 0 || seconds < fastest) fastest = seconds;
    }
    std::printf(
        "stream_yaml_manifests, %zu thread(s): best %.3f s, %zu objects (%.2f x the parser)\n",
        concurrency, fastest, objects, fastest / best);
    if (threads == 1) break;
  }
  return 0;
}
