// Reading local documents into the store for `doc_search` (SPEC §2 `grok docs ingest`):
// text extraction (.txt and .md as they are, .html and .htm as readable text), chunking,
// hashing, and walking the files and directories a user names.
//
// Thread-safety: everything but ingest_paths is a pure function; ingest_paths writes
// through the store, which may be shared.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/document_types.h"
#include "store/store.h"

namespace grok::tools {

// Larger files are skipped: a document that size is almost always generated output or a
// dump, and it is held in memory three times over while it is split.
inline constexpr std::uintmax_t k_ingest_max_file_bytes = std::uintmax_t{16} * 1024 * 1024;

// Chunk sizes in bytes. A chunk is a passage a model reads as evidence: big enough to
// hold an answer with its context, small enough that twenty fit in one tool output.
struct chunk_options {
  std::size_t min_bytes = 800;
  std::size_t max_bytes = 1200;
  // A chunk cut inside a paragraph repeats up to this much of the previous chunk's end
  // (whole sentences or lines), so a passage split there can still be found whole.
  std::size_t overlap_bytes = 200;
};

// Splits `text` into chunks of at most max_bytes, each ending where the text itself breaks
// most strongly between min_bytes and max_bytes: a blank line, else a line end, else the
// end of a sentence, else a space; only a run without spaces longer than max_bytes is cut
// inside, on a UTF-8 character boundary. Chunks are trimmed of white space and never empty.
// Options out of order are clamped (max at least 16, min at most max, overlap below min/2).
[[nodiscard]] std::vector<std::string> split_into_chunks(std::string_view text,
                                                         const chunk_options& options = {});

enum class document_format { text, markdown, html };

// The format for a file name's extension (case-insensitive): .txt, .text → text; .md,
// .markdown → markdown; .html, .htm → html. Empty for anything else.
[[nodiscard]] std::optional<document_format> format_of(const std::filesystem::path& file);

struct extracted_document {
  std::string title;
  std::string text;  // normalized: "\n" line ends, no trailing blanks, at most one empty line
  std::string note;  // what a user should know about the extraction; usually empty
};

// The searchable text of a file's bytes. Invalid UTF-8 is replaced (U+FFFD), a byte-order
// mark dropped, control characters other than tab and newline turned into spaces. Text and
// Markdown are kept as they are; HTML becomes readable text (tools/web_page.h html_to_text:
// no scripts, styles or head). The title is the HTML <title> or the first Markdown heading
// outside code blocks, else `fallback_title`; white space collapsed, at most 200 bytes.
[[nodiscard]] extracted_document extract_document(std::string_view bytes, document_format format,
                                                  std::string_view fallback_title);

// Reads one file into a document ready for store::transaction::ingest_document: its source
// is the absolute path with symbolic links resolved, its sha256 that of the bytes read.
// errc::unsupported when the file is not something to index (an unknown extension, not a
// regular file, larger than k_ingest_max_file_bytes, binary content, no text): a "skip".
// errc::not_found or errc::io when it cannot be read, with the system's reason.
[[nodiscard]] result<store::document_input> read_document(const std::filesystem::path& file,
                                                          const chunk_options& options = {});

enum class file_outcome { added, replaced, unchanged, skipped, failed };
[[nodiscard]] std::string_view to_string(file_outcome o) noexcept;

struct file_report {
  std::string path;  // as found: the argument, or the argument joined with the walk
  file_outcome outcome = file_outcome::failed;
  std::int64_t chunks = 0;  // added, replaced, unchanged: the document's chunks
  std::string detail;       // skipped, failed: why; otherwise a note or empty
};

struct ingest_totals {
  int added = 0;
  int replaced = 0;
  int unchanged = 0;
  int skipped = 0;
  int failed = 0;
};

// Ingests every path in order, each file in its own transaction, and calls `on_file` once
// per file (and once for a path that cannot be read at all). Directories are walked
// recursively in name order; entries whose name starts with '.' (.git, .cache) are passed
// over, symbolic links to directories are not followed, files of other types are skipped.
// Never stops early: an unreadable file or a failed write is reported and the rest go on.
ingest_totals ingest_paths(store::store& st, const std::vector<std::string>& paths,
                           const std::function<void(const file_report&)>& on_file,
                           const chunk_options& options = {});

}  // namespace grok::tools
