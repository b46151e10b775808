// Reading documents for doc_search: chunking, text extraction, the files read_document
// refuses, and ingest_paths over a directory against the real stores (SQLite, PostgreSQL).
#include "tools/doc_ingest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>

#include "conformance/store_backends.h"
#include "tests_support/temp_dir.h"

namespace grok::tools {
namespace {

namespace fs = std::filesystem;
using grok::testing::temp_dir;

void write_file(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

bool is_valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    if (b < 0x80U) {
      len = 1;
    } else if ((b & 0xE0U) == 0xC0U) {
      len = 2;
    } else if ((b & 0xF0U) == 0xE0U) {
      len = 3;
    } else if ((b & 0xF8U) == 0xF0U) {
      len = 4;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0U) != 0x80U) return false;
    }
    i += len;
  }
  return true;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n'; }

std::string without_space(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (!is_space(c)) out += c;
  }
  return out;
}

// The invariants every chunking keeps, whatever the text.
void expect_well_formed(std::string_view text, const std::vector<std::string>& chunks,
                        std::size_t max) {
  for (const auto& c : chunks) {
    ASSERT_FALSE(c.empty());
    EXPECT_LE(c.size(), max);
    EXPECT_FALSE(is_space(c.front())) << c;
    EXPECT_FALSE(is_space(c.back())) << c;
    EXPECT_NE(text.find(c), std::string_view::npos) << "not a passage of the text: " << c;
  }
}

std::string paragraph(int n, std::size_t bytes) {
  std::string p = "Paragraph " + std::to_string(n) + " begins.";
  while (p.size() < bytes) p += " Words of paragraph " + std::to_string(n) + " go on.";
  return p;
}

// --- split_into_chunks ---

TEST(split_into_chunks, short_text_is_one_trimmed_chunk) {
  const auto chunks = split_into_chunks("  \n\tHello, world.\n\n ");
  ASSERT_EQ(chunks.size(), 1U);
  EXPECT_EQ(chunks[0], "Hello, world.");
}

