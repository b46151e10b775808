// Documents on PostgreSQL: rows in `documents`, their chunks in `document_chunks`, searched
// through the generated tsvector `document_chunks.tsv` and its GIN index (migration 1).
// Same limits, validation, outcomes and query semantics as SQLite
// (store/sqlite/sqlite_documents.cpp); only the ranking function differs (ts_rank with the
// title weighted above the body, where SQLite has bm25()).

#include <string>

#include "store/postgres/pg_store.h"
#include "store/postgres/pg_transaction.h"
#include "store/search_words.h"

namespace grok::store::postgres {
namespace {

constexpr std::size_t k_fallback_snippet_bytes = 200;
// Chunks go to the database in batches of at most this many, or this many bytes: one
// statement per chunk would be thousands of round trips for a large file.
constexpr std::size_t k_chunk_batch_rows = 500;
constexpr std::size_t k_chunk_batch_bytes = std::size_t{4} * 1024 * 1024;

// The rank of a chunk: ts_rank with the weights of D, C, B and A, where the migration gives
// the title weight A and the body weight B, so a title match counts 2.5 times a body match;
// normalization 1 divides by 1 + log(length), so a long chunk does not win by size alone.
constexpr const char* k_rank = "ts_rank('{0.1, 0.2, 0.4, 1.0}', tsv, $1::tsquery, 1)";
// The snippet: the best fragment of about 24 words, its matches between markers that text
// hardly ever contains (private-use characters), turned into [ ] once the fragment has been
// located in the chunk (finish_snippet).
constexpr std::string_view k_open_mark = "\xEE\x80\x80";   // U+E000
constexpr std::string_view k_close_mark = "\xEE\x80\x81";  // U+E001
constexpr const char* k_headline_options =
    "StartSel=\"\xEE\x80\x80\", StopSel=\"\xEE\x80\x81\", MaxWords=24, MinWords=12, "
    "MaxFragments=1";

// The words of the user's free text (store/search_words.h), space-separated: what reaches
// PostgreSQL is letters, digits and spaces. Empty when the text has no words.
std::string query_words(std::string_view text) {
  std::string out;
  for (const auto& word : search_words(text)) {
    if (!out.empty()) out += ' ';
    out += word;
  }
  return out;
}

// The words as a tsquery that matches a chunk with any of them (OR, as SQLite's search
// does, so that ranking puts chunks with more of the words first): the words go through
// to_tsvector with the index's configuration (stemming, stop words dropped, lower case), and
// the lexemes that come out are quoted into tsquery syntax. Building it from a tsvector
// rather than with to_tsquery keeps stop-word-only queries from raising NOTICEs, and no
// character of the user's text is ever parsed as tsquery syntax. Empty when no lexeme is
// left (only stop words).
constexpr const char* k_build_tsquery =
    "SELECT coalesce(string_agg('''' || replace(replace(lexeme, '\\', '\\\\'), '''', '''''') "
    "|| '''', ' | '), '') FROM unnest(to_tsvector('english', $1))";

// The beginning of a chunk, cut on a character boundary, for a hit without a snippet.
std::string leading_excerpt(const std::string& content) {
  if (content.size() <= k_fallback_snippet_bytes) return content;
  std::size_t cut = k_fallback_snippet_bytes;
  while (cut > 0 && (static_cast<unsigned char>(content[cut]) & 0xC0U) == 0x80U) --cut;
  return content.substr(0, cut) + "…";
}

// ts_headline's fragment as SQLite's snippet() gives it: matches in [ ], and "…" where the
// fragment starts after the chunk's start or ends before its end.
std::string finish_snippet(std::string_view marked, const std::string& content) {
  std::string plain;
  std::string out;
  for (std::size_t i = 0; i < marked.size();) {
    if (marked.substr(i, k_open_mark.size()) == k_open_mark) {
      out += '[';
      i += k_open_mark.size();
    } else if (marked.substr(i, k_close_mark.size()) == k_close_mark) {
      out += ']';
      i += k_close_mark.size();
    } else {
      plain += marked[i];
      out += marked[i];
      ++i;
    }
  }
  if (plain.empty()) return leading_excerpt(content);
  const auto at = content.find(plain);
  if (at == std::string::npos) return out;
  if (at > 0) out.insert(0, "…");
  if (at + plain.size() < content.size()) out += "…";
  return out;
}

// Inserts the chunks of document `id`, in order from ord 0, a batch per statement.
result<void> insert_chunks(connection& conn, std::int64_t id, const document_input& doc) {
  std::size_t next = 0;
  while (next < doc.chunks.size()) {
    std::vector<std::string> batch;
    std::size_t bytes = 0;
    const std::size_t first = next;
    while (next < doc.chunks.size() && batch.size() < k_chunk_batch_rows &&
           (batch.empty() || bytes + doc.chunks[next].size() <= k_chunk_batch_bytes)) {
      bytes += doc.chunks[next].size();
      batch.push_back(doc.chunks[next]);
      ++next;
    }
    auto r = conn.exec(
        "INSERT INTO document_chunks (document_id, ord, title, content) "
        "SELECT $1::bigint, ($2::bigint + u.n - 1)::integer, $3::text, u.chunk "
        "FROM unnest($4::text[]) WITH ORDINALITY AS u(chunk, n)",
        params().add(id).add(static_cast<std::int64_t>(first)).add(doc.title).add(batch));
    if (!r) return tl::unexpected(r.error());
  }
  return {};
}

}  // namespace

result<ingest_outcome> pg_transaction::ingest_document(const document_input& doc) {
  if (auto ok = check_document(doc); !ok) return tl::unexpected(ok.error());

  const std::optional<std::string> title =
      doc.title.empty() ? std::nullopt : std::optional<std::string>(doc.title);
  // The row of a known source is locked, so that two ingests of one source run one after
  // the other. A new source is inserted; when another transaction inserted it first (ON
  // CONFLICT waits for it to commit), the second pass finds and locks that row.
  std::optional<std::int64_t> id;
  std::string old_sha256;
  for (int pass = 0; pass < 2 && !id; ++pass) {
    auto existing = conn_.exec("SELECT id, sha256 FROM documents WHERE source = $1 FOR UPDATE",
                               params().add(doc.source));
    if (!existing) return tl::unexpected(existing.error());
    if (!existing->empty()) {
      id = existing->int64(0, 0);
      old_sha256 = existing->text(0, 1);
      break;
    }
    auto inserted = conn_.exec(
        "INSERT INTO documents (source, title, content, sha256, ingested_at) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source) DO NOTHING RETURNING id",
        params().add(doc.source).add(title).add(doc.content).add(doc.sha256).add(now_));
    if (!inserted) return tl::unexpected(inserted.error());
    if (!inserted->empty()) {
      const auto new_id = inserted->int64(0, 0);
      if (auto r = insert_chunks(conn_, new_id, doc); !r) return tl::unexpected(r.error());
      return ingest_outcome{new_id, static_cast<std::int64_t>(doc.chunks.size()),
                            ingest_status::added};
    }
  }
  if (!id) return fail(errc::busy, "document " + doc.source + " kept changing; try again", true);

  if (old_sha256 == doc.sha256) {
    auto count = conn_.exec("SELECT count(*) FROM document_chunks WHERE document_id = $1",
                            params().add(*id));
    if (!count) return tl::unexpected(count.error());
    return ingest_outcome{*id, count->int64(0, 0), ingest_status::unchanged};
  }
  if (auto r = conn_.exec("DELETE FROM document_chunks WHERE document_id = $1", params().add(*id));
      !r) {
    return tl::unexpected(r.error());
  }
  if (auto r =
          conn_.exec("UPDATE documents SET title = $2, content = $3, sha256 = $4, ingested_at = $5 "
                     "WHERE id = $1",
                     params().add(*id).add(title).add(doc.content).add(doc.sha256).add(now_));
      !r) {
    return tl::unexpected(r.error());
  }
  if (auto r = insert_chunks(conn_, *id, doc); !r) return tl::unexpected(r.error());
  return ingest_outcome{*id, static_cast<std::int64_t>(doc.chunks.size()), ingest_status::replaced};
}

result<void> pg_transaction::remove_document(std::string_view source) {
  const auto not_found = [&] {
    return fail(errc::not_found, "no document with source " + std::string(source));
  };
  // No stored source is text PostgreSQL refuses; asking for one would fail the statement.
  if (!is_storable_text(source)) return not_found();
  // The chunks go with it (ON DELETE CASCADE).
  auto r = conn_.exec("DELETE FROM documents WHERE source = $1", params().add(source));
  if (!r) return tl::unexpected(r.error());
  if (r->affected() == 0) return not_found();
  return {};
}

result<std::vector<document_hit>> pg_store::search_documents(std::string_view query, int k) {
  const int limit = k < 1 ? 1 : (k > k_max_document_hits ? k_max_document_hits : k);
  const std::string words = query_words(query);
  if (words.empty()) return std::vector<document_hit>{};

  return with_connection<std::vector<document_hit>>(
      [&](connection& c) -> result<std::vector<document_hit>> {
        auto built = c.exec(k_build_tsquery, params().add(words));
        if (!built) return tl::unexpected(built.error());
        const std::string tsquery = built->text(0, 0);
        if (tsquery.empty()) return std::vector<document_hit>{};  // only stop words

        // The inner query ranks and limits; the outer one reads the winners' rows and makes
        // their snippets (ts_headline for every matching chunk would be far slower).
        auto r = c.exec(
            std::string("SELECT d.source, c.title, c.ord, c.content, m.rank, "
                        "ts_headline('english', c.content, $1::tsquery, '") +
                k_headline_options + "') FROM (SELECT id, " + k_rank +
                " AS rank FROM document_chunks WHERE tsv @@ $1::tsquery "
                "ORDER BY rank DESC, id LIMIT $2) AS m "
                "JOIN document_chunks c ON c.id = m.id JOIN documents d ON d.id = c.document_id "
                "ORDER BY m.rank DESC, m.id",
            params().add(tsquery).add(limit));
        if (!r) return tl::unexpected(r.error());
        std::vector<document_hit> hits;
        hits.reserve(static_cast<std::size_t>(r->size()));
        for (int i = 0; i < r->size(); ++i) {
          document_hit hit;
          hit.source = r->text(i, 0);
          hit.title = r->text(i, 1);
          hit.chunk_ord = r->int64(i, 2);
          hit.content = r->text(i, 3);
          hit.score = r->real(i, 4);
          hit.snippet = finish_snippet(r->text(i, 5), hit.content);
          hits.push_back(std::move(hit));
        }
        return hits;
      });
}

result<std::vector<document_summary>> pg_store::list_documents() {
  return with_connection<std::vector<document_summary>>(
      [](connection& c) -> result<std::vector<document_summary>> {
        auto r = c.exec(
            "SELECT d.id, d.source, coalesce(d.title, ''), d.sha256, d.ingested_at, "
            "(SELECT count(*) FROM document_chunks c WHERE c.document_id = d.id) "
            "FROM documents d ORDER BY d.source COLLATE \"C\"");
        if (!r) return tl::unexpected(r.error());
        std::vector<document_summary> out;
        out.reserve(static_cast<std::size_t>(r->size()));
        for (int i = 0; i < r->size(); ++i) {
          document_summary s;
          s.id = r->int64(i, 0);
          s.source = r->text(i, 1);
          s.title = r->text(i, 2);
          s.sha256 = r->text(i, 3);
          s.ingested_at = r->time(i, 4);
          s.chunks = r->int64(i, 5);
          out.push_back(std::move(s));
        }
        return out;
      });
}

}  // namespace grok::store::postgres
