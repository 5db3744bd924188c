// The parse cache: a render through it gives exactly the render without it, reads only the
// files whose content changed, keeps the budget, and holds one render's files within its bounds.
#include "plumbline/render/parse_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "plumbline/core/digest.h"
#include "plumbline/core/file_tree.h"
#include "plumbline/process/thread_task_runner.h"
#include "plumbline/render/render.h"

namespace plumbline {
namespace {

// A memory tree that knows content ids (as a Git tree does) and counts the files read.
class ContentIdTree : public MemoryTree {
 public:
  explicit ContentIdTree(std::map<std::string, std::string> files) : MemoryTree(files) {
    for (const auto& [path, text] : files) ids_[path] = sha256_hex(text);
  }
  Result<std::string> read_file(std::string_view path) const override {
    ++reads[std::string(path)];
    return MemoryTree::read_file(path);
  }
  std::optional<std::string> content_id(std::string_view path) const override {
    auto it = ids_.find(std::string(path));
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }
  mutable std::map<std::string, int> reads;

 private:
  std::map<std::string, std::string> ids_;
};

std::string deployment(const std::string& name, const std::string& memory) {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name +
         ", namespace: shop}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n"
         "        resources:\n          limits: {memory: " +
         memory + "}\n";
}

std::map<std::string, std::string> repo(const std::string& api_memory,
                                        RenderMode mode = RenderMode::kPlain) {
  std::map<std::string, std::string> files = {
      {"env/api.yaml", deployment("api", api_memory)},
      {"env/web.yaml", deployment("web", "1Gi") + "---\n" + deployment("worker", "2Gi")},
      {"env/list.yaml",
       "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n"
       "  metadata: {name: settings, namespace: shop}\n"},
      {"env/README.md", "not a manifest\n"}};
  if (mode == RenderMode::kKustomize) {
    files["env/kustomization.yaml"] = "resources: [api.yaml, web.yaml, list.yaml]\n";
  }
  return files;
}

// Everything a renderer returns about an object: the object, where it came from, and where
// each of its fields was declared.
std::vector<std::string> described(const ManifestSet& set) {
  std::vector<std::string> out;
  for (const Manifest& m : set) {
    std::string line = m.object.dump() + " @" + m.origin.to_string() + " base=" + m.base_name;
    if (m.fields) {
      m.fields->for_each([&](std::string_view path, const SourceLocation& at) {
        line += " " + std::string(path) + "=" + at.to_string();
      });
    }
    out.push_back(line);
  }
  return out;
}

ManifestSet rendered(const FileTree& tree, RenderMode mode, ParseCache* cache,
                     RenderLimits limits = {}) {
  Result<ManifestSet> out =
      render(tree, "env", RenderOptions{.mode = mode, .limits = limits, .parse_cache = cache});
  EXPECT_TRUE(out.ok()) << out.error().to_string();
  return out.ok() ? *out : ManifestSet{};
}

const Manifest& named(const ManifestSet& set, const std::string& name) {
  for (const Manifest& m : set) {
    if (m.ref().name == name) return m;
  }
  static const Manifest none;
  ADD_FAILURE() << "no object " << name;
  return none;
}

class ParseCacheRender : public ::testing::TestWithParam<RenderMode> {};

TEST_P(ParseCacheRender, ASecondCommitParsesOnlyTheChangedFileAndRendersTheSame) {
  MemoryParseCache cache;
  ContentIdTree first(repo("1Gi", GetParam()));
  ManifestSet one = rendered(first, GetParam(), &cache);
  EXPECT_EQ(described(one), described(rendered(first, GetParam(), nullptr)));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.misses(), 3u);

