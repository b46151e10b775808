#include "tools/doc_ingest.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <system_error>

#include "core/sha256.h"
#include "llm/openai_wire.h"
#include "tools/web_page.h"

namespace grok::tools {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t k_max_title_bytes = 200;

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n'; }
bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0U) == 0x80U; }

// How strongly the text breaks just before `pos`, where a chunk may end and the next begin.
enum strength : int {
  k_none = 0,
  k_word = 1,
  k_sentence = 2,
  k_line = 3,
  k_paragraph = 4,
};

bool ends_sentence(std::string_view text, std::size_t end) {
  // Closing quotes and brackets may follow the full stop: `He said "stop." Then…`.
  while (end > 0 && (text[end - 1] == '"' || text[end - 1] == '\'' || text[end - 1] == ')' ||
                     text[end - 1] == ']')) {
    --end;
  }
  if (end == 0) return false;
  const char c = text[end - 1];
  return c == '.' || c == '!' || c == '?' || c == ':' || c == ';';
}

// CJK sentence ends need no space after them: 。 ！ ？ (U+3002, U+FF01, U+FF1F).
bool after_cjk_stop(std::string_view text, std::size_t pos) {
  if (pos < 3) return false;
  const auto tail = text.substr(pos - 3, 3);
  return tail == "\xE3\x80\x82" || tail == "\xEF\xBC\x81" || tail == "\xEF\xBC\x9F";
}

// A boundary sits at the start of a word: text[pos] is not white space and either white
// space or a CJK full stop comes before it.
strength boundary_at(std::string_view text, std::size_t pos) {
  if (pos == 0 || pos >= text.size() || is_space(text[pos]) || is_continuation(text[pos])) {
    return k_none;
  }
  if (!is_space(text[pos - 1])) return after_cjk_stop(text, pos) ? k_sentence : k_none;
  std::size_t run = pos;
  int newlines = 0;
  while (run > 0 && is_space(text[run - 1])) {
    if (text[run - 1] == '\n') ++newlines;
    --run;
  }
  if (newlines >= 2) return k_paragraph;
  if (newlines == 1) return k_line;
  return ends_sentence(text, run) ? k_sentence : k_word;
}

std::size_t skip_space(std::string_view text, std::size_t pos) {
  while (pos < text.size() && is_space(text[pos])) ++pos;
  return pos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Cuts `s` to at most `max` bytes on a character boundary.
std::string cut_utf8(std::string s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t cut = max;
  while (cut > 0 && is_continuation(s[cut])) --cut;
  s.resize(cut);
  return s;
}

std::string collapse_spaces(std::string_view s) {
  std::string out;
  bool pending = false;
  for (char c : s) {
    if (is_space(c) || c == '\r') {
      pending = !out.empty();
      continue;
    }
    if (pending) out += ' ';
    pending = false;
    out += c;
  }
  return out;
}

// "\n" line ends, control characters as spaces, no trailing blanks, at most one empty
// line in a row, no empty lines at either end and no white space at the end. The first
// line keeps its indentation, as every other line does (an indented code block).
std::string normalize(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::string out;
  out.reserve(text.size());
  int newlines = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r') {
      if (i + 1 < text.size() && text[i + 1] == '\n') continue;
      c = '\n';
    }
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20U && c != '\n' && c != '\t') || u == 0x7FU) c = ' ';
    if (c == '\n') {
      while (!out.empty() && is_blank(out.back())) out.pop_back();
      if (out.empty() || ++newlines > 2) continue;
      out += c;
      continue;
    }
    if (is_blank(c) && newlines > 0) {
      // Keep indentation (code, nested lists) but not on lines that end up empty; the line
      // break count goes on, so indented blank lines collapse like empty ones.
      out += c;
      continue;
    }
    newlines = 0;
    out += c;
  }
  while (!out.empty() && is_space(out.back())) out.pop_back();
  if (trim(out).empty()) out.clear();
  return out;
}

