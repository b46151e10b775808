// Documents on SQLite: rows in `documents`, their chunks in `document_chunks`, searched
// through the FTS5 index `document_chunks_fts` (migration 2), ranked by bm25().
#include <sqlite3.h>

#include <string>

#include "store/search_words.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/sqlite_transaction.h"

namespace grok::store::sqlite {
namespace {

// bm25() weights of the indexed columns (title, content). Every chunk of a document carries
// its title, so a title match lifts all of them; the content decides between them.
constexpr const char* k_rank = "bm25(document_chunks_fts, 0.5, 1.0)";
constexpr std::size_t k_fallback_snippet_bytes = 200;

// The user's free text as an FTS5 query that cannot be a syntax error: every word becomes
// a quoted string (inside which FTS5 gives no character a meaning but '"', which never
// gets into a word), joined by OR so that BM25 ranks chunks matching more and rarer words
// first, as a search engine does. FTS5 operators in the text (AND, NEAR(…), col:, -x, *)
// are only words or separators here. Empty when the text has no words.
std::string to_match_expression(std::string_view text) {
  const auto terms = search_words(text);
  std::string out;
  for (const auto& t : terms) {
    if (!out.empty()) out += " OR ";
    out += '"';
    out += t;
    out += '"';
  }
  return out;
}

// The beginning of a chunk, cut on a character boundary, for a hit without a snippet.
std::string leading_excerpt(const std::string& content) {
  if (content.size() <= k_fallback_snippet_bytes) return content;
  std::size_t cut = k_fallback_snippet_bytes;
  while (cut > 0 && (static_cast<unsigned char>(content[cut]) & 0xC0U) == 0x80U) --cut;
  return content.substr(0, cut) + "…";
}

}  // namespace

result<ingest_outcome> sqlite_transaction::ingest_document(const document_input& doc) {
  if (auto ok = check_document(doc); !ok) return tl::unexpected(ok.error());

  auto existing = conn_.prepare("SELECT id, sha256 FROM documents WHERE source = ?1");
  if (!existing) return tl::unexpected(existing.error());
  existing->bind(1, doc.source);
  auto found = existing->step();
  if (!found) return tl::unexpected(found.error());
  std::optional<std::int64_t> id;
  std::string old_sha256;
  if (*found) {
    id = existing->column_int64(0);
    old_sha256 = existing->column_text(1);
  }
  if (auto done = existing->run(); !done) return tl::unexpected(done.error());

  const std::optional<std::string> title =
      doc.title.empty() ? std::nullopt : std::optional<std::string>(doc.title);
  ingest_outcome outcome;
  if (id && old_sha256 == doc.sha256) {
    auto count = conn_.prepare("SELECT count(*) FROM document_chunks WHERE document_id = ?1");
    if (!count) return tl::unexpected(count.error());
    count->bind(1, *id);
    if (auto row = count->step(); !row) return tl::unexpected(row.error());
    return ingest_outcome{*id, count->column_int64(0), ingest_status::unchanged};
  }
  if (id) {
    // Deleting the chunks takes them out of the index (trigger document_chunks_ad).
    auto drop = conn_.prepare("DELETE FROM document_chunks WHERE document_id = ?1");
    if (!drop) return tl::unexpected(drop.error());
    drop->bind(1, *id);
    if (auto r = drop->run(); !r) return tl::unexpected(r.error());
    auto update = conn_.prepare(
        "UPDATE documents SET title = ?2, content = ?3, sha256 = ?4, ingested_at = ?5 "
        "WHERE id = ?1");
    if (!update) return tl::unexpected(update.error());
    update->bind(1, *id)
        .bind(2, title)
        .bind(3, doc.content)
        .bind(4, doc.sha256)
        .bind(5, to_unix_ms(now_));
    if (auto r = update->run(); !r) return tl::unexpected(r.error());
    outcome.status = ingest_status::replaced;
  } else {
    auto insert = conn_.prepare(
        "INSERT INTO documents (source, title, content, sha256, ingested_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id");
    if (!insert) return tl::unexpected(insert.error());
    insert->bind(1, doc.source)
        .bind(2, title)
        .bind(3, doc.content)
        .bind(4, doc.sha256)
        .bind(5, to_unix_ms(now_));
    auto row = insert->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return fail(errc::internal, "inserting a document returned no id");
    id = insert->column_int64(0);
    if (auto r = insert->run(); !r) return tl::unexpected(r.error());
    outcome.status = ingest_status::added;
  }

  for (std::size_t ord = 0; ord < doc.chunks.size(); ++ord) {
    // Prepared per row (from the connection's cache): a statement is rebound only after
    // the reset that ending a bound_statement does.
    auto chunk = conn_.prepare(
        "INSERT INTO document_chunks (document_id, ord, title, content) VALUES (?1, ?2, ?3, ?4)");
    if (!chunk) return tl::unexpected(chunk.error());
    chunk->bind(1, *id)
        .bind(2, static_cast<std::int64_t>(ord))
        .bind(3, doc.title)
        .bind(4, doc.chunks[ord]);
    if (auto r = chunk->run(); !r) return tl::unexpected(r.error());
  }
  outcome.document_id = *id;
  outcome.chunks = static_cast<std::int64_t>(doc.chunks.size());
  return outcome;
}

result<void> sqlite_transaction::remove_document(std::string_view source) {
  // The chunks go with it (ON DELETE CASCADE), and with them their index entries.
  auto stmt = conn_.prepare("DELETE FROM documents WHERE source = ?1");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, source);
  if (auto r = stmt->run(); !r) return r;
  if (sqlite3_changes(conn_.handle()) == 0) {
    return fail(errc::not_found, "no document with source " + std::string(source));
  }
  return {};
}

