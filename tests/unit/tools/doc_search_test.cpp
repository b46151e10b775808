// doc_search over the real SQLite store: a small corpus on distinct topics ranks the right
// passage first, hostile queries never fail, and the tool validates its arguments.
#include "tools/doc_search.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "store/open_store.h"
#include "tests_support/temp_dir.h"
#include "tools/doc_ingest.h"

namespace grok::tools {
namespace {

namespace fs = std::filesystem;
using grok::testing::temp_dir;
using json = nlohmann::json;

void write_file(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// One paragraph of about `bytes` bytes: a topic sentence and filler that every section
// shares, so that only the topic words tell sections apart.
std::string section(const std::string& topic, std::size_t bytes) {
  std::string s = topic;
  while (s.size() < bytes) s += " This section of the handbook continues with general remarks.";
  return s;
}

class doc_search_test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto st = store::open_store({.url = dir_.file("grok.db")});
    ASSERT_TRUE(st) << describe(st.error());
    store_ = std::move(*st);
  }

  void ingest_corpus() {
    const auto c = dir_.path() / "corpus";
    write_file(c / "kafka.md",
               "# Apache Kafka\n\nKafka stores streams of records in topics. A topic is split "
               "into partitions spread over brokers. Consumers in a consumer group share the "
               "partitions and commit their offsets.\n\n```\nkafka-topics --create\n```\n");
    write_file(c / "bread.html",
               "<html><head><title>Sourdough bread</title><style>.quokka{color:red}</style>"
               "<script>var zanzibar = 'tracking';</script></head><body><h1>Baking</h1>"
               "<p>A sourdough starter is a fermentation of flour and water by wild yeast "
               "and lactobacilli.</p><p>Knead the dough, let it rise, and bake it in a hot "
               "oven.</p></body></html>");
    write_file(c / "photosynthesis.txt",
               "Photosynthesis is how plants capture sunlight. Chlorophyll in the leaves "
               "absorbs light and turns carbon dioxide and water into glucose and oxygen.\n");
    write_file(c / "volcanoes.txt",
               "Volcanoes erupt when magma rises through the crust. An eruption can throw ash "
               "high into the atmosphere, and lava flows downhill from the vent.\n");
    write_file(c / "chess.md",
               "# Chess rules\n\nCastling moves the king two squares toward a rook. En passant "
               "captures a pawn that has just advanced two squares.\n");
    // Several chunks, one section each: the right passage, not just the right file.
    std::string handbook;
    for (const auto& topic :
         {"Section one covers glaciers and how ice sheets carve valleys.",
          "Section two covers lighthouses and the lenses that focus their beams.",
          "Section three covers beekeeping: hives, queens and the harvest of honey.",
          "Section four covers telescopes, mirrors and the observation of distant nebulae."}) {
      if (!handbook.empty()) handbook += "\n\n";
      handbook += section(topic, 900);
    }
    write_file(c / "handbook.txt", handbook);
    const auto totals = ingest_paths(*store_, {c.string()}, [](const file_report& r) {
      EXPECT_TRUE(r.outcome == file_outcome::added) << r.path << ": " << r.detail;
    });
    ASSERT_EQ(totals.added, 6);
  }

  std::vector<store::document_hit> search(std::string_view query, int k = 5) {
    auto hits = store_->search_documents(query, k);
    EXPECT_TRUE(hits) << describe(hits.error());
    return hits ? *hits : std::vector<store::document_hit>{};
  }

  std::string top_source(std::string_view query) {
    const auto hits = search(query);
    return hits.empty() ? std::string("(none)") : fs::path(hits[0].source).filename().string();
  }

