// doc_search over the real stores, SQLite and PostgreSQL alike: a small corpus on distinct
// topics ranks the right passage first, hostile queries never fail, and the tool validates
// its arguments.
#include "tools/doc_search.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <thread>

#include "conformance/store_backends.h"
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

class doc_search_test : public ::testing::TestWithParam<grok::testing::store_backend> {
 protected:
  void SetUp() override {
    store_ = GetParam().open(dir_, system_clock::instance());
    ASSERT_TRUE(store_);
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

TEST_P(doc_search_test, the_right_document_ranks_first) {
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

TEST_P(doc_search_test, the_right_passage_of_a_long_document_ranks_first) {
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

TEST_P(doc_search_test, hits_are_best_first_and_k_is_clamped) {
  ingest_corpus();
  const auto hits = search("section covers the and of", 50);
  ASSERT_GE(hits.size(), 4U);
  for (std::size_t i = 1; i < hits.size(); ++i) EXPECT_GE(hits[i - 1].score, hits[i].score);
  EXPECT_EQ(search("section", 1).size(), 1U);
  EXPECT_EQ(search("section", 0).size(), 1U);
  EXPECT_EQ(search("section", -5).size(), 1U);
  EXPECT_LE(search("the", 1'000'000).size(), static_cast<std::size_t>(store::k_max_document_hits));
}

TEST_P(doc_search_test, scripts_styles_and_markup_are_not_indexed) {
  ingest_corpus();
  EXPECT_TRUE(search("zanzibar").empty());
  EXPECT_TRUE(search("quokka").empty());
  EXPECT_TRUE(search("html body").empty());
  EXPECT_EQ(top_source("Sourdough bread"), "bread.html");  // the title is
}

TEST_P(doc_search_test, hostile_queries_give_no_error) {
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

TEST_P(doc_search_test, an_empty_store_finds_nothing) {
  EXPECT_TRUE(search("kafka").empty());
  EXPECT_TRUE(search("AND OR NEAR( \"*").empty());
}

TEST_P(doc_search_test, a_removed_document_is_no_longer_found) {
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

// Search syntax of every backend (FTS5's and PostgreSQL's tsquery) is only separators.
TEST_P(doc_search_test, query_syntax_of_any_backend_gives_no_error) {
  ingest_corpus();
  const std::vector<std::string> queries = {
      "kafka & topics",
      "kafka | topics",
      "!kafka",
      "kafka:*",
      "kafka:A",
      "kafka:AB*",
      "kafka <-> topics",
      "kafka <2> topics",
      "&|!():*<->",
      "!!!(((",
      "'kafka'",
      "'",
      "''",
      "\\",
      "\\\\",
      "kafka\\",
      "\\'kafka",
      "E'\\x00'",
      "U&'\\0000'",
      "$1 $$ $q$",
      "%_%",
      "'; SELECT pg_sleep(10); --",
      std::string("kafka\0topics", 12),
      std::string(3, '\0'),
      "\x01\x02\x1F",
      "the and of",
      "\xC0\x80",  // an overlong NUL
      std::string(1000, '\''),
      std::string(1000, '\\'),
  };
  for (const auto& q : queries) {
    auto hits = store_->search_documents(q, 5);
    ASSERT_TRUE(hits) << q.substr(0, 40) << ": " << describe(hits.error());
  }
  EXPECT_EQ(top_source("kafka & topics"), "kafka.md");
  EXPECT_EQ(top_source("!kafka"), "kafka.md");
  EXPECT_EQ(top_source("kafka:*"), "kafka.md");
  EXPECT_EQ(top_source("'kafka'"), "kafka.md");
  EXPECT_EQ(top_source("\\'kafka"), "kafka.md");
  EXPECT_EQ(top_source(std::string("kafka\0topics", 12)), "kafka.md");
  EXPECT_TRUE(search("&|!():*<->").empty());
  EXPECT_TRUE(search(std::string(3, '\0')).empty());
}

result<store::ingest_outcome> ingest_one(store::store& st, const store::document_input& doc) {
  store::ingest_outcome out;
  auto done = st.transact([&](store::transaction& tx) -> result<void> {
    auto r = tx.ingest_document(doc);
    if (!r) return tl::unexpected(r.error());
    out = *r;
    return {};
  });
  if (!done) return tl::unexpected(done.error());
  return out;
}

store::document_input document(const std::string& source, const std::string& title,
                               std::vector<std::string> chunks, const std::string& sha256) {
  store::document_input doc;
  doc.source = source;
  doc.title = title;
  for (const auto& c : chunks) doc.content += (doc.content.empty() ? "" : "\n\n") + c;
  doc.chunks = std::move(chunks);
  doc.sha256 = sha256;
  return doc;
}

TEST_P(doc_search_test, text_full_of_search_syntax_is_stored_and_found) {
  const auto doc = document(
      "/docs/o'reilly \"quoted\" \\path", "O'Reilly & Sons: a|b <-> !c",
      {"Backslashes \\ and quotes ' \" and tsquery & | ! ( ) : * <-> and FTS5 NEAR( col: ^x "
       "all sit in this zymurgy passage."},
      "sha-1");
  auto added = ingest_one(*store_, doc);
  ASSERT_TRUE(added) << describe(added.error());
  const auto hits = search("zymurgy");
  ASSERT_EQ(hits.size(), 1U);
  EXPECT_EQ(hits[0].source, doc.source);
  EXPECT_EQ(hits[0].title, doc.title);
  EXPECT_EQ(hits[0].content, doc.chunks[0]);
  EXPECT_EQ(top_source("Reilly sons"), doc.source.substr(doc.source.rfind('/') + 1));
}

TEST_P(doc_search_test, punctuation_splits_words_as_it_does_in_a_query) {
  ASSERT_TRUE(ingest_one(*store_, document("net.txt", "net",
                                           {"See https://example.com/guide.html, run "
                                            "kafka-topics --create, write to ops@example.org; "
                                            "version 3.14 (“quoted”—dashed…)."},
                                           "n1")));
  for (const char* query : {"guide", "example", "com", "topics", "ops", "org", "14", "quoted",
                            "dashed", "example.com", "kafka-topics", "ops@example.org"}) {
    EXPECT_EQ(top_source(query), "net.txt") << query;
  }
}

TEST_P(doc_search_test, a_title_match_ranks_above_a_body_match) {
  if (GetParam().name == "sqlite") {
    // bm25(…, 0.5, 1.0) there: every chunk carries its title, so the body decides.
    GTEST_SKIP() << "SQLite weights the title below the body";
  }
  ASSERT_TRUE(ingest_one(
      *store_, document("body.txt", "Savanna notes",
                        {"Herds of antelope graze; a zebra was seen near the river at dawn, "
                         "and the antelope moved on to the hills before noon."},
                        "b1")));
  ASSERT_TRUE(ingest_one(
      *store_, document("title.txt", "Zebra stripes",
                        {"Each animal has a pattern of its own, as a fingerprint is, and the "
                         "pattern helps the herd confuse a lion at dusk."},
                        "t1")));
  const auto hits = search("zebra");
  ASSERT_EQ(hits.size(), 2U);
  EXPECT_EQ(hits[0].source, "title.txt");
  EXPECT_GT(hits[0].score, hits[1].score);
}

TEST_P(doc_search_test, a_snippet_marks_the_matches_and_where_the_passage_was_cut) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "filler words go on here. ";
  text += "The narwhal surfaced. ";
  for (int i = 0; i < 40; ++i) text += "more filler follows there. ";
  text.pop_back();
  ASSERT_TRUE(ingest_one(*store_, document("sea.txt", "sea", {text}, "s1")));
  const auto hits = search("narwhal");
  ASSERT_EQ(hits.size(), 1U);
  const auto& snippet = hits[0].snippet;
  EXPECT_NE(snippet.find("[narwhal]"), std::string::npos) << snippet;
  EXPECT_TRUE(snippet.starts_with("…")) << snippet;
  EXPECT_TRUE(snippet.ends_with("…")) << snippet;
  EXPECT_LT(snippet.size(), 400U) << snippet;
}

TEST_P(doc_search_test, ingest_adds_then_leaves_unchanged_then_replaces_keeping_the_id) {
  auto added = ingest_one(*store_, document("a.txt", "A", {"alpha one", "alpha two"}, "v1"));
  ASSERT_TRUE(added) << describe(added.error());
  EXPECT_EQ(added->status, store::ingest_status::added);
  EXPECT_EQ(added->chunks, 2);
  auto same = ingest_one(*store_, document("a.txt", "A", {"alpha one", "alpha two"}, "v1"));
  ASSERT_TRUE(same);
  EXPECT_EQ(same->status, store::ingest_status::unchanged);
  EXPECT_EQ(same->document_id, added->document_id);
  EXPECT_EQ(same->chunks, 2);
  auto replaced = ingest_one(*store_, document("a.txt", "", {"beta only"}, "v2"));
  ASSERT_TRUE(replaced);
  EXPECT_EQ(replaced->status, store::ingest_status::replaced);
  EXPECT_EQ(replaced->document_id, added->document_id);
  EXPECT_EQ(replaced->chunks, 1);
  EXPECT_TRUE(search("alpha").empty());
  const auto hits = search("beta");
  ASSERT_EQ(hits.size(), 1U);
  EXPECT_EQ(hits[0].chunk_ord, 0);
  EXPECT_EQ(hits[0].title, "");
  auto listed = store_->list_documents();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1U);
  EXPECT_EQ((*listed)[0].id, added->document_id);
  EXPECT_EQ((*listed)[0].sha256, "v2");
  EXPECT_EQ((*listed)[0].title, "");
  EXPECT_EQ((*listed)[0].chunks, 1);
}

TEST_P(doc_search_test, many_chunks_keep_their_order) {
  std::vector<std::string> chunks;
  for (int i = 0; i < 1234; ++i) chunks.push_back("chunk number w" + std::to_string(i));
  auto added = ingest_one(*store_, document("many.txt", "many", chunks, "m1"));
  ASSERT_TRUE(added) << describe(added.error());
  EXPECT_EQ(added->chunks, 1234);
  for (int i : {0, 499, 500, 1233}) {
    const auto hits = search("w" + std::to_string(i));
    ASSERT_EQ(hits.size(), 1U) << i;
    EXPECT_EQ(hits[0].chunk_ord, i);
    EXPECT_EQ(hits[0].content, chunks[static_cast<std::size_t>(i)]);
  }
}

TEST_P(doc_search_test, refused_documents_leave_the_transaction_usable) {
  std::vector<store::document_input> bad;
  bad.push_back(document("", "t", {"x"}, "s"));
  bad.push_back(document("s", "t", {"x"}, ""));
  bad.push_back(document("s", "t", {""}, "s"));
  bad.push_back(document("s", "t", {std::string("nul\0byte", 8)}, "s"));
  bad.push_back(document("s", "t", {"bad \xFF utf-8"}, "s"));
  bad.push_back(document("s\xC0\x80", "t", {"x"}, "s"));
  bad.push_back(document("s", std::string(store::k_max_document_title_bytes + 1, 't'), {"x"}, "s"));
  bad.push_back(
      document(std::string(store::k_max_document_source_bytes + 1, 's'), "t", {"x"}, "s"));
  bad.push_back(document("s", "t", {std::string(store::k_max_document_chunk_bytes + 1, 'x')}, "s"));
  auto done = store_->transact([&](store::transaction& tx) -> result<void> {
    for (const auto& doc : bad) {
      auto r = tx.ingest_document(doc);
      EXPECT_FALSE(r) << doc.source.substr(0, 20);
      if (!r) {
        EXPECT_EQ(r.error().code, errc::invalid_argument) << describe(r.error());
      }
    }
    for (const std::string& source : {std::string("missing"), std::string("bad\xFF")}) {
      auto r = tx.remove_document(source);
      EXPECT_FALSE(r);
      if (!r) {
        EXPECT_EQ(r.error().code, errc::not_found) << describe(r.error());
      }
    }
    auto ok = tx.ingest_document(document("good.txt", "good", {"quokka habitat"}, "g1"));
    if (!ok) return tl::unexpected(ok.error());
    return {};
  });
  ASSERT_TRUE(done) << describe(done.error());
  EXPECT_EQ(top_source("quokka"), "good.txt");
}

TEST_P(doc_search_test, concurrent_ingests_of_one_source_make_one_document) {
  constexpr int k_threads = 4;
  std::vector<std::thread> threads;
  std::vector<result<store::ingest_outcome>> outcomes(k_threads);
  for (int i = 0; i < k_threads; ++i) {
    threads.emplace_back([&, i] {
      outcomes[static_cast<std::size_t>(i)] =
          ingest_one(*store_, document("same.txt", "same", {"ocelot den"}, "o1"));
    });
  }
  for (auto& t : threads) t.join();
  int added = 0;
  int unchanged = 0;
  for (const auto& o : outcomes) {
    ASSERT_TRUE(o) << describe(o.error());
    if (o->status == store::ingest_status::added) ++added;
    if (o->status == store::ingest_status::unchanged) ++unchanged;
    EXPECT_EQ(o->document_id, outcomes[0]->document_id);
  }
  EXPECT_EQ(added, 1);
  EXPECT_EQ(unchanged, k_threads - 1);
  EXPECT_EQ(search("ocelot").size(), 1U);
}

TEST_P(doc_search_test, documents_are_listed_by_source_bytes) {
  for (const char* source : {"b.txt", "B.txt", "a.txt", "\xC3\xA9.txt", "_.txt"}) {
    ASSERT_TRUE(ingest_one(*store_, document(source, "", {"text"}, "x")));
  }
  auto listed = store_->list_documents();
  ASSERT_TRUE(listed);
  std::vector<std::string> sources;
  for (const auto& d : *listed) sources.push_back(d.source);
  EXPECT_EQ(sources,
            (std::vector<std::string>{"B.txt", "_.txt", "a.txt", "b.txt", "\xC3\xA9.txt"}));
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

TEST_P(doc_search_tool_test, returns_ranked_passages_with_sources) {
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

TEST_P(doc_search_tool_test, nothing_ingested_gives_the_hint) {
  auto out = invoke({{"query", "kafka"}});
  ASSERT_TRUE(out) << describe(out.error());
  EXPECT_NE(out->text.find("grok docs ingest"), std::string::npos) << out->text;
}

TEST_P(doc_search_tool_test, no_match_says_so) {
  ingest_corpus();
  for (const char* query : {"xylophone", "!!!", "\"*"}) {
    auto out = invoke({{"query", query}});
    ASSERT_TRUE(out) << describe(out.error());
    EXPECT_EQ(out->text, "No documents match this query.") << query;
  }
}

TEST_P(doc_search_tool_test, validates_its_arguments) {
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

TEST_P(doc_search_tool_test, direct_calls_with_bad_arguments_do_not_throw) {
  auto tool = make_doc_search_tool(*store_);
  for (const auto& args : {json::array(), json{{"query", 1}}, json{{"query", "x"}, {"k", 1e9}},
                           json{{"query", "x"}, {"k", 99}}, json(nullptr)}) {
    auto out = tool->invoke(args, ctx_);
    ASSERT_FALSE(out) << args.dump();
    EXPECT_EQ(out.error().code, errc::invalid_argument) << args.dump();
  }
}

TEST_P(doc_search_tool_test, a_cancelled_call_stops) {
  std::stop_source stop;
  stop.request_stop();
  ctx_.stop = stop.get_token();
  auto out = invoke({{"query", "kafka"}});
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, errc::cancelled);
}

INSTANTIATE_TEST_SUITE_P(backends, doc_search_test,
                         ::testing::ValuesIn(grok::testing::all_store_backends()),
                         grok::testing::backend_name);
INSTANTIATE_TEST_SUITE_P(backends, doc_search_tool_test,
                         ::testing::ValuesIn(grok::testing::all_store_backends()),
                         grok::testing::backend_name);

}  // namespace
}  // namespace grok::tools