TEST(split_into_chunks, no_text_gives_no_chunks) {
  EXPECT_TRUE(split_into_chunks("").empty());
  EXPECT_TRUE(split_into_chunks(" \n\n\t  \n").empty());
  EXPECT_TRUE(split_into_chunks(std::string(1024 * 1024, ' ')).empty());
  EXPECT_TRUE(split_into_chunks(std::string(100'000, '\n')).empty());
}

TEST(split_into_chunks, cuts_between_paragraphs_without_overlap) {
  std::vector<std::string> paragraphs;
  std::string text;
  for (int i = 0; i < 12; ++i) {
    paragraphs.push_back(paragraph(i, 300));
    if (i > 0) text += "\n\n";
    text += paragraphs.back();
  }
  const auto chunks = split_into_chunks(text);
  expect_well_formed(text, chunks, 1200);
  ASSERT_GT(chunks.size(), 2U);
  // Whole paragraphs, each exactly once, in order.
  std::vector<std::string> seen;
  for (const auto& c : chunks) {
    EXPECT_GE(c.size(), 800U - 4) << c;  // every chunk but the last reaches min_bytes
    std::size_t from = 0;
    while (true) {
      const auto at = c.find("\n\n", from);
      seen.push_back(c.substr(from, at == std::string::npos ? std::string::npos : at - from));
      if (at == std::string::npos) break;
      from = at + 2;
    }
  }
  EXPECT_EQ(seen, paragraphs);
}

TEST(split_into_chunks, prefers_a_line_end_to_a_sentence_end) {
  std::string text;
  for (int i = 0; text.size() < 5000; ++i) {
    text += "Line " + std::to_string(i) + " has a sentence. And a second one here";
    text += i % 2 == 0 ? " and more words\n" : ".\n";
  }
  const auto chunks = split_into_chunks(text);
  expect_well_formed(text, chunks, 1200);
  for (std::size_t i = 0; i + 1 < chunks.size(); ++i) {
    // Each chunk ends where a line ends in the text.
    const auto at = text.find(chunks[i]);
    ASSERT_NE(at, std::string::npos);
    EXPECT_EQ(text[at + chunks[i].size()], '\n') << chunks[i];
  }
}

TEST(split_into_chunks, sentences_with_overlap) {
  std::string text;
  for (int i = 0; text.size() < 6000; ++i) {
    text += "Sentence number " + std::to_string(i) + " says something about topic " +
            std::to_string(i * 7) + ". ";
  }
  const chunk_options options;
  const auto chunks = split_into_chunks(text, options);
  expect_well_formed(text, chunks, options.max_bytes);
  ASSERT_GT(chunks.size(), 3U);
  for (std::size_t i = 0; i + 1 < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i].back(), '.') << chunks[i];
    EXPECT_TRUE(chunks[i + 1].starts_with("Sentence number ")) << chunks[i + 1];
    // The next chunk starts with whole sentences from the end of this one, at most
    // overlap_bytes of them.
    const auto first_sentence = chunks[i + 1].substr(0, chunks[i + 1].find('.') + 1);
    const auto at = chunks[i].rfind(first_sentence);
    ASSERT_NE(at, std::string::npos) << "no overlap between chunk " << i << " and the next";
    EXPECT_LE(chunks[i].size() - at, options.overlap_bytes);
  }
  // No sentence is lost.
  for (int i = 0; text.find("number " + std::to_string(i) + " ") != std::string::npos; ++i) {
    const auto needle = "Sentence number " + std::to_string(i) + " ";
    EXPECT_TRUE(std::any_of(chunks.begin(), chunks.end(), [&](const std::string& c) {
      return c.find(needle) != c.npos;
    })) << needle;
  }
}

TEST(split_into_chunks, words_without_punctuation_are_cut_between_words) {
  std::string text;
  for (int i = 0; text.size() < 10'000; ++i) text += "word" + std::to_string(i) + " ";
  const auto chunks = split_into_chunks(text, {.min_bytes = 100, .max_bytes = 150});
  expect_well_formed(text, chunks, 150);
  for (const auto& c : chunks) {
    // Whole words: the text has the chunk between two spaces (or at its start).
    const auto at = text.find(c + " ");
    ASSERT_NE(at, std::string::npos) << c;
    EXPECT_TRUE(at == 0 || text[at - 1] == ' ') << c;
  }
  // Without sentence or line ends there is nothing to repeat: each word is in one chunk.
  std::string joined;
  for (const auto& c : chunks) joined += c + " ";
  EXPECT_EQ(joined, text);
}

TEST(split_into_chunks, one_ten_megabyte_word_is_cut_at_max) {
  const std::string text(10 * 1024 * 1024, 'x');
  const auto started = std::chrono::steady_clock::now();
  const auto chunks = split_into_chunks(text);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
  ASSERT_EQ(chunks.size(), (text.size() + 1199) / 1200);
  std::size_t total = 0;
  for (const auto& c : chunks) {
    ASSERT_LE(c.size(), 1200U);
    total += c.size();
  }
  EXPECT_EQ(total, text.size());
}

TEST(split_into_chunks, never_cuts_inside_a_character) {
  for (const std::string ch : {"é", "€", "😀"}) {
    std::string text;
    while (text.size() < 5000) text += ch;
    for (std::size_t max : {16U, 17U, 18U, 19U, 100U, 1200U}) {
      const auto chunks = split_into_chunks(text, {.min_bytes = max / 2, .max_bytes = max});
      std::string joined;
      for (const auto& c : chunks) {
        EXPECT_TRUE(is_valid_utf8(c)) << ch << " max " << max;
        EXPECT_LE(c.size(), max);
        joined += c;
      }
      EXPECT_EQ(joined, text) << ch << " max " << max;
    }
  }
}

TEST(split_into_chunks, invalid_utf8_still_ends_quickly) {
  // A run of continuation bytes has no character boundary at all.
  const std::string text(2 * 1024 * 1024, '\x80');
  const auto started = std::chrono::steady_clock::now();
  const auto chunks = split_into_chunks(text);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
  EXPECT_LE(chunks.size(), text.size() / (1200 - 3) + 1);
  std::size_t total = 0;
  for (const auto& c : chunks) total += c.size();
  EXPECT_EQ(total, text.size());
}

TEST(split_into_chunks, options_out_of_order_are_clamped) {
  const std::string text = paragraph(1, 5000);
  for (const chunk_options o :
       {chunk_options{.min_bytes = 0, .max_bytes = 0, .overlap_bytes = 0},
        chunk_options{.min_bytes = 5000, .max_bytes = 10},
        chunk_options{.min_bytes = 40, .max_bytes = 50, .overlap_bytes = 1000},
        chunk_options{.min_bytes = 1, .max_bytes = 16}}) {
    const auto chunks = split_into_chunks(text, o);
    ASSERT_FALSE(chunks.empty());
    expect_well_formed(text, chunks, std::max<std::size_t>(o.max_bytes, 16));
  }
}

TEST(split_into_chunks, random_text_keeps_the_invariants) {
  std::mt19937 rng(20240531);
  const std::vector<std::string> pieces = {
      "alpha", "beta", "gamma", "délta", "€uro", "😀", "x", "verylongwordwithoutanyspaces",
      " ",     " ",    " ",     "\n",    "\n\n", ".", "!", "? ",
      "\t",    "。",   "\"",    ")",     ":"};
  for (int iteration = 0; iteration < 300; ++iteration) {
    std::string text;
    const auto length = std::uniform_int_distribution<std::size_t>(0, 6000)(rng);
    std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
    while (text.size() < length) text += pieces[pick(rng)];
    chunk_options o;
    o.max_bytes = std::uniform_int_distribution<std::size_t>(0, 1500)(rng);
    o.min_bytes = std::uniform_int_distribution<std::size_t>(0, 1500)(rng);
    o.overlap_bytes = std::uniform_int_distribution<std::size_t>(0, 400)(rng);
    const auto max = std::max<std::size_t>(o.max_bytes, 16);
    const auto chunks = split_into_chunks(text, o);
    expect_well_formed(text, chunks, max);
    std::size_t total = 0;
    for (const auto& c : chunks) {
      EXPECT_TRUE(is_valid_utf8(c)) << "iteration " << iteration;
      total += c.size();
    }
    EXPECT_LE(total, 3 * text.size() + max) << "iteration " << iteration;
    if (without_space(text).empty()) {
      EXPECT_TRUE(chunks.empty());
    }

    // Without overlap, the chunks hold every non-space byte exactly once, in order.
    o.overlap_bytes = 0;
    std::string joined;
    for (const auto& c : split_into_chunks(text, o)) joined += without_space(c);
    EXPECT_EQ(joined, without_space(text)) << "iteration " << iteration;
    if (HasFailure()) break;
  }
}

// --- format_of and extract_document ---

TEST(format_of, by_extension_case_insensitive) {
  EXPECT_EQ(format_of("a/b.txt"), document_format::text);
  EXPECT_EQ(format_of("notes.TEXT"), document_format::text);
  EXPECT_EQ(format_of("README.md"), document_format::markdown);
  EXPECT_EQ(format_of("x.Markdown"), document_format::markdown);
  EXPECT_EQ(format_of("page.HTM"), document_format::html);
  EXPECT_EQ(format_of("page.html"), document_format::html);
  EXPECT_FALSE(format_of("image.png"));
  EXPECT_FALSE(format_of("Makefile"));
  EXPECT_FALSE(format_of(".md"));  // a hidden file named ".md" has no extension
}

TEST(extract_document, text_is_normalized) {
  const auto d = extract_document(
      "\xEF\xBB\xBF  first line   \r\nsecond\rthird\x01x\x7F\n\n\n\n\nfourth\n   \n\t\n  \nfifth\n"
      "    indented\n",
      document_format::text, "notes.txt");
  EXPECT_EQ(d.title, "notes.txt");
  EXPECT_EQ(d.text, "  first line\nsecond\nthird x\n\nfourth\n\nfifth\n    indented");
  EXPECT_TRUE(d.note.empty());
}

TEST(extract_document, invalid_utf8_is_replaced) {
  const auto d = extract_document("caf\xE9 ok \xFF\xFE", document_format::text, "bad\xFF.txt");
  EXPECT_TRUE(is_valid_utf8(d.text)) << d.text;
  EXPECT_TRUE(is_valid_utf8(d.title)) << d.title;
  EXPECT_NE(d.text.find("\xEF\xBF\xBD"), std::string::npos);
  EXPECT_NE(d.text.find(" ok "), std::string::npos);
}

TEST(extract_document, markdown_title_is_the_first_heading_outside_code) {
  const auto d = extract_document(
      "Intro text\n\n```\n# not a title\n```\n\n#hashtag\n\n## Learn   C# ##\n\n# Later\n",
      document_format::markdown, "fallback.md");
  EXPECT_EQ(d.title, "Learn C#");
  EXPECT_NE(d.text.find("# not a title"), std::string::npos);  // the text stays Markdown

  EXPECT_EQ(extract_document("# Title #\nbody", document_format::markdown, "f").title, "Title");
  EXPECT_EQ(extract_document("   ### Deep\nbody", document_format::markdown, "f").title, "Deep");
  EXPECT_EQ(extract_document("    # code\nbody", document_format::markdown, "f").title, "f");
  EXPECT_EQ(extract_document("####### seven\nbody", document_format::markdown, "f").title, "f");
  EXPECT_EQ(extract_document("~~~\n# in fence\n~~~\nbody", document_format::markdown, "f").title,
            "f");
}

TEST(extract_document, html_becomes_readable_text_without_scripts_or_styles) {
  const auto d = extract_document(
      "<!doctype html><html><head><title>  The\n Bread   Page </title>"
      "<style>.quokka { color: red }</style><script>var zanzibar = 1;</script></head>"
      "<body><h1>Sourdough</h1><p>Feed the <b>starter</b> daily.</p>"
      "<script>document.write('tracking pixel')</script><noscript>enable js</noscript>"
      "<ul><li>Flour</li><li>Water &amp; salt</li></ul></body></html>",
      document_format::html, "bread.html");
  EXPECT_EQ(d.title, "The Bread Page");
  EXPECT_NE(d.text.find("Sourdough"), std::string::npos) << d.text;
  EXPECT_NE(d.text.find("Feed the starter daily."), std::string::npos) << d.text;
  EXPECT_NE(d.text.find("Water & salt"), std::string::npos) << d.text;
  for (const char* hidden : {"quokka", "zanzibar", "tracking", "enable js", "<p>", "Bread Page"}) {
    EXPECT_EQ(d.text.find(hidden), std::string::npos) << hidden << " in " << d.text;
  }
}

TEST(extract_document, html_without_title_uses_the_fallback) {
  EXPECT_EQ(extract_document("<p>hello</p>", document_format::html, "page.html").title,
            "page.html");
  EXPECT_EQ(extract_document("<p>hello</p>", document_format::html, "page.html").text, "hello");
}

TEST(extract_document, long_titles_are_cut_on_a_character_boundary) {
  std::string title = "# ";
  for (int i = 0; i < 150; ++i) title += "é";
  const auto d = extract_document(title + "\nbody", document_format::markdown, "f");
  EXPECT_LE(d.title.size(), 200U);
  EXPECT_GE(d.title.size(), 198U);
  EXPECT_TRUE(is_valid_utf8(d.title));
}

// --- read_document ---

class read_document_test : public ::testing::Test {
 protected:
  temp_dir dir_;
  fs::path path(const std::string& name) const { return dir_.path() / name; }
};

TEST_F(read_document_test, reads_a_markdown_file) {
  const std::string bytes = "# Kafka notes\n\nPartitions spread a topic over brokers.\n";
  write_file(path("notes.md"), bytes);
  auto doc = read_document(path("notes.md"));
  ASSERT_TRUE(doc) << describe(doc.error());
  EXPECT_EQ(doc->title, "Kafka notes");
  EXPECT_EQ(doc->source, fs::canonical(path("notes.md")).string());
  EXPECT_TRUE(fs::path(doc->source).is_absolute());
  EXPECT_EQ(doc->sha256.size(), 64U);
  EXPECT_EQ(doc->content, "# Kafka notes\n\nPartitions spread a topic over brokers.");
  ASSERT_EQ(doc->chunks.size(), 1U);
  EXPECT_EQ(doc->chunks[0], doc->content);
}

TEST_F(read_document_test, the_source_is_the_resolved_path) {
  write_file(path("real/doc.txt"), "text");
  fs::create_directory_symlink(path("real"), path("link"));
  auto doc = read_document(path("link/../link/doc.txt"));
  ASSERT_TRUE(doc) << describe(doc.error());
  EXPECT_EQ(doc->source, fs::canonical(path("real/doc.txt")).string());
}

TEST_F(read_document_test, equal_bytes_give_equal_digests) {
  write_file(path("a.txt"), "same");
  write_file(path("b.txt"), "same");
  write_file(path("c.txt"), "same ");
  EXPECT_EQ(read_document(path("a.txt"))->sha256, read_document(path("b.txt"))->sha256);
  EXPECT_NE(read_document(path("a.txt"))->sha256, read_document(path("c.txt"))->sha256);
}

TEST_F(read_document_test, skips_what_is_not_a_text_document) {
  write_file(path("image.png"), "not really a png");
  write_file(path("Makefile"), "all:\n");
  write_file(path("binary.txt"), std::string("text\0more", 9));
  write_file(path("empty.md"), "");
  write_file(path("blank.txt"), " \n\n\t \n");
  write_file(path("scripts.html"), "<script>only()</script><style>p{}</style>");
  fs::create_directories(path("folder.txt"));
  { std::ofstream big(path("big.txt")); }
  fs::resize_file(path("big.txt"), k_ingest_max_file_bytes + 1);  // sparse: fast to make

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"image.png", "unsupported type .png"},
      {"Makefile", "no file extension"},
      {"binary.txt", "binary"},
      {"empty.md", "no text"},
      {"blank.txt", "no text"},
      {"scripts.html", "no text"},
      {"folder.txt", "not a regular file"},
      {"big.txt", "larger than 16 MiB"}};
  for (const auto& [name, reason] : cases) {
    auto doc = read_document(path(name));
    ASSERT_FALSE(doc) << name;
    EXPECT_EQ(doc.error().code, errc::unsupported) << name;
    EXPECT_NE(doc.error().message.find(reason), std::string::npos)
        << name << ": " << doc.error().message;
  }
}

