#include "plumbline/core/yaml.h"

#include <gtest/gtest.h>

namespace plumbline {
namespace {

TEST(Yaml, TypesPlainScalarsLikeKubernetes) {
  auto doc = parse_yaml(
      "a: 1\nb: '1'\nc: true\nd: yes\ne: 1.5\nf: ~\ng: 0x1f\nh: 0644\ni: 1e3\nj: 1Gi\n", "t.yaml");
  ASSERT_TRUE(doc.ok()) << doc.error().to_string();
  EXPECT_EQ(
      *doc,
      json::parse(
          R"({"a":1,"b":"1","c":true,"d":true,"e":1.5,"f":null,"g":31,"h":420,"i":1000.0,"j":"1Gi"})"));
}

TEST(Yaml, ErrorNamesFileLineAndColumn) {
  auto doc = parse_yaml("a: 1\nb: [1, 2\n", "envs/prod/x.yaml");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().where().rfind("envs/prod/x.yaml:", 0), 0u) << doc.error().to_string();
  EXPECT_NE(doc.error().message().find("invalid YAML"), std::string::npos);
}

TEST(Yaml, DuplicateKeysAreAnError) {
  auto doc = parse_yaml("a: 1\na: 2\n", "d.yaml");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().to_string(), "d.yaml:2:1: duplicate key 'a'");
}

TEST(Yaml, DeepFlowNestingIsRefusedNotACrash) {
  std::string deep(100000, '[');
  auto doc = parse_yaml(deep, "deep.yaml");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().to_string(), "deep.yaml:1: YAML nested deeper than 256 levels");
}

TEST(Yaml, NulBytesAreRefusedNotAHang) {
  // Found by the fuzzer: yaml-cpp 0.7 loops forever on this input (it guesses UTF-16).
  const std::string hang("a: 1\n\0,\0\x03# x\n  \"  - n\n", 20);
  auto doc = parse_yaml_documents(hang, "bin.yaml");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().to_string(),
            "bin.yaml:2: file contains a NUL byte (binary, or not UTF-8?)");
}

TEST(Yaml, LeadingCommaIsAnErrorNotAnEndlessLoop) {
  // Found by the fuzzer: yaml-cpp 0.7 emits events forever for a document starting with ','.
  for (const char* text : {",", "a: 1\n---\n,", "&a ,"}) {
    auto docs = parse_yaml_documents(text, "comma.yaml");
    ASSERT_FALSE(docs.ok()) << text;
    EXPECT_EQ(docs.error().message(), "invalid YAML: the parser made no progress") << text;
  }
}

TEST(Yaml, InvalidUtf8IsRefused) {
  // Found by the fuzzer: json::dump() throws on such strings, so a report could abort.
  for (const std::string text :
       {"a: 1\nb: \xff\n", "a: \xc3\n", "a: \xc0\xaf\n", "a: \xed\xa0\x80\n"}) {
    auto docs = parse_yaml_documents(text, "u.yaml");
    ASSERT_FALSE(docs.ok());
    EXPECT_EQ(docs.error().message(), "file is not valid UTF-8");
  }
  EXPECT_EQ(parse_yaml_documents("a: 1\nb: \xff\n", "u.yaml").error().where(), "u.yaml:2");
  auto ok = parse_yaml("a: \"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82\"\n", "u.yaml");
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ((*ok)["a"].dump(), "\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82\"");
}

TEST(Yaml, MergeKeysAndAnchors) {
  auto doc = parse_yaml("base: &b {cpu: 1, memory: 2Gi}\nprod:\n  <<: *b\n  cpu: 2\n", "m.yaml");
  ASSERT_TRUE(doc.ok()) << doc.error().to_string();
  EXPECT_EQ((*doc)["prod"], json::parse(R"({"cpu":2,"memory":"2Gi"})"));
}

TEST(Yaml, MultiDocumentWithLinesAndFieldOrigins) {
  std::string text =
      "apiVersion: v1\nkind: A\n---\napiVersion: v1\nkind: B\nspec:\n  containers:\n  - name: "
      "app\n    image: x\n";
  auto docs = parse_yaml_documents(text, "m.yaml", {.field_origins = true});
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[1].location.line, 4);
  ASSERT_TRUE((*docs)[1].fields);
  EXPECT_EQ((*docs)[1].fields->find("spec.containers[name=app].image")->line, 9);
}

TEST(Yaml, RoundTripsStringsThatLookLikeOtherTypes) {
  json value =
      json::parse(R"({"a":"true","b":"1","c":"","d":"multi\nline","e":"null","f":3,"g":[1,"2"]})");
  auto back = parse_yaml(to_yaml(value), "rt.yaml");
  ASSERT_TRUE(back.ok()) << back.error().to_string() << "\n" << to_yaml(value);
  EXPECT_EQ(*back, value);
}

TEST(Yaml, AliasBombIsBounded) {
  std::string text =
      "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, "
      "*c]\n";
  auto docs = parse_yaml_documents(text, "bomb.yaml", {.max_memory = 100'000});
  ASSERT_FALSE(docs.ok());
  EXPECT_NE(docs.error().message().find("in memory (an alias bomb?)"), std::string::npos);
}

// Nine documents of 9^6 = 531,441 expanded nodes each: every document alone is small (about
// 65 MiB), the file together is not; the budget counts the whole file.
std::string multi_document_bomb() {
  std::string doc =
      "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
      "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
  std::string text;
  for (int i = 0; i < 9; ++i) text += "---\n" + doc;
  return text;
}

TEST(Yaml, AliasBudgetCountsTheWholeFileNotEachDocument) {
  std::string text = multi_document_bomb();
  auto one = parse_yaml_documents(text.substr(0, text.size() / 9), "one.yaml");
  ASSERT_TRUE(one.ok()) << one.error().to_string();
  auto all = parse_yaml_documents(text, "bomb.yaml");
  ASSERT_FALSE(all.ok());
  EXPECT_NE(all.error().to_string().find("bomb.yaml:"), std::string::npos);
  EXPECT_NE(all.error().message().find("MiB in memory (an alias bomb?)"), std::string::npos);
}

}  // namespace
}  // namespace plumbline
