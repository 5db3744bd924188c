// Drift golden cases: tests/fixtures/drift/<case>/{desired.yaml,live.yaml,expected.json}.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "plumbline/diff/drift.h"
#include "unit/drift_test_util.h"

namespace plumbline {
namespace {

std::string read(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(DriftGolden, FixturesMatch) {
  std::filesystem::path root = std::filesystem::path(PLUMBLINE_FIXTURES_DIR) / "drift";
  size_t cases = 0;
  for (const auto& dir : std::filesystem::directory_iterator(root)) {
    SCOPED_TRACE(dir.path().filename().string());
    auto d = parse_yaml_documents(read(dir.path() / "desired.yaml"), "desired.yaml");
    auto l = parse_yaml_documents(read(dir.path() / "live.yaml"), "live.yaml");
    ASSERT_TRUE(d.ok() && l.ok());
    ManifestSet desired;
    std::vector<json> live;
    for (auto& doc : *d) desired.push_back({doc.value, doc.location, nullptr, {}});
    for (auto& doc : *l) live.push_back(doc.value);
    DiffOptions options;
    options.environment = "prod";
    json got = testing::to_json(compute_drift(desired, live, options));
    // A full pass reads each pair from its encodings: the same drifts, pair by pair.
    for (const Manifest& d : desired) {
      for (const json& l : live) {
        if (ObjectRef::of(l) == d.ref()) testing::diff_object_checked(d, l, options);
      }
    }
    if (std::getenv("PLUMBLINE_UPDATE_GOLDEN") != nullptr) {
      // Regenerates the expectation; review the diff before committing it.
      std::ofstream(dir.path() / "expected.json") << got.dump(2) << "\n";
    }
    json expected = json::parse(read(dir.path() / "expected.json"), nullptr, false);
    ASSERT_FALSE(expected.is_discarded()) << "expected.json is not JSON";
    EXPECT_EQ(got, expected);
    ++cases;
  }
  EXPECT_GE(cases, 3u);
}

}  // namespace
}  // namespace plumbline