TEST_F(read_document_test, a_file_at_the_size_limit_is_read) {
  std::string bytes;
  while (bytes.size() + 20 <= k_ingest_max_file_bytes) bytes += "abcdefghi jklmnopqr\n";
  bytes.resize(k_ingest_max_file_bytes, 'x');
  write_file(path("limit.txt"), bytes);
  auto doc = read_document(path("limit.txt"));
  ASSERT_TRUE(doc) << describe(doc.error());
  EXPECT_GT(doc->chunks.size(), 10'000U);
}

TEST_F(read_document_test, a_missing_file_is_not_found) {
  auto doc = read_document(path("missing.txt"));
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, errc::not_found);
}

// --- ingest_paths ---

class ingest_paths_test : public ::testing::TestWithParam<grok::testing::store_backend> {
 protected:
  void SetUp() override {
    store_ = GetParam().open(dir_, system_clock::instance());
    ASSERT_TRUE(store_);
    corpus_ = dir_.path() / "corpus";
    write_file(corpus_ / "a.md", "# Alpha\n\nThe aardvark eats ants at night.\n");
    write_file(corpus_ / "b.txt", "Bees make honey from the nectar of flowers.\n");
    write_file(corpus_ / "sub/c.html",
               "<title>Cats</title><p>Cats purr when they are content.</p>");
    write_file(corpus_ / "sub/d.png", "\x89PNG");
    write_file(corpus_ / ".git/config.txt", "hidden gitconfig text");
    write_file(corpus_ / ".hidden.md", "hidden dotfile text");
    write_file(corpus_ / "sub/.cache/e.txt", "hidden cache text");
  }

