// The stream path (YAML events straight into compact form) against the tree path it replaces:
// the same objects, origins, field origins and errors, on handwritten cases of every kind and
// on every YAML/JSON file of the test fixtures; and which inputs each path takes.
#include "plumbline/core/yaml_compact.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <span>
#include <sstream>

#include "render/compact_documents.h"

namespace plumbline {
namespace {

std::string origins_of(const CompactManifest& m) {
  std::string out;
  if (m.fields() == nullptr) return "<none>";
  m.fields()->for_each([&](std::string_view path, const SourceLocation& at) {
    out += std::string(path) + " @ " + at.to_string() + "\n";
  });
  return out;
}

// Every path `b` has an origin for is found, and located, the same in `a`; a path below one
// and a path beside one are not found, and are located at the same ancestor. (The stream
// path keeps origins by node and finds a path by walking its object's encoding.)
void expect_same_lookups(const CompactManifest& a, const CompactManifest& b) {
  if (a.fields() == nullptr || b.fields() == nullptr) {
    EXPECT_EQ(a.fields() == nullptr, b.fields() == nullptr);
    return;
  }
  b.fields()->for_each([&](std::string_view path, const SourceLocation& at) {
    std::optional<SourceLocation> found = a.fields()->find(path);
    ASSERT_TRUE(found.has_value()) << path;
    EXPECT_EQ(found->to_string(), at.to_string()) << path;
    for (std::string other : {std::string(path) + ".zz", std::string(path) + "[zz=1]",
                              std::string(path) + "zz", std::string(path) + "[0].zz"}) {
      EXPECT_EQ(a.fields()->find(other).has_value(), b.fields()->find(other).has_value()) << other;
      EXPECT_EQ(a.locate(other).to_string(), b.locate(other).to_string()) << other;
    }
  });
}

// Runs a split stream's parts on the calling thread, last first: a part's result must not
// depend on when it runs.
class ReversedRunner final : public TaskRunner {
 public:
  explicit ReversedRunner(size_t concurrency) : concurrency_(concurrency) {}
  size_t concurrency() const override { return concurrency_; }
  void run(std::span<const std::function<void()>> tasks) override {
    ++runs;
    for (auto it = tasks.rbegin(); it != tasks.rend(); ++it) (*it)();
  }
  size_t runs = 0;