  ContentIdTree second(repo("3Gi", GetParam()));
  ManifestSet two = rendered(second, GetParam(), &cache);
  EXPECT_EQ(second.reads["env/api.yaml"], 1);
  EXPECT_EQ(second.reads["env/web.yaml"], 0);
  EXPECT_EQ(second.reads["env/list.yaml"], 0);
  EXPECT_EQ(described(two), described(rendered(second, GetParam(), nullptr)));
  EXPECT_EQ(cache.hits(), 2u);
  EXPECT_EQ(
      named(two, "api")
          .object["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"],
      "3Gi");
  // A reused document shares its field origins with the cache (no second copy of them).
  ASSERT_EQ(two.size(), 4u);
  EXPECT_EQ(named(two, "web").fields.get(), named(one, "web").fields.get());
  EXPECT_NE(named(two, "api").fields.get(), named(one, "api").fields.get());
  // The first commit's api.yaml was not used by the last render: dropped.
  EXPECT_EQ(cache.size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(PlainAndKustomize, ParseCacheRender,
                         ::testing::Values(RenderMode::kPlain, RenderMode::kKustomize));

// The controller keeps its desired state compact; the objects the cache holds as rendered take
// the cache's bytes (one copy between the two), and a new commit's unchanged objects are the
// same shared data as the last one's.
TEST(ParseCache, TheCompactDesiredStateSharesTheCachedObjects) {
  MemoryParseCache cache;
  ContentIdTree first(repo("1Gi"));
  ManifestSet one_rendered = rendered(first, RenderMode::kPlain, &cache);
  CompactManifestSet one = compact(one_rendered, cache.manifests());
  ContentIdTree second(repo("3Gi"));
  ManifestSet two_rendered = rendered(second, RenderMode::kPlain, &cache);
  for (Manifest& m : two_rendered) {  // changed after the render (as a namespace default would)
    if (m.ref().name == "settings") m.object["data"] = {{"changed", "after the render"}};
  }
  CompactManifestSet two = compact(two_rendered, cache.manifests());
  CompactManifestSet known = cache.manifests();
  ASSERT_EQ(known.size(), 4u);
  auto in_cache = [&](const CompactManifest& m) {
    for (const CompactManifest& k : known) {
      if (k.shares_data(m)) return true;
    }
    return false;
  };
  ASSERT_EQ(two.size(), 4u);
  std::map<std::string, bool> shared;
  for (const CompactManifest& m : two) shared[m.ref().name] = in_cache(m);
  EXPECT_EQ(shared, (std::map<std::string, bool>{
                        {"api", true}, {"web", true}, {"worker", true}, {"settings", false}}));
  for (size_t i = 0; i < two.size(); ++i) {
    EXPECT_EQ(described({two[i].materialize()}), described({two_rendered[i]}));
  }
  // web and worker: the same data as the first commit's, so set_desired compares pointers.
  auto held = [](const CompactManifestSet& set, const std::string& name) {
    for (const CompactManifest& m : set) {
      if (m.ref().name == name) return m;
    }
    ADD_FAILURE() << "no object " << name;
    return set.front();
  };
  EXPECT_TRUE(held(two, "web").shares_data(held(one, "web")));
  EXPECT_TRUE(held(two, "worker").same_as(held(one, "worker")));
  EXPECT_FALSE(held(two, "api").same_as(held(one, "api")));
}

TEST(ParseCache, ReusedFilesCountAgainstTheRenderBudget) {
  MemoryParseCache cache;
  ContentIdTree tree(repo("1Gi"));
  rendered(tree, RenderMode::kPlain, &cache);
  RenderLimits small;
  small.max_bytes = 200;
  Result<ManifestSet> without = render(tree, "env", {.mode = RenderMode::kPlain, .limits = small});
  Result<ManifestSet> with =
      render(tree, "env", {.mode = RenderMode::kPlain, .limits = small, .parse_cache = &cache});
  ASSERT_FALSE(without.ok());
  ASSERT_FALSE(with.ok());
  EXPECT_EQ(with.error().to_string(), without.error().to_string());
  EXPECT_NE(with.error().to_string().find("more than 200 bytes"), std::string::npos);

  RenderLimits few;
  few.max_files = 1;
  with = render(tree, "env", {.mode = RenderMode::kPlain, .limits = few, .parse_cache = &cache});
  without = render(tree, "env", {.mode = RenderMode::kPlain, .limits = few});
  ASSERT_FALSE(with.ok());
  EXPECT_EQ(with.error().to_string(), without.error().to_string());

  RenderLimits late;
  late.out_of_time = [] { return true; };
  with = render(tree, "env", {.mode = RenderMode::kPlain, .limits = late, .parse_cache = &cache});
  ASSERT_FALSE(with.ok());
  EXPECT_EQ(with.error().code(), ErrorCode::kTimeout);
}

TEST(ParseCache, AFileThatFailsIsNotKeptAndFailsAgain) {
  MemoryParseCache cache;
  auto files = repo("1Gi");
  files["env/broken.yaml"] = "kind: [unclosed\n";
  ContentIdTree tree(files);
  for (int i = 0; i < 2; ++i) {
    Result<ManifestSet> out =
        render(tree, "env", {.mode = RenderMode::kPlain, .parse_cache = &cache});
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.error().to_string().find("env/broken.yaml"), std::string::npos)
        << out.error().to_string();
  }
  EXPECT_EQ(tree.reads["env/broken.yaml"], 2);
}

TEST(ParseCache, TheSameContentUnderAnotherPathIsParsedForThatPath) {
  MemoryParseCache cache;
  ContentIdTree first({{"env/a.yaml", deployment("api", "1Gi")}});
  rendered(first, RenderMode::kPlain, &cache);
  ContentIdTree moved({{"env/b.yaml", deployment("api", "1Gi")}});
  ManifestSet out = rendered(moved, RenderMode::kPlain, &cache);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].origin.file, "env/b.yaml");
  EXPECT_EQ(out[0].locate("spec.template").file, "env/b.yaml");
  EXPECT_EQ(moved.reads["env/b.yaml"], 1);
}