  ingest_totals ingest(const std::vector<std::string>& paths) {
    reports_.clear();
    return ingest_paths(*store_, paths, [&](const file_report& r) { reports_.push_back(r); });
  }

  std::vector<std::string> sources_for(const std::string& query) {
    auto hits = store_->search_documents(query, 10);
    EXPECT_TRUE(hits) << describe(hits.error());
    std::vector<std::string> out;
    if (hits) {
      for (const auto& h : *hits) out.push_back(fs::path(h.source).filename().string());
    }
    return out;
  }

  temp_dir dir_;
  fs::path corpus_;
  std::unique_ptr<store::store> store_;
  std::vector<file_report> reports_;
};

TEST_P(ingest_paths_test, adds_then_leaves_unchanged_then_replaces) {
  auto totals = ingest({corpus_.string()});
  EXPECT_EQ(totals.added, 3);
  EXPECT_EQ(totals.skipped, 1);
  EXPECT_EQ(totals.failed + totals.replaced + totals.unchanged, 0);
  ASSERT_EQ(reports_.size(), 4U);
  // Name order, hidden entries passed over without a report.
  EXPECT_EQ(reports_[0].path, (corpus_ / "a.md").string());
  EXPECT_EQ(reports_[1].path, (corpus_ / "b.txt").string());
  EXPECT_EQ(reports_[2].path, (corpus_ / "sub/c.html").string());
  EXPECT_EQ(reports_[3].path, (corpus_ / "sub/d.png").string());
  EXPECT_EQ(reports_[0].outcome, file_outcome::added);
  EXPECT_EQ(reports_[0].chunks, 1);
  EXPECT_EQ(reports_[3].outcome, file_outcome::skipped);
  EXPECT_NE(reports_[3].detail.find(".png"), std::string::npos);
  EXPECT_EQ(sources_for("hidden"), std::vector<std::string>{});
  EXPECT_EQ(sources_for("aardvark"), std::vector<std::string>{"a.md"});
  EXPECT_EQ(sources_for("purr"), std::vector<std::string>{"c.html"});

  auto listed = store_->list_documents();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 3U);
  EXPECT_EQ((*listed)[0].title, "Alpha");
  EXPECT_EQ((*listed)[1].title, "b.txt");
  EXPECT_EQ((*listed)[2].title, "Cats");

  totals = ingest({corpus_.string()});
  EXPECT_EQ(totals.unchanged, 3);
  EXPECT_EQ(totals.added + totals.replaced + totals.failed, 0);
  EXPECT_EQ(reports_[1].outcome, file_outcome::unchanged);
  EXPECT_EQ(reports_[1].chunks, 1);

  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "Wasps build paper nests from chewed wood fibre. ";
  write_file(corpus_ / "b.txt", long_text);
  totals = ingest({(corpus_ / "b.txt").string(), (corpus_ / "a.md").string()});
  EXPECT_EQ(totals.replaced, 1);
  EXPECT_EQ(totals.unchanged, 1);
  EXPECT_EQ(reports_[0].outcome, file_outcome::replaced);
  EXPECT_GT(reports_[0].chunks, 1);
  EXPECT_EQ(sources_for("honey nectar"), std::vector<std::string>{});
  const auto wasps = sources_for("wasps");
  ASSERT_FALSE(wasps.empty());
  for (const auto& s : wasps) EXPECT_EQ(s, "b.txt");
  listed = store_->list_documents();
  ASSERT_TRUE(listed && listed->size() == 3U);
  EXPECT_EQ((*listed)[1].chunks, reports_[0].chunks);
}

