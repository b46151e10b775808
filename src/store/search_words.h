// How every backend checks documents and reads free-text queries (doc_search), so that
// both accept the same documents and a query finds the same words on SQLite (FTS5) and
// PostgreSQL (tsvector).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/document_types.h"

namespace grok::store {

// A query is cut to its first distinct words: beyond a few dozen, more words only make
// every chunk match and the search slow (a model may paste a whole paragraph).
inline constexpr std::size_t k_max_query_terms = 64;
// Longer "words" are pasted hashes or base64, never useful as search terms.
inline constexpr std::size_t k_max_term_bytes = 128;

// Text every backend can store: well-formed UTF-8 without NUL (PostgreSQL's text refuses
// both, so SQLite refuses them too rather than accept what another backend would not).
[[nodiscard]] bool is_storable_text(std::string_view text);

// Letters and digits as far as splitting a query goes. Outside ASCII only the punctuation
// and symbol blocks are separators; each backend's tokenizer splits the rest further if it
// must.
[[nodiscard]] bool is_word_code_point(char32_t cp);

// The words of free text, in order: at most k_max_query_terms distinct ones (ASCII
// case-insensitively), none longer than k_max_term_bytes. Everything else (search syntax,
// punctuation, invalid UTF-8, NUL) only separates words, so a word holds letters and digits
// only. Empty when the text has none.
[[nodiscard]] std::vector<std::string> search_words(std::string_view text);

// The limits and text rules of a document to ingest (k_max_document_*, storable text in
// every field and chunk). errc::invalid_argument names what is wrong.
[[nodiscard]] result<void> check_document(const document_input& doc);

}  // namespace grok::store