TEST(ParseCache, TreesWithoutContentIdsAreNotCached) {
  MemoryParseCache cache;
  MemoryTree tree(repo("1Gi"));
  rendered(tree, RenderMode::kPlain, &cache);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.misses(), 0u);
}

ParsedFilePtr parsed(size_t bytes) {
  auto file = std::make_shared<ParsedFile>();
  file->bytes = bytes;
  return file;
}

TEST(MemoryParseCache, StaysWithinItsBoundsAndDropsWhatTheLastRenderDidNotUse) {
  MemoryParseCache cache({.max_entries = 2, .max_bytes = 100});
  cache.insert("a", "a.yaml", parsed(40));
  cache.insert("b", "b.yaml", parsed(40));
  cache.insert("c", "c.yaml", parsed(10));  // a third entry: over max_entries, not kept
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.find("c", "c.yaml"), nullptr);
  cache.render_done();

  // The next render uses only a; b goes when room is needed, and at render_done.
  EXPECT_NE(cache.find("a", "a.yaml"), nullptr);
  cache.insert("d", "d.yaml", parsed(50));
  EXPECT_EQ(cache.find("b", "b.yaml"), nullptr);
  EXPECT_NE(cache.find("d", "d.yaml"), nullptr);
  EXPECT_EQ(cache.bytes(), 90u);
  cache.insert("e", "e.yaml", parsed(200));  // larger than the whole cache: not kept
  EXPECT_EQ(cache.find("e", "e.yaml"), nullptr);
  cache.render_done();
  EXPECT_EQ(cache.size(), 2u);
  cache.render_done();  // a render that used nothing
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);

  // Same id, other path: another entry; inserting a key again replaces it.
  cache.insert("a", "x.yaml", parsed(5));
  cache.insert("a", "x.yaml", parsed(7));
  EXPECT_EQ(cache.bytes(), 7u);
  EXPECT_EQ(cache.find("a", "a.yaml"), nullptr);
}

// ---------------------------------------------------------------------------------------------
// On disk (FileParseCache): what a CLI run with --cache-dir keeps for the next one.

std::filesystem::path cache_file(const std::string& name) {
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "plumbline-parses";
  std::filesystem::remove_all(dir / name);
  return dir / name / "env.bin";
}

std::string file_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

TEST_P(ParseCacheRender, ANewRunReusesWhatTheLastRunParsedAndRendersTheSame) {
  const std::filesystem::path file = cache_file(GetParam() == RenderMode::kPlain ? "p" : "k");
  ContentIdTree first(repo("1Gi", GetParam()));
  {
    FileParseCache cache(file, "plumbline test");
    EXPECT_EQ(cache.loaded(), 0u);
    EXPECT_EQ(cache.load_problem(), "");
    rendered(first, GetParam(), &cache);
    ASSERT_TRUE(cache.save().ok());
  }
  ContentIdTree second(repo("3Gi", GetParam()));
  FileParseCache cache(file, "plumbline test");
  EXPECT_EQ(cache.load_problem(), "");
  EXPECT_EQ(cache.loaded(), 3u);
  ManifestSet two = rendered(second, GetParam(), &cache);
  EXPECT_EQ(second.reads["env/api.yaml"], 1);
  EXPECT_EQ(second.reads["env/web.yaml"], 0);
  EXPECT_EQ(second.reads["env/list.yaml"], 0);
  EXPECT_EQ(cache.hits(), 2u);
  // The objects, their origins and every field's origin, as a render without a cache.
  EXPECT_EQ(described(two), described(rendered(second, GetParam(), nullptr)));
  ASSERT_TRUE(cache.save().ok());
  // The first commit's api.yaml went with the render that no longer used it.
  EXPECT_EQ(FileParseCache(file, "plumbline test").loaded(), 3u);
}