TEST_P(ingest_paths_test, the_same_file_by_another_path_is_one_document) {
  ASSERT_EQ(ingest({(corpus_ / "a.md").string()}).added, 1);
  const auto relative = fs::relative(corpus_ / "sub/../a.md", fs::current_path()).string();
  const auto totals = ingest({relative});
  EXPECT_EQ(totals.unchanged, 1) << relative;
  EXPECT_EQ(reports_[0].path, relative);
}

TEST_P(ingest_paths_test, missing_paths_fail_and_the_rest_go_on) {
  const auto missing = (dir_.path() / "nope").string();
  const auto totals = ingest({missing, (corpus_ / "b.txt").string()});
  EXPECT_EQ(totals.failed, 1);
  EXPECT_EQ(totals.added, 1);
  ASSERT_EQ(reports_.size(), 2U);
  EXPECT_EQ(reports_[0].path, missing);
  EXPECT_EQ(reports_[0].outcome, file_outcome::failed);
  EXPECT_FALSE(reports_[0].detail.empty());
}

TEST_P(ingest_paths_test, a_named_unsupported_file_is_skipped) {
  const auto totals = ingest({(corpus_ / "sub/d.png").string()});
  EXPECT_EQ(totals.skipped, 1);
  EXPECT_EQ(totals.failed, 0);
}

TEST_P(ingest_paths_test, links_to_directories_are_not_followed_in_a_walk) {
  fs::create_directory_symlink(corpus_ / "sub", corpus_ / "zz-link");
  fs::create_directory_symlink(corpus_, corpus_ / "sub/loop");
  const auto totals = ingest({corpus_.string()});
  EXPECT_EQ(totals.added, 3);
  EXPECT_EQ(reports_.size(), 4U);
}

TEST_P(ingest_paths_test, hidden_files_named_directly_are_ingested) {
  // Only the walk passes over hidden entries; a path given by name is what the user asked.
  const auto totals = ingest({(corpus_ / ".hidden.md").string()});
  EXPECT_EQ(totals.added, 1);
  EXPECT_EQ(sources_for("dotfile"), std::vector<std::string>{".hidden.md"});
}

INSTANTIATE_TEST_SUITE_P(backends, ingest_paths_test,
                         ::testing::ValuesIn(grok::testing::all_store_backends()),
                         grok::testing::backend_name);

}  // namespace
}  // namespace grok::tools
