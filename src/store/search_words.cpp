#include "store/search_words.h"

#include <set>

#include "core/utf8.h"
#include "store/document_types.h"

namespace grok::store {
namespace {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

bool is_storable_text(std::string_view text) {
  char32_t cp = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto len = decode_utf8(text, i, cp);
    if (len == 0 || cp == 0) return false;
    i += len;
  }
  return true;
}

bool is_word_code_point(char32_t cp) {
  if (cp < 0x80) {
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  }
  if (cp < 0xC0 || cp == 0xD7 || cp == 0xF7) return false;  // Latin-1 punctuation, × and ÷
  if (cp >= 0x2000 && cp <= 0x2BFF) return false;           // punctuation, arrows, maths, shapes
  if (cp >= 0x3000 && cp <= 0x303F) return false;           // CJK punctuation
  if (cp >= 0xFE00 && cp <= 0xFE0F) return false;           // variation selectors
  if (cp >= 0xFF00 && cp <= 0xFF0F) return false;           // full-width punctuation
  return cp != 0xFEFF && cp != 0xFFFD;
}

std::vector<std::string> search_words(std::string_view text) {
  std::vector<std::string> terms;
  std::set<std::string, std::less<>> seen;
  std::string word;
  const auto flush = [&] {
    if (!word.empty() && word.size() <= k_max_term_bytes && terms.size() < k_max_query_terms &&
        seen.insert(ascii_lower(word)).second) {
      terms.push_back(word);
    }
    word.clear();
  };
  char32_t cp = 0;
  for (std::size_t i = 0; i < text.size() && terms.size() < k_max_query_terms;) {
    const auto len = decode_utf8(text, i, cp);
    if (len == 0) {  // invalid UTF-8 separates words and is dropped
      flush();
      ++i;
      continue;
    }
    if (is_word_code_point(cp)) {
      word.append(text.substr(i, len));
    } else {
      flush();
    }
    i += len;
  }
  flush();
  return terms;
}

result<void> check_document(const document_input& doc) {
  if (doc.source.empty() || doc.source.size() > k_max_document_source_bytes) {
    return fail(errc::invalid_argument, "a document source must be 1 to 4096 bytes");
  }
  if (doc.sha256.empty() || doc.sha256.size() > k_max_document_sha256_bytes) {
    return fail(errc::invalid_argument, "a document needs a sha256 of at most 128 characters");
  }
  if (doc.title.size() > k_max_document_title_bytes) {
    return fail(errc::invalid_argument, "a document title must be at most 1024 bytes");
  }
  if (doc.content.size() > k_max_document_bytes) {
    return fail(errc::invalid_argument, "a document must be at most 64 MiB of text");
  }
  if (!is_storable_text(doc.source) || !is_storable_text(doc.title) ||
      !is_storable_text(doc.content) || !is_storable_text(doc.sha256)) {
    return fail(errc::invalid_argument,
                "document " + doc.source + ": text must be UTF-8 without NUL bytes");
  }
  std::size_t total = 0;
  for (const auto& chunk : doc.chunks) {
    if (chunk.empty() || chunk.size() > k_max_document_chunk_bytes) {
      return fail(errc::invalid_argument,
                  "document " + doc.source + ": every chunk must be 1 byte to 1 MiB of text");
    }
    if (!is_storable_text(chunk)) {
      return fail(errc::invalid_argument,
                  "document " + doc.source + ": chunks must be UTF-8 without NUL bytes");
    }
    total += chunk.size();
  }
  if (total > k_max_document_bytes) {
    return fail(errc::invalid_argument,
                "document " + doc.source + ": its chunks add up to more than 64 MiB");
  }
  return {};
}

}  // namespace grok::store