 private:
  size_t concurrency_;
};

// Both paths agree on `text`: the same objects with the same origins, or the same error. The
// stream path is taken whole and cut into parts at every document marker it may cut at.
void expect_same_as_trees(std::string_view text, const std::string& file) {
  SCOPED_TRACE(file);
  Result<CompactManifestSet> trees = renderer::parse_manifest_file_as_trees(text, file);
  ReversedRunner parts(64);
  for (TaskRunner* tasks : {static_cast<TaskRunner*>(nullptr), static_cast<TaskRunner*>(&parts)}) {
    SCOPED_TRACE(tasks == nullptr ? "whole" : "in parts");
    Result<CompactManifestSet> streamed = renderer::parse_manifest_file(text, file, tasks, 1);
    ASSERT_EQ(streamed.ok(), trees.ok())
        << (streamed.ok() ? trees.error().to_string() : streamed.error().to_string());
    if (!trees.ok()) {
      EXPECT_EQ(streamed.error().to_string(), trees.error().to_string());
      return;
    }
    ASSERT_EQ(streamed->size(), trees->size());
    for (size_t i = 0; i < trees->size(); ++i) {
      const CompactManifest& a = (*streamed)[i];
      const CompactManifest& b = (*trees)[i];
      EXPECT_EQ(a.object(), b.object()) << i;
      EXPECT_EQ(a.ref(), b.ref()) << i;
      EXPECT_EQ(a.origin().to_string(), b.origin().to_string()) << i;
      EXPECT_EQ(origins_of(a), origins_of(b)) << i;
      expect_same_lookups(a, b);
      EXPECT_EQ(a.object().dump(), b.object().dump()) << i;  // the same types (1 is not 1.0)
    }
  }
}

bool streams(std::string_view text) { return stream_yaml_manifests(text, "f.yaml").has_value(); }

const char* kWorkload = R"(# a comment before the document
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
  labels: {app: api, "tier": backend, Zeta: z, alpha: a, "ü": u}
  annotations:
    a-very-long-annotation-key.example.com/with-a-path: "a long value that is heap allocated"
spec:
  replicas: 3
  paused: no
  progressDeadlineSeconds: 0x1F
  revisionHistoryLimit: 010
  minReadySeconds: 0o7
  template:
    metadata:
      labels: {app: api}
    spec:
      securityContext:
        sysctls:
          - value: "1"
            name: net.ipv4.ip_forward
      containers:
        - image: registry.example.com/api:1.2.3
          name: api
          args: [--port, "8080", 9090, 1.5, true, ~, null, -7, 99999999999999999999]
          env:
            - name: A
              value: "1"
            - value: 'single quoted'
              name: B
            - name: C
            - name: MULTI
              value: |
                line one
                line two
          resources:
            limits: {cpu: 500m, memory: 1Gi}
            requests:
              cpu: .5
              memory: 1e3
          securityContext:
            capabilities:
              add: [NET_ADMIN, SYS_TIME]
              drop:
                - ALL
            seccompProfile: {type: RuntimeDefault}
            seLinuxOptions: {level: "s0:c123,c456"}
          ports:
            - containerPort: 8080
              protocol: TCP
          volumeMounts: []
        - name: sidecar
          image: sidecar:1
      initContainers: ~
      volumes:
        - name: data
          emptyDir: {}
)";

TEST(YamlCompact, AWorkloadOfEveryScalarAndListKindStreamsAsTheTreesRead) {
  ASSERT_TRUE(streams(kWorkload));
  expect_same_as_trees(kWorkload, "envs/prod/api.yaml");
}

TEST(YamlCompact, FieldOriginsAreKeptByNodeInAFractionOfTheTablesBytes) {
  std::optional<std::vector<StreamedManifest>> streamed =
      stream_yaml_manifests(kWorkload, "envs/prod/api.yaml");
  ASSERT_TRUE(streamed && streamed->size() == 1);
  const FieldOrigins& by_node = *streamed->front().manifest.fields();
  FieldOrigins::Builder builder;
  by_node.for_each([&](std::string_view path, const SourceLocation& at) {
    builder.add(path, at.file, at.line, at.column);
  });
  FieldOrigins table = std::move(builder).build();
  ASSERT_GT(table.size(), 40u);
  EXPECT_EQ(by_node.size(), table.size());
  EXPECT_LT(by_node.memory_bytes() * 3, table.memory_bytes());
  EXPECT_EQ(by_node.find("spec.template.spec.containers[name=app].image")->to_string(),
            table.find("spec.template.spec.containers[name=app].image")->to_string());
  // A change (a kustomize step's) turns it into the table first; the rest stays.
  FieldOrigins changed = by_node;
  changed.set("spec.replicas", {"envs/prod/patch.yaml", 3, 0});
  changed.erase_below("metadata.labels");
  table.set("spec.replicas", {"envs/prod/patch.yaml", 3, 0});
  table.erase_below("metadata.labels");
  std::vector<std::string> a, b;
  changed.for_each([&](std::string_view p, const SourceLocation& at) {
    a.push_back(std::string(p) + " " + at.to_string());
  });
  table.for_each([&](std::string_view p, const SourceLocation& at) {
    b.push_back(std::string(p) + " " + at.to_string());
  });
  EXPECT_EQ(a, b);
  EXPECT_EQ(changed.find("spec.replicas")->to_string(), "envs/prod/patch.yaml:3");
  EXPECT_FALSE(changed.find("metadata.labels.app"));
}

TEST(YamlCompact, SeveralDocumentsEmptyOnesAndJsonStream) {
  std::string text =
      std::string("---\n---\n") + kWorkload +
      "---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"
      "data:\n  key: \"value\"\n  other: |-\n    text\n...\n";
  ASSERT_TRUE(streams(text));
  expect_same_as_trees(text, "envs/prod/all.yaml");
  std::string json_text =
      R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"s","namespace":"n"},)"
      R"("spec":{"ports":[{"port":80,"name":"http"},{"port":1.5e3}],"x":[null,false,-0.0]}})";
  ASSERT_TRUE(streams(json_text));
  expect_same_as_trees(json_text, "envs/prod/svc.json");
}

TEST(YamlCompact, AKeyedElementNamedAfterItsOtherFieldsGetsItsKeyedPaths) {
  std::string text =
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
      "  - image: a\n    resources: {limits: {cpu: 1}}\n    name: late\n"
      "  - image: b\n";  // no name: an index path, and a shape the API refuses
  EXPECT_TRUE(streams(text));
  expect_same_as_trees(text, "pod.yaml");
  Result<CompactManifestSet> parsed = renderer::parse_manifest_file(text, "pod.yaml");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().to_string(),
            "pod.yaml:7: Pod p: spec.containers has an element without a string name");
}