// The first ATX heading ("# Title") outside fenced code blocks.
std::string markdown_title(std::string_view text) {
  bool in_fence = false;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    std::size_t indent = 0;
    while (indent < line.size() && indent < 4 && line[indent] == ' ') ++indent;
    if (indent > 3) continue;
    line.remove_prefix(indent);
    if (line.substr(0, 3) == "```" || line.substr(0, 3) == "~~~") {
      in_fence = !in_fence;
      continue;
    }
    if (in_fence || line.empty() || line[0] != '#') continue;
    std::size_t level = 0;
    while (level < line.size() && line[level] == '#') ++level;
    if (level > 6 || (level < line.size() && !is_blank(line[level]))) continue;
    std::string_view heading = trim(line.substr(level));
    // A closing sequence of #s is not part of the heading, when white space precedes it
    // ("# Learn C#" keeps its '#').
    std::string_view closed = heading;
    while (!closed.empty() && closed.back() == '#') closed.remove_suffix(1);
    if (closed.empty() || is_blank(closed.back())) heading = trim(closed);
    if (!heading.empty()) return std::string(heading);
  }
  return {};
}

std::string lower_ascii(std::string s) {
  for (auto& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string system_reason(int errnum) {
  return std::error_code(errnum, std::generic_category()).message();
}

struct file_closer {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// Reads a whole regular file of at most k_ingest_max_file_bytes.
result<std::string> read_file_bytes(const fs::path& file) {
  std::unique_ptr<std::FILE, file_closer> in(std::fopen(file.c_str(), "rb"));
  if (!in) {
    const int e = errno;
    return fail(e == ENOENT ? errc::not_found : errc::io, "cannot open: " + system_reason(e));
  }
  std::string bytes;
  char buffer[64 * 1024];
  while (true) {
    const std::size_t n = std::fread(buffer, 1, sizeof buffer, in.get());
    bytes.append(buffer, n);
    // The size was checked before opening; a file still growing is cut off here.
    if (bytes.size() > k_ingest_max_file_bytes) {
      return fail(errc::unsupported, "larger than 16 MiB");
    }
    if (n < sizeof buffer) break;
  }
  if (std::ferror(in.get()) != 0) {
    return fail(errc::io, "cannot read: " + system_reason(errno));
  }
  return bytes;
}

std::string supported_types() { return ".txt, .text, .md, .markdown, .html, .htm"; }

file_report ingest_file(store::store& st, const fs::path& file, const chunk_options& options) {
  file_report report;
  report.path = file.string();
  auto doc = read_document(file, options);
  if (!doc) {
    report.outcome =
        doc.error().code == errc::unsupported ? file_outcome::skipped : file_outcome::failed;
    report.detail = doc.error().message;
    return report;
  }
  store::ingest_outcome outcome;
  auto written = st.transact([&](store::transaction& tx) -> result<void> {
    auto r = tx.ingest_document(*doc);
    if (!r) return tl::unexpected(r.error());
    outcome = *r;
    return {};
  });
  if (!written) {
    report.outcome = file_outcome::failed;
    report.detail = "cannot store: " + describe(written.error());
    return report;
  }
  switch (outcome.status) {
    case store::ingest_status::added:
      report.outcome = file_outcome::added;
      break;
    case store::ingest_status::replaced:
      report.outcome = file_outcome::replaced;
      break;
    case store::ingest_status::unchanged:
      report.outcome = file_outcome::unchanged;
      break;
  }
  report.chunks = outcome.chunks;
  return report;
}

bool is_hidden(const fs::path& p) {
  const auto name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

void count(ingest_totals& totals, file_outcome o) {
  switch (o) {
    case file_outcome::added:
      ++totals.added;
      break;
    case file_outcome::replaced:
      ++totals.replaced;
      break;
    case file_outcome::unchanged:
      ++totals.unchanged;
      break;
    case file_outcome::skipped:
      ++totals.skipped;
      break;
    case file_outcome::failed:
      ++totals.failed;
      break;
  }
}

// The files under `dir` in name order, or why the walk failed part-way.
struct walk_result {
  std::vector<fs::path> files;
  std::vector<file_report> problems;
};

// One directory at a time rather than recursive_directory_iterator, so that a
// subdirectory that cannot be read is reported and its siblings are still walked.
walk_result walk_directory(const fs::path& root) {
  walk_result out;
  std::vector<fs::path> pending{root};
  while (!pending.empty()) {
    const fs::path dir = std::move(pending.back());
    pending.pop_back();
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      const fs::path& p = it->path();
      if (is_hidden(p)) continue;
      std::error_code type_ec;
      const auto own = it->symlink_status(type_ec);
      if (fs::is_directory(own)) {
        pending.push_back(p);
        continue;
      }
      // A link to a directory is not followed (no cycles, no walking out of the tree).
      if (fs::is_symlink(own) && it->is_directory(type_ec)) continue;
      out.files.push_back(p);
    }
    if (ec) {
      out.problems.push_back(
          {dir.string(), file_outcome::failed, 0, "cannot read directory: " + ec.message()});
    }
  }
  std::sort(out.files.begin(), out.files.end());
  return out;
}

}  // namespace

std::vector<std::string> split_into_chunks(std::string_view text, const chunk_options& options) {
  const std::size_t max = std::max<std::size_t>(options.max_bytes, 16);
  const std::size_t min = std::min(options.min_bytes, max);
  const std::size_t overlap = std::min(options.overlap_bytes, min / 2);

  std::vector<std::string> chunks;
  const auto emit = [&](std::size_t from, std::size_t to) {
    const auto piece = trim(text.substr(from, to - from));
    if (!piece.empty()) chunks.emplace_back(piece);
  };
  std::size_t start = skip_space(text, 0);
  std::size_t prev_end = 0;
  while (start < text.size()) {
    if (text.size() - start <= max) {
      emit(start, text.size());
      break;
    }
    // The strongest break between min and max from here, the latest of equals.
    std::size_t end = 0;
    strength found = k_none;
    for (std::size_t pos = start + std::max<std::size_t>(min, 1); pos <= start + max; ++pos) {
      const auto s = boundary_at(text, pos);
      if (s != k_none && s >= found) {
        found = s;
        end = pos;
      }
    }
    // Else the latest break before min that still moves past the previous chunk.
    if (found == k_none) {
      const std::size_t floor = std::max(start, prev_end);
      for (std::size_t pos = start + std::max<std::size_t>(min, 1) - 1; pos > floor; --pos) {
        if ((found = boundary_at(text, pos)) != k_none) {
          end = pos;
          break;
        }
      }
    }
    // Else a run without spaces: cut it on a character boundary.
    if (found == k_none) {
      // At most three bytes back: a character is at most four. Invalid UTF-8 (a run of
      // continuation bytes) is cut at max rather than one byte at a time.
      end = start + max;
      for (int back = 0; back < 3 && end > start + 1 && is_continuation(text[end]); ++back) --end;
    }
    emit(start, end);
    prev_end = end;
    std::size_t next = end;
    if (found < k_paragraph && overlap > 0) {
      // Start the next chunk at the earliest whole sentence or line in the overlap.
      const std::size_t from = end > overlap ? end - overlap : 0;
      for (std::size_t pos = std::max(from, start + 1); pos < end; ++pos) {
        if (boundary_at(text, pos) >= k_sentence) {
          next = pos;
          break;
        }
      }
    }
    start = skip_space(text, next);
  }
  return chunks;
}

std::optional<document_format> format_of(const std::filesystem::path& file) {
  const auto ext = lower_ascii(file.extension().string());
  if (ext == ".txt" || ext == ".text") return document_format::text;
  if (ext == ".md" || ext == ".markdown") return document_format::markdown;
  if (ext == ".html" || ext == ".htm") return document_format::html;
  return std::nullopt;
}

extracted_document extract_document(std::string_view bytes, document_format format,
                                    std::string_view fallback_title) {
  extracted_document out;
  const std::string text = llm::sanitize_utf8(bytes);
  switch (format) {
    case document_format::text:
      out.text = normalize(text);
      break;
    case document_format::markdown:
      out.text = normalize(text);
      out.title = markdown_title(out.text);
      break;
    case document_format::html: {
      auto page = html_to_text(text, "");
      if (!page) {
        // Left with no text, the file is skipped with this reason.
        out.note = "HTML not read: " + page.error().message;
        break;
      }
      out.text = normalize(page->text);
      out.title = std::move(page->title);
      break;
    }
  }
  out.title = collapse_spaces(out.title);
  if (out.title.empty()) out.title = collapse_spaces(llm::sanitize_utf8(fallback_title));
  out.title = cut_utf8(std::move(out.title), k_max_title_bytes);
  return out;
}

result<store::document_input> read_document(const std::filesystem::path& file,
                                            const chunk_options& options) {
  std::error_code ec;
  const auto status = fs::status(file, ec);
  if (ec) {
    return fail(ec == std::errc::no_such_file_or_directory ? errc::not_found : errc::io,
                "cannot read: " + ec.message());
  }
  // A FIFO or device would block the read or never end.
  if (!fs::is_regular_file(status)) return fail(errc::unsupported, "not a regular file");
  const auto format = format_of(file);
  if (!format) {
    const auto ext = file.extension().string();
    return fail(errc::unsupported,
                (ext.empty() ? std::string("no file extension") : "unsupported type " + ext) +
                    " (reads " + supported_types() + ")");
  }
  const auto size = fs::file_size(file, ec);
  if (ec) return fail(errc::io, "cannot read: " + ec.message());
  if (size > k_ingest_max_file_bytes) return fail(errc::unsupported, "larger than 16 MiB");

  auto bytes = read_file_bytes(file);
  if (!bytes) return tl::unexpected(bytes.error());
  if (bytes->find('\0') != std::string::npos) {
    return fail(errc::unsupported, "binary content (NUL bytes), not text");
  }
  auto source = fs::weakly_canonical(file, ec);
  if (ec) source = fs::absolute(file, ec).lexically_normal();
  if (ec) source = file;

  auto extracted = extract_document(*bytes, *format, file.filename().string());
  if (extracted.text.empty()) {
    return fail(errc::unsupported,
                extracted.note.empty() ? std::string("no text") : extracted.note);
  }
  store::document_input doc;
  doc.source = llm::sanitize_utf8(source.string());
  doc.title = std::move(extracted.title);
  doc.sha256 = sha256_hex(*bytes);
  if (doc.sha256.empty()) return fail(errc::internal, "cannot compute a sha256");
  doc.chunks = split_into_chunks(extracted.text, options);
  doc.content = std::move(extracted.text);
  return doc;
}

std::string_view to_string(file_outcome o) noexcept {
  switch (o) {
    case file_outcome::added:
      return "added";
    case file_outcome::replaced:
      return "replaced";
    case file_outcome::unchanged:
      return "unchanged";
    case file_outcome::skipped:
      return "skipped";
    case file_outcome::failed:
      return "failed";
  }
  return "unknown";
}

ingest_totals ingest_paths(store::store& st, const std::vector<std::string>& paths,
                           const std::function<void(const file_report&)>& on_file,
                           const chunk_options& options) {
  ingest_totals totals;
  const auto report = [&](const file_report& r) {
    count(totals, r.outcome);
    on_file(r);
  };
  for (const auto& arg : paths) {
    const fs::path path(arg);
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      report({arg, file_outcome::failed, 0,
              ec ? "cannot read: " + ec.message() : "no such file or directory"});
      continue;
    }
    if (!fs::is_directory(status)) {
      report(ingest_file(st, path, options));
      continue;
    }
    auto walked = walk_directory(path);
    for (const auto& file : walked.files) report(ingest_file(st, file, options));
    for (const auto& problem : walked.problems) report(problem);
  }
  return totals;
}

}  // namespace grok::tools