  temp_dir dir_;
  std::unique_ptr<store::store> store_;
};

TEST_F(doc_search_test, the_right_document_ranks_first) {
  ingest_corpus();
  EXPECT_EQ(top_source("kafka consumer group offsets"), "kafka.md");
  EXPECT_EQ(top_source("how do brokers store partitions"), "kafka.md");
  EXPECT_EQ(top_source("sourdough starter fermentation"), "bread.html");
  EXPECT_EQ(top_source("knead dough oven"), "bread.html");
  EXPECT_EQ(top_source("How do plants capture sunlight?"), "photosynthesis.txt");
  EXPECT_EQ(top_source("chlorophyll glucose"), "photosynthesis.txt");
  EXPECT_EQ(top_source("magma eruption lava"), "volcanoes.txt");
  EXPECT_EQ(top_source("erupting volcano"), "volcanoes.txt");  // stemmed
  EXPECT_EQ(top_source("castling en passant"), "chess.md");
  EXPECT_EQ(top_source("rules of chess"), "chess.md");
}

TEST_F(doc_search_test, the_right_passage_of_a_long_document_ranks_first) {
  ingest_corpus();
  const std::vector<std::pair<std::string, std::int64_t>> cases = {
      {"glaciers ice sheets", 0},
      {"lighthouse lenses", 1},
      {"beekeeping queens hives", 2},
      {"telescope mirrors nebulae", 3}};
  for (const auto& [query, ord] : cases) {
    const auto hits = search(query);
    ASSERT_FALSE(hits.empty()) << query;
    EXPECT_EQ(fs::path(hits[0].source).filename(), "handbook.txt") << query;
    EXPECT_EQ(hits[0].chunk_ord, ord) << query;
    EXPECT_EQ(hits[0].title, "handbook.txt");
    EXPECT_TRUE(hits[0].content.starts_with("Section ")) << hits[0].content;
    EXPECT_NE(hits[0].snippet.find('['), std::string::npos) << hits[0].snippet;
  }
}

TEST_F(doc_search_test, hits_are_best_first_and_k_is_clamped) {
  ingest_corpus();
  const auto hits = search("section covers the and of", 50);
  ASSERT_GE(hits.size(), 4U);
  for (std::size_t i = 1; i < hits.size(); ++i) EXPECT_GE(hits[i - 1].score, hits[i].score);
  EXPECT_EQ(search("section", 1).size(), 1U);
  EXPECT_EQ(search("section", 0).size(), 1U);
  EXPECT_EQ(search("section", -5).size(), 1U);
  EXPECT_LE(search("the", 1'000'000).size(), static_cast<std::size_t>(store::k_max_document_hits));
}

TEST_F(doc_search_test, scripts_styles_and_markup_are_not_indexed) {
  ingest_corpus();
  EXPECT_TRUE(search("zanzibar").empty());
  EXPECT_TRUE(search("quokka").empty());
  EXPECT_TRUE(search("html body").empty());
  EXPECT_EQ(top_source("Sourdough bread"), "bread.html");  // the title is
}

TEST_F(doc_search_test, hostile_queries_give_no_error) {
  ingest_corpus();
  std::string long_query;
  std::mt19937 rng(7);
  while (long_query.size() < 100 * 1024) {
    long_query += "word" + std::to_string(rng() % 100000) + " ";
  }
  std::string long_word(100 * 1024, 'k');
  const std::vector<std::string> queries = {
      "AND OR NEAR( \"*",
      "col:",
      "title:kafka",
      "{title content}: kafka",
      "",
      "   ",
      "!!! ,,, ;;; ... ???",
      "\"",
      "\"\"\"",
      "kafka\"",
      "-kafka",
      "kafka*",
      "^kafka",
      "NOT kafka",
      "AND",
      "OR OR OR",
      "NEAR(kafka topics, 2)",
      "((((kafka",
      ")",
      "'; DROP TABLE documents; --",
      "\xFF\xFE\x80",
      "kafka\xFF\xC0\xAFtopics",
      "\xED\xA0\x80 surrogate",
      std::string("nul\0byte", 8),
      "emoji 😀 and CJK 卡夫卡",
      long_query,
      long_word,
  };
  for (const auto& q : queries) {
    auto hits = store_->search_documents(q, 5);
    ASSERT_TRUE(hits) << q.substr(0, 40) << ": " << describe(hits.error());
  }
  // The words in them are still searched for.
  EXPECT_EQ(top_source("title:kafka"), "kafka.md");
  EXPECT_EQ(top_source("NEAR(kafka topics, 2)"), "kafka.md");
  EXPECT_EQ(top_source("kafka\xFF\xC0\xAF"), "kafka.md");
  EXPECT_TRUE(search("").empty());
  EXPECT_TRUE(search("!!! ,,, ;;; ... ???").empty());
  EXPECT_TRUE(search("\xFF\xFE\x80").empty());
  EXPECT_TRUE(search(long_word).empty());
}

TEST_F(doc_search_test, an_empty_store_finds_nothing) {
  EXPECT_TRUE(search("kafka").empty());
  EXPECT_TRUE(search("AND OR NEAR( \"*").empty());
}

TEST_F(doc_search_test, a_removed_document_is_no_longer_found) {
  ingest_corpus();
  const auto source = fs::canonical(dir_.path() / "corpus/chess.md").string();
  ASSERT_TRUE(store_->transact(
      [&](store::transaction& tx) -> result<void> { return tx.remove_document(source); }));
  EXPECT_TRUE(search("castling").empty());
  auto again = store_->transact(
      [&](store::transaction& tx) -> result<void> { return tx.remove_document(source); });
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, errc::not_found);
}