TEST(YamlCompact, ShapesTheApiRefusesAreCheckedAndNamedAsBefore) {
  for (std::string body : {
           "  containers: {name: a}\n",
           "  containers: [a]\n",
           "  containers: [{name: 1}]\n",
           "  containers:\n  - name: a\n    env: [{name: DB_PASSWORD, value: 84629173}]\n",
           "  containers:\n  - name: a\n    env: [{name: X, value: {a: 1}}]\n",
           "  containers:\n  - name: a\n    env: {name: X}\n",
           "  containers:\n  - name: a\n    env: [{value: x}]\n",
           "  containers:\n  - name: a\n    env: [{name: X, value: null}, {name: Y}]\n",
           "  initContainers: []\n  containers: []\n",
       }) {
    std::string text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n" + body;
    EXPECT_TRUE(streams(text)) << body;
    expect_same_as_trees(text, "pod.yaml");
  }
  // A key field that is a collection is left to the tree path.
  std::string listed_name =
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
      "  containers: [{name: [a]}]\n";
  EXPECT_FALSE(streams(listed_name));
  expect_same_as_trees(listed_name, "pod.yaml");
  Result<CompactManifestSet> secret = renderer::parse_manifest_file(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n"
      "    env: [{name: DB_PASSWORD, value: 84629173}]\n",
      "pod.yaml");
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.error().to_string().find("84629173"), std::string::npos);
}

TEST(YamlCompact, WhatTheStreamDoesNotTakeTheTreesReadWithTheirErrors) {
  std::string head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n";
  for (const std::string& text : {
           head + "data: &d {a: b}\nother: *d\n",                // anchors, aliases
           head + "base: &b {x: 1}\ndata:\n  <<: *b\n  y: 2\n",  // a merge
           head + "data:\n  n: !!str 5\n",                       // an explicit tag
           head + "data: {a: 1, a: 2}\n",                        // a duplicate key
           std::string("apiVersion: v1\nkind: List\nitems:\n- ") + "apiVersion: v1\n  kind: "
                                                                   "ConfigMap\n  metadata: {name: "
                                                                   "l}\n",  // a List
           std::string("kind: ConfigMap\nmetadata: {name: c}\n"),           // no apiVersion
           std::string("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"),  // no name
           std::string("- a\n- b\n"),                                       // not a mapping
           std::string("just text\n"),
           head + "data: [unclosed\n",  // libyaml refuses
           head + "? [a, b]\n: c\n",    // a collection key
           head + "data:\n  key:\n",    // a key without a value is null, and streams
       }) {
    expect_same_as_trees(text, "c.yaml");
  }
  EXPECT_FALSE(streams(head + "data: &d {a: b}\n"));
  EXPECT_FALSE(streams(head + "data:\n  n: !!str 5\n"));
  EXPECT_FALSE(streams(head + "data: {a: 1, a: 2}\n"));
  EXPECT_TRUE(streams(head + "data:\n  key:\n"));
  EXPECT_TRUE(streams(head + "data:\n  '<<': {x: 1}\n"));  // a quoted "<<" is a key
  expect_same_as_trees(head + "data:\n  '<<': {x: 1}\n", "c.yaml");
  EXPECT_FALSE(streams(std::string("a: \"\\x00\"\n") + '\0'));
}

// Every YAML and JSON file of the fixtures: kustomize bases and overlays, helm output, the
// conformance cases, live snapshots. A file the tree path refuses must be refused the same.
TEST(YamlCompact, EveryFixtureFileReadsTheSameOnBothPaths) {
  size_t files = 0, streamed = 0;
  std::string all;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(PLUMBLINE_FIXTURES_DIR)) {
    std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".yaml" && ext != ".yml" && ext != ".json")) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    std::string name = std::filesystem::relative(entry.path(), PLUMBLINE_FIXTURES_DIR).string();
    expect_same_as_trees(text.str(), name);
    ++files;
    // All the files that stream, as one stream: parts cut between (and within) files.
    if (stream_yaml_manifests(text.str(), name)) all.append(text.str()).append("\n---\n");
    if (stream_yaml_manifests(text.str(), name)) ++streamed;
  }
  // Compared something, and most of it on the stream path.
  EXPECT_GT(files, 300U);
  EXPECT_GT(streamed, files / 2);
  expect_same_as_trees(all, "all.yaml");
  EXPECT_GT(split_yaml_stream(all, 64, 1).size(), 60U);
}