result<std::vector<document_hit>> sqlite_store::search_documents(std::string_view query, int k) {
  const int limit = k < 1 ? 1 : (k > k_max_document_hits ? k_max_document_hits : k);
  const std::string match = to_match_expression(query);
  if (match.empty()) return std::vector<document_hit>{};

  auto r = acquire_reader(false);
  if (!r) return tl::unexpected(r.error());
  // The inner query ranks and limits; the outer one reads only the winners' rows.
  auto stmt = (*r)->prepare(
      std::string("SELECT m.id, d.source, c.title, c.ord, c.content, m.rank FROM ("
                  "SELECT rowid AS id, ") +
      k_rank +
      " AS rank FROM document_chunks_fts WHERE document_chunks_fts MATCH ?1 "
      "ORDER BY rank, rowid LIMIT ?2) AS m "
      "JOIN document_chunks c ON c.id = m.id JOIN documents d ON d.id = c.document_id "
      "ORDER BY m.rank, m.id");
  if (!stmt) return tl::unexpected(stmt.error());
  stmt->bind(1, match).bind(2, limit);
  std::vector<document_hit> hits;
  std::vector<std::int64_t> ids;
  while (true) {
    auto row = stmt->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) break;
    ids.push_back(stmt->column_int64(0));
    document_hit hit;
    hit.source = stmt->column_text(1);
    hit.title = stmt->column_text(2);
    hit.chunk_ord = stmt->column_int64(3);
    hit.content = stmt->column_text(4);
    hit.score = -stmt->column_double(5);
    hits.push_back(std::move(hit));
  }

  // Snippets for the winners only: snippet() in the ranking query would be computed for
  // every matching chunk before the limit applies.
  for (std::size_t i = 0; i < hits.size(); ++i) {
    auto snip = (*r)->prepare(
        "SELECT snippet(document_chunks_fts, 1, '[', ']', '…', 24) FROM document_chunks_fts "
        "WHERE document_chunks_fts MATCH ?1 AND rowid = ?2");
    if (!snip) return tl::unexpected(snip.error());
    snip->bind(1, match).bind(2, ids[i]);
    auto row = snip->step();
    if (!row) return tl::unexpected(row.error());
    // A chunk replaced between the two queries has no snippet; its start stands in.
    hits[i].snippet = *row ? snip->column_text(0) : std::string();
    if (hits[i].snippet.empty()) hits[i].snippet = leading_excerpt(hits[i].content);
  }
  return hits;
}

result<std::vector<document_summary>> sqlite_store::list_documents() {
  auto r = acquire_reader(false);
  if (!r) return tl::unexpected(r.error());
  auto stmt = (*r)->prepare(
      "SELECT d.id, d.source, coalesce(d.title, ''), d.sha256, d.ingested_at, "
      "(SELECT count(*) FROM document_chunks c WHERE c.document_id = d.id) "
      "FROM documents d ORDER BY d.source");
  if (!stmt) return tl::unexpected(stmt.error());
  std::vector<document_summary> out;
  while (true) {
    auto row = stmt->step();
    if (!row) return tl::unexpected(row.error());
    if (!*row) return out;
    document_summary s;
    s.id = stmt->column_int64(0);
    s.source = stmt->column_text(1);
    s.title = stmt->column_text(2);
    s.sha256 = stmt->column_text(3);
    s.ingested_at = from_unix_ms(stmt->column_int64(4));
    s.chunks = stmt->column_int64(5);
    out.push_back(std::move(s));
  }
}

}  // namespace grok::store::sqlite