// --- the tool, through a registry as the engine calls it ---

class doc_search_tool_test : public doc_search_test {
 protected:
  void SetUp() override {
    doc_search_test::SetUp();
    ASSERT_TRUE(registry_.add(make_doc_search_tool(*store_)));
  }
  result<tool_output> invoke(const json& args) {
    return registry_.invoke("doc_search", args, ctx_);
  }

  tool_registry registry_;
  tool_context ctx_;
};

TEST_F(doc_search_tool_test, returns_ranked_passages_with_sources) {
  ingest_corpus();
  auto out = invoke({{"query", "kafka partitions"}, {"k", 2}});
  ASSERT_TRUE(out) << describe(out.error());
  const auto kafka = fs::canonical(dir_.path() / "corpus/kafka.md").string();
  EXPECT_TRUE(out->text.starts_with("[1] " + kafka + " — Apache Kafka (passage 1, score "))
      << out->text;
  EXPECT_NE(out->text.find("consumer group"), std::string::npos) << out->text;
  EXPECT_EQ(out->text.find("[3]"), std::string::npos);

  auto defaults = invoke({{"query", "section covers"}});
  ASSERT_TRUE(defaults);
  EXPECT_NE(defaults->text.find("[4] "), std::string::npos) << defaults->text;
}

TEST_F(doc_search_tool_test, nothing_ingested_gives_the_hint) {
  auto out = invoke({{"query", "kafka"}});
  ASSERT_TRUE(out) << describe(out.error());
  EXPECT_NE(out->text.find("grok docs ingest"), std::string::npos) << out->text;
}

TEST_F(doc_search_tool_test, no_match_says_so) {
  ingest_corpus();
  for (const char* query : {"xylophone", "!!!", "\"*"}) {
    auto out = invoke({{"query", query}});
    ASSERT_TRUE(out) << describe(out.error());
    EXPECT_EQ(out->text, "No documents match this query.") << query;
  }
}

TEST_F(doc_search_tool_test, validates_its_arguments) {
  ingest_corpus();
  const std::vector<json> bad = {
      json::object(),
      json{{"k", 3}},
      json{{"query", nullptr}},
      json{{"query", 5}},
      json{{"query", json::array({"kafka"})}},
      json{{"query", ""}},
      json{{"query", std::string(1001, 'a')}},
      json{{"query", "kafka"}, {"k", 0}},
      json{{"query", "kafka"}, {"k", 21}},
      json{{"query", "kafka"}, {"k", -1}},
      json{{"query", "kafka"}, {"k", "3"}},
      json{{"query", "kafka"}, {"k", 2.5}},
      json{{"query", "kafka"}, {"k", true}},
      json{{"query", "kafka"}, {"limit", 3}},
      json::array({"kafka"}),
      json("kafka"),
  };
  for (const auto& args : bad) {
    auto out = invoke(args);
    ASSERT_FALSE(out) << args.dump();
    EXPECT_EQ(out.error().code, errc::invalid_argument) << args.dump();
    EXPECT_FALSE(out.error().retryable);
  }
  for (int k : {1, 20}) EXPECT_TRUE(invoke({{"query", "kafka"}, {"k", k}})) << k;
  EXPECT_TRUE(invoke({{"query", std::string(1000, 'a')}}));
}

TEST_F(doc_search_tool_test, direct_calls_with_bad_arguments_do_not_throw) {
  auto tool = make_doc_search_tool(*store_);
  for (const auto& args : {json::array(), json{{"query", 1}}, json{{"query", "x"}, {"k", 1e9}},
                           json{{"query", "x"}, {"k", 99}}, json(nullptr)}) {
    auto out = tool->invoke(args, ctx_);
    ASSERT_FALSE(out) << args.dump();
    EXPECT_EQ(out.error().code, errc::invalid_argument) << args.dump();
  }
}

TEST_F(doc_search_tool_test, a_cancelled_call_stops) {
  std::stop_source stop;
  stop.request_stop();
  ctx_.stop = stop.get_token();
  auto out = invoke({{"query", "kafka"}});
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, errc::cancelled);
}

}  // namespace
}  // namespace grok::tools