TEST(YamlCompact, AStreamIsCutJustBeforeDocumentMarkersAndCountsTheLinesBefore) {
  const std::string text =
      "a: 1\n"     // line 1
      "---\n"      // 2: a marker
      "b: |\n"     // 3
      "  ---\n"    // 4: indented, not a marker
      "---x: 2\n"  // 5: not a marker
      "--- \n"     // 6: a marker
      "c: 3\r\n"   // 7
      "---\r\n"    // 8: a marker
      "d: 4\n";    // 9
  // As many parts as it may cut: one per marker.
  std::vector<YamlStreamPart> parts = split_yaml_stream(text, 64, 1);
  ASSERT_EQ(parts.size(), 4U);
  EXPECT_EQ(parts[0].text, "a: 1\n");
  EXPECT_EQ(parts[0].lines_before, 0);
  EXPECT_EQ(parts[1].text, "---\nb: |\n  ---\n---x: 2\n");
  EXPECT_EQ(parts[1].lines_before, 1);
  EXPECT_EQ(parts[2].text, "--- \nc: 3\r\n");
  EXPECT_EQ(parts[2].lines_before, 5);
  EXPECT_EQ(parts[3].text, "---\r\nd: 4\n");
  EXPECT_EQ(parts[3].lines_before, 7);
  // Fewer parts than markers: cuts near equal sizes.
  EXPECT_EQ(split_yaml_stream(text, 2, 1).size(), 2U);
  // Too small for parts of min_part_bytes: whole.
  EXPECT_EQ(split_yaml_stream(text, 4, text.size()).size(), 1U);
  EXPECT_EQ(split_yaml_stream("a: 1\n---x\n", 4, 1).size(), 1U);  // no marker
  EXPECT_EQ(split_yaml_stream(text, 1, 1).size(), 1U);
}

TEST(YamlCompact, AStreamIsNotCutWhereACutWouldChangeHowItReads) {
  // A directive belongs to the next document; libyaml counts lines at a lone CR, NEL, LS, PS.
  for (std::string text :
       {"%YAML 1.1\n---\na: 1\n---\nb: 2\n", "a: 1\n---\nb: 2\n%TAG ! !x\n---\nc: 3\n",
        "a: 1\rb: 2\n---\nc: 3\n", "a: \"x\xC2\x85y\"\n---\nc: 3\n",
        "a: x\xE2\x80\xA8y\n---\nc: 3\n", "a: x\xE2\x80\xA9y\n---\nc: 3\n"}) {
    SCOPED_TRACE(text);
    std::vector<YamlStreamPart> parts = split_yaml_stream(text, 4, 1);
    ASSERT_EQ(parts.size(), 1U);
    EXPECT_EQ(parts[0].text, text);
  }
  // Other non-ASCII text is cut as usual, and so is a '%' that does not start a line.
  EXPECT_EQ(split_yaml_stream("a: \"ü\xE2\x80\xA6\"\n---\nb: 2\n", 4, 1).size(), 2U);
  EXPECT_EQ(split_yaml_stream("a: 50%\n---\nb: \"%x\"\n  %c\n", 4, 1).size(), 2U);
  EXPECT_EQ(split_yaml_stream("a: 50%\n---\n%YAML 1.1\n---\nb: 2\n", 4, 1).size(), 1U);
}

TEST(YamlCompact, PartsAreReadAtOnceAndAPartTheStreamRefusesSendsTheWholeToTheTrees) {
  std::string text;
  for (int i = 0; i < 6; ++i) {
    text += "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c" + std::to_string(i) +
            "\ndata:\n  k: v\n---\n";
  }
  ReversedRunner runner(3);
  auto streamed = stream_yaml_manifests(text, "f.yaml", &runner, 1);
  ASSERT_TRUE(streamed.has_value());
  EXPECT_EQ(runner.runs, 1U);
  ASSERT_EQ(streamed->size(), 6U);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ((*streamed)[i].manifest.ref().name, "c" + std::to_string(i));
    EXPECT_EQ((*streamed)[i].manifest.origin().line, static_cast<int>(1 + 7 * i));
  }
  // An anchor in the last document: that part needs the tree path, so the whole text does.
  std::string anchored = text + "apiVersion: v1\nkind: ConfigMap\nmetadata: &m\n  name: c6\n";
  EXPECT_FALSE(stream_yaml_manifests(anchored, "f.yaml", &runner, 1).has_value());
  expect_same_as_trees(anchored, "f.yaml");
}

}  // namespace
}  // namespace plumbline