TEST(FileParseCache, AFileThatIsNotItsOwnIsSetAsideAndReplaced) {
  const std::filesystem::path file = cache_file("bad");
  ContentIdTree tree(repo("1Gi"));
  {
    FileParseCache cache(file, "plumbline test");
    rendered(tree, RenderMode::kPlain, &cache);
    ASSERT_TRUE(cache.save().ok());
  }
  const std::string good = file_text(file);
  ASSERT_GT(good.size(), 100u);
  std::string flipped = good;
  flipped[flipped.size() - 10] ^= 0x20;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not a cache\n", "not a plumbline parse cache"},
      {"", "not a plumbline parse cache"},
      {flipped, "its digest does not match its content"},
      {good.substr(0, good.size() - 1), "its digest does not match its content"},
      {good.substr(0, 40), "cut short"},
  };
  for (const auto& [text, problem] : cases) {
    write_text(file, text);
    FileParseCache cache(file, "plumbline test");
    EXPECT_EQ(cache.load_problem(), problem);
    EXPECT_EQ(cache.loaded(), 0u);
    // The render parses as without a cache, and the next save replaces the file.
    ContentIdTree again(repo("1Gi"));
    EXPECT_EQ(described(rendered(again, RenderMode::kPlain, &cache)),
              described(rendered(tree, RenderMode::kPlain, nullptr)));
    EXPECT_EQ(again.reads["env/api.yaml"], 1);
    ASSERT_TRUE(cache.save().ok());
    EXPECT_EQ(file_text(file), good);
  }
  // Another version's file is not read.
  FileParseCache other(file, "plumbline other");
  EXPECT_EQ(other.load_problem(), "written by another version of plumbline");
  EXPECT_EQ(other.loaded(), 0u);
}

// A save checks only what the file did not hold (the check decodes every object): the entries
// named in `written` are not checked again, and `written` comes back as what was written.
TEST(FileParseCache, OnlyEntriesNotWrittenBeforeAreCheckedForMaskedValues) {
  std::map<std::string, std::string> files = repo("1Gi");
  files["env/creds.yaml"] =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: creds, namespace: shop}\n"
      "spec:\n  template:\n    spec:\n      containers:\n      - name: app\n"
      "        env: [{name: DB_PASSWORD, value: hunter2}]\n";
  ContentIdTree tree(files);
  MemoryParseCache cache;
  rendered(tree, RenderMode::kPlain, &cache);
  ASSERT_EQ(cache.size(), 4u);
  const std::string plain = encode_parse_cache(cache, "s");
  EXPECT_EQ(plain.find("hunter2"), std::string::npos);

  WrittenEntries written;
  ThreadTaskRunner tasks(2);  // the check runs on every thread; the bytes are the same
  EXPECT_EQ(encode_parse_cache(cache, "s", &written, &tasks), plain);
  std::vector<std::string> paths;
  ParsedFilePtr creds;
  cache.for_each([&](std::string_view, std::string_view path, const ParsedFilePtr& parsed) {
    if (written.count(parsed.get())) paths.emplace_back(path);
    if (path == "env/creds.yaml") creds = parsed;
  });
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths, (std::vector<std::string>{"env/api.yaml", "env/list.yaml", "env/web.yaml"}));

  // Named as written (which a save never does for this entry), it is taken as checked.
  ASSERT_NE(creds, nullptr);
  written.emplace(creds.get(), creds);
  EXPECT_NE(encode_parse_cache(cache, "s", &written).find("hunter2"), std::string::npos);
  EXPECT_EQ(written.size(), 4u);
}

// Past the digest, every read is bounded: an entry that claims more bytes than there are is
// malformed, never read past the end.
TEST(FileParseCache, AnEntryLongerThanTheFileIsMalformed) {
  MemoryParseCache empty;
  std::string header = encode_parse_cache(empty, "s");
  ASSERT_EQ(header.size(), std::string("plumbline parse cache 1 s\n").size() + 32);
  for (const std::string& body : {std::string("\x05"
                                              "abc"),
                                  std::string("\x01"
                                              "a\x01"),
                                  std::string("\x80")}) {
    std::string bytes = header.substr(0, header.size() - 32) + sha256_bytes(body) + body;
    MemoryParseCache into;
    Status read = decode_parse_cache(bytes, "s", into);
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().message(), "entry 0 is malformed");
    EXPECT_EQ(into.size(), 0u);
  }
}

}  // namespace
}  // namespace plumbline
