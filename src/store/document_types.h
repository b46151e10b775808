// Value types for the documents that `doc_search` searches (SPEC §2 `grok docs ingest`,
// §5 `doc_search`): a document is one ingested file or URI, kept whole and split into
// chunks; search ranks chunks, so a hit is a passage rather than a whole file.
// Thread-safety: plain values, no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace grok::store {

// Limits every backend enforces on ingest (errc::invalid_argument beyond them), so a
// runaway caller gets a clear error instead of a database full of one document.
inline constexpr std::size_t k_max_document_source_bytes = 4096;
inline constexpr std::size_t k_max_document_title_bytes = 1024;
inline constexpr std::size_t k_max_document_bytes = std::size_t{64} * 1024 * 1024;
inline constexpr std::size_t k_max_document_chunk_bytes = std::size_t{1024} * 1024;
inline constexpr std::size_t k_max_document_sha256_bytes = 128;
// search_documents returns at most this many hits, whatever `k` asks for.
inline constexpr int k_max_document_hits = 50;

struct document_input {
  std::string source;   // a file path or URI; one document per source
  std::string title;    // may be empty
  std::string content;  // the whole extracted text (UTF-8)
  std::string sha256;   // hex digest of what was read; an equal digest means "unchanged"
  std::vector<std::string> chunks;  // `content` split for search, in order
};

enum class ingest_status {
  added,      // a new source
  replaced,   // a known source whose digest changed: its chunks were replaced
  unchanged,  // a known source with the same digest: nothing was written
};

constexpr std::string_view to_string(ingest_status s) noexcept {
  switch (s) {
    case ingest_status::added:
      return "added";
    case ingest_status::replaced:
      return "replaced";
    case ingest_status::unchanged:
      return "unchanged";
  }
  return "unknown";
}

struct ingest_outcome {
  std::int64_t document_id = 0;
  std::int64_t chunks = 0;  // chunks the document has after the call
  ingest_status status = ingest_status::added;
};

struct document_hit {
  std::string source;
  std::string title;
  std::int64_t chunk_ord = 0;  // the chunk's position in its document, from 0
  std::string snippet;         // a short excerpt around the matches, matched terms in [ ]
  std::string content;         // the whole chunk
  // Relevance, higher is better (the negated BM25 rank on SQLite). Comparable only between
  // hits of one search.
  double score = 0;
};

struct document_summary {
  std::int64_t id = 0;
  std::string source;
  std::string title;
  std::string sha256;
  std::int64_t chunks = 0;
  time_point ingested_at;
};

}  // namespace grok::store
