// MetricsRegistry on prometheus-cpp: the exact text format (prometheus::TextSerializer's, in
// our order), escaping, histograms, validation, concurrency.
#include "plumbline/server/metrics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <thread>
#include <vector>

namespace plumbline {
namespace {

TEST(MetricsTest, ExpositionOfASmallRegistryIsExact) {
  MetricsRegistry registry;
  auto requests = registry.counter("app_requests_total", "Requests served.", {"code", "verb"});
  auto depth = registry.gauge("app_queue_depth", "Items waiting.");
  auto latency =
      registry.histogram("app_latency_seconds", "Request latency.", {"verb"}, {0.1, 0.5, 1});
  ASSERT_TRUE(requests && depth && latency);

  (*requests)->with({"200", "get"}).inc();
  (*requests)->with({"200", "get"}).inc(2);
  (*requests)->with({"500", "list"}).inc();
  (*requests)->with({"200", "apply"}).inc(0.5);
  (*depth)->with().set(7);
  const Histogram get = (*latency)->with({"get"});
  get.observe(0.05);
  get.observe(0.1);  // inclusive upper bound: lands in le="0.1"
  get.observe(0.7);
  get.observe(3);

  EXPECT_EQ(registry.exposition(),
            "# HELP app_latency_seconds Request latency.\n"
            "# TYPE app_latency_seconds histogram\n"
            "app_latency_seconds_count{verb=\"get\"} 4\n"
            "app_latency_seconds_sum{verb=\"get\"} 3.85\n"
            "app_latency_seconds_bucket{verb=\"get\",le=\"0.1\"} 2\n"
            "app_latency_seconds_bucket{verb=\"get\",le=\"0.5\"} 2\n"
            "app_latency_seconds_bucket{verb=\"get\",le=\"1\"} 3\n"
            "app_latency_seconds_bucket{verb=\"get\",le=\"+Inf\"} 4\n"
            "# HELP app_queue_depth Items waiting.\n"
            "# TYPE app_queue_depth gauge\n"
            "app_queue_depth 7\n"
            "# HELP app_requests_total Requests served.\n"
            "# TYPE app_requests_total counter\n"
            "app_requests_total{code=\"200\",verb=\"apply\"} 0.5\n"
            "app_requests_total{code=\"200\",verb=\"get\"} 3\n"
            "app_requests_total{code=\"500\",verb=\"list\"} 1\n");
}

TEST(MetricsTest, FamiliesWithoutSeriesAreLeftOut) {
  MetricsRegistry registry;
  ASSERT_TRUE(registry.gauge("a_gauge", "A.", {"x"}));
  EXPECT_EQ(registry.exposition(), "");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  MetricsRegistry registry;
  auto g = registry.gauge("esc", "Back\\slash and\nnewline, \"quotes\" kept.", {"v"});
  ASSERT_TRUE(g);
  (*g)->with({"a\\b\"c\nd"}).set(1);
  EXPECT_EQ(registry.exposition(),
            "# HELP esc Back\\\\slash and\\nnewline, \"quotes\" kept.\n"
            "# TYPE esc gauge\n"
            "esc{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

// Values as prometheus-cpp writes them (16 significant digits, no exponent for 1e6).
TEST(MetricsTest, FormatsValuesForTheTextFormat) {
  MetricsRegistry registry;
  auto g = registry.gauge("v", "V.", {"k"});
  ASSERT_TRUE(g);
  const std::vector<std::pair<std::string, double>> values = {
      {"a", 0},
      {"b", 42},
      {"c", -3},
      {"d", 0.25},
      {"e", 1e6},
      {"f", 123456},
      {"g", std::numeric_limits<double>::infinity()},
      {"h", -std::numeric_limits<double>::infinity()},
      {"i", std::nan("")}};
  for (const auto& [k, v] : values) (*g)->with({k}).set(v);
  EXPECT_EQ(registry.exposition(),
            "# HELP v V.\n# TYPE v gauge\n"
            "v{k=\"a\"} 0\nv{k=\"b\"} 42\nv{k=\"c\"} -3\nv{k=\"d\"} 0.25\n"
            "v{k=\"e\"} 1000000\nv{k=\"f\"} 123456\nv{k=\"g\"} +Inf\nv{k=\"h\"} -Inf\n"
            "v{k=\"i\"} Nan\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeAndCountMatchesInf) {
  MetricsRegistry registry;
  auto h = registry.histogram("h_seconds", "H.", {}, {1, 2, 5});
  ASSERT_TRUE(h);
  const Histogram hist = (*h)->with();
  for (double v : {0.5, 1.0, 1.5, 2.0, 4.0, 5.0, 6.0, 100.0}) hist.observe(v);
  EXPECT_EQ(hist.cumulative_counts(), (std::vector<std::uint64_t>{2, 4, 6, 8}));
  EXPECT_EQ(hist.count(), 8u);
  EXPECT_DOUBLE_EQ(hist.sum(), 120.0);
  EXPECT_EQ(registry.exposition(),
            "# HELP h_seconds H.\n"
            "# TYPE h_seconds histogram\n"
            "h_seconds_count 8\n"
            "h_seconds_sum 120\n"
            "h_seconds_bucket{le=\"1\"} 2\n"
            "h_seconds_bucket{le=\"2\"} 4\n"
            "h_seconds_bucket{le=\"5\"} 6\n"
            "h_seconds_bucket{le=\"+Inf\"} 8\n");
}

TEST(MetricsTest, RemoveDropsSeriesAndHandlesStaySafe) {
  MetricsRegistry registry;
  auto g = registry.gauge("g", "G.", {"environment", "rule"});
  ASSERT_TRUE(g);
  const Gauge kept = (*g)->with({"dev", "r1"});
  const Gauge dropped = (*g)->with({"prod", "r1"});
  (*g)->with({"prod", "r2"}).set(2);
  kept.set(1);
  EXPECT_TRUE((*g)->remove({"prod", "r1"}));
  EXPECT_FALSE((*g)->remove({"prod", "r1"}));
  dropped.set(5);  // writes to a series no longer exported; no crash, no effect
  EXPECT_EQ((*g)->remove_matching(0, "prod"), 1u);
  EXPECT_EQ(registry.exposition(),
            "# HELP g G.\n# TYPE g gauge\ng{environment=\"dev\",rule=\"r1\"} 1\n");
  // with() after remove starts a fresh series.
  EXPECT_EQ((*g)->with({"prod", "r1"}).value(), 0);
}

TEST(MetricsTest, CountersIgnoreNegativeIncrements) {
  MetricsRegistry registry;
  auto c = registry.counter("c_total", "C.");
  ASSERT_TRUE(c);
  const Counter counter = (*c)->with();
  counter.inc(3);
  counter.inc(-1);
  counter.inc(std::nan(""));
  EXPECT_EQ(counter.value(), 3);
  Counter inert;  // default-constructed handles do nothing
  inert.inc();
  EXPECT_EQ(inert.value(), 0);
}

TEST(MetricsTest, RegistrationErrorsNameTheMetric) {
  MetricsRegistry registry;
  ASSERT_TRUE(registry.counter("dup_total", "D."));
  ASSERT_TRUE(registry.histogram("lat_seconds", "L.", {}, {1}));

  auto dup = registry.gauge("dup_total", "again");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().to_string(), "metric dup_total: already registered (as dup_total)");
  auto clash = registry.gauge("lat_seconds_count", "clashes with the histogram's _count");
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().to_string(),
            "metric lat_seconds_count: already registered (as lat_seconds)");
  auto bad_name = registry.gauge("9lives", "x");
  ASSERT_FALSE(bad_name);
  EXPECT_EQ(bad_name.error().to_string(),
            "metric 9lives: invalid metric name (want [a-zA-Z_:][a-zA-Z0-9_:]*)");
  auto bad_label = registry.gauge("ok_name", "x", {"a-b"});
  ASSERT_FALSE(bad_label);
  EXPECT_EQ(bad_label.error().to_string(),
            "metric ok_name: invalid label name 'a-b' (want [a-zA-Z_][a-zA-Z0-9_]*)");
  auto reserved = registry.gauge("ok_name", "x", {"__x"});
  ASSERT_FALSE(reserved);
  EXPECT_EQ(reserved.error().to_string(),
            "metric ok_name: label name '__x' is reserved (starts with __)");
  auto le = registry.histogram("h2_seconds", "x", {"le"}, {1});
  ASSERT_FALSE(le);
  EXPECT_EQ(le.error().to_string(),
            "metric h2_seconds: label name 'le' is reserved for histogram buckets");
  auto twice = registry.gauge("ok_name", "x", {"a", "a"});
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().to_string(), "metric ok_name: duplicate label name 'a'");
  auto unsorted = registry.histogram("h3_seconds", "x", {}, {1, 0.5});
  ASSERT_FALSE(unsorted);
  EXPECT_EQ(unsorted.error().to_string(),
            "metric h3_seconds: bucket bounds must be strictly increasing");
  auto inf = registry.histogram("h4_seconds", "x", {}, {1, INFINITY});
  ASSERT_FALSE(inf);
  EXPECT_EQ(inf.error().to_string(),
            "metric h4_seconds: bucket bounds must be finite (+Inf is added)");
  auto none = registry.histogram("h5_seconds", "x", {}, {});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ErrorCode::kInvalidInput);
}

TEST(MetricsTest, PlumblineMetricsRegistersEverySeriesOnce) {
  MetricsRegistry registry;
  auto metrics = PlumblineMetrics::create(registry, "0.1.0");
  ASSERT_TRUE(metrics) << metrics.error().to_string();
  metrics->leader.set(1);
  metrics->drift_fields->with({"prod", "resources"}).set(3);
  metrics->reconcile_total->with({"prod", "drifted"}).inc();
  const std::string text = registry.exposition();
  EXPECT_NE(text.find("plumbline_build_info{version=\"0.1.0\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("plumbline_leader 1\n"), std::string::npos);
  EXPECT_NE(text.find("plumbline_workqueue_depth 0\n"), std::string::npos);
  metrics->workqueue_queue_duration_seconds.observe(0.2);
  metrics->workqueue_retries_total.inc();
  const std::string queue = registry.exposition();
  EXPECT_NE(queue.find("plumbline_workqueue_queue_duration_seconds_count 1\n"), std::string::npos);
  EXPECT_NE(queue.find("plumbline_workqueue_queue_duration_seconds_bucket{le=\"0.5\"} 1\n"),
            std::string::npos);
  EXPECT_NE(queue.find("plumbline_workqueue_retries_total 1\n"), std::string::npos);
  EXPECT_NE(text.find("plumbline_drift_fields{environment=\"prod\",category=\"resources\"} 3\n"),
            std::string::npos);
  // A second set of the same metrics in one registry is refused.
  auto again = PlumblineMetrics::create(registry, "0.1.0");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().to_string(),
            "metric plumbline_drift_fields: already registered (as plumbline_drift_fields)");

  metrics->forget_environment("prod");
  const std::string after = registry.exposition();
  EXPECT_EQ(after.find("environment=\"prod\""), std::string::npos) << after;
}

TEST(MetricsTest, ConcurrentUpdatesAndScrapesLoseNothing) {
  MetricsRegistry registry;
  auto c = registry.counter("c_total", "C.", {"worker"});
  auto h = registry.histogram("h_seconds", "H.", {"worker"}, {0.5});
  auto g = registry.gauge("g", "G.", {"worker"});
  ASSERT_TRUE(c && h && g);
  constexpr int kThreads = 4;
  constexpr int kIterations = 20000;
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    while (!done.load()) {
      const std::string text = registry.exposition();
      ASSERT_TRUE(text.empty() || text.back() == '\n');
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < kIterations; ++i) {
        // Half the updates go through with() each time (the map path), half to a shared series.
        (*c)->with({std::to_string(t)}).inc();
        (*c)->with({"shared"}).inc();
        (*h)->with({"shared"}).observe(i % 2 == 0 ? 0.25 : 1.0);
        (*g)->with({"shared"}).inc();
        (*g)->with({"shared"}).dec();
      }
    });
  }
  for (auto& w : workers) w.join();
  done = true;
  scraper.join();
  EXPECT_EQ((*c)->with({"shared"}).value(), kThreads * kIterations);
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ((*c)->with({std::to_string(t)}).value(), kIterations);
  const Histogram hist = (*h)->with({"shared"});
  EXPECT_EQ(hist.cumulative_counts(),
            (std::vector<std::uint64_t>{kThreads * kIterations / 2, kThreads * kIterations}));
  EXPECT_DOUBLE_EQ(hist.sum(), kThreads * kIterations / 2 * 1.25);
  EXPECT_EQ((*g)->with({"shared"}).value(), 0);
}

// Not a timing assertion: prints the cost of a scrape of 1,000 series for the record.
TEST(MetricsTest, ExpositionOfAThousandSeries) {
  MetricsRegistry registry;
  auto fields = registry.gauge("fields", "F.", {"environment", "category"});
  auto rec = registry.histogram("rec_seconds", "R.", {"environment"}, {0.1, 1, 10});
  ASSERT_TRUE(fields && rec);
  for (int e = 0; e < 100; ++e) {
    for (int k = 0; k < 9; ++k) {
      (*fields)->with({"env-" + std::to_string(e), "cat-" + std::to_string(k)}).set(e * k);
    }
    (*rec)->with({"env-" + std::to_string(e)}).observe(e / 10.0);
  }
  // 900 gauges + 100 histograms (6 lines each): 1,000 series, 1,500 sample lines.
  const auto start = std::chrono::steady_clock::now();
  constexpr int kRounds = 20;
  std::size_t bytes = 0;
  for (int i = 0; i < kRounds; ++i) bytes = registry.exposition().size();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  std::printf("exposition of 1,000 series (%zu bytes): %.1f us\n", bytes,
              std::chrono::duration<double, std::micro>(elapsed).count() / kRounds);
}

}  // namespace
}  // namespace plumbline
