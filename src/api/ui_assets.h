// The web UI's static files (web/dist) as an immutable table: path → bytes, an optional
// gzip variant, content type, strong ETag and whether the file is content-hashed (served
// as immutable). Two sources: the files built into the binary at build time
// (cmake/EmbedUi.cmake generates a table of embedded_ui_file), or a directory read once at
// start (GROK_UI_DIR / [ui] dir) under hard limits. No Beast, no sockets: the route that
// serves the table is api/ui_route.h.
//
// Thread-safety: a ui_assets is immutable after construction; any number of threads may
// read it at once. Copies share their bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace grok::api {

// One file of a generated table (see cmake/EmbedUi.cmake); the views point at static data.
struct embedded_ui_file {
  std::string_view path;    // relative and '/'-separated: "assets/index-abc123.js"
  std::string_view bytes;   // the file as it is
  std::string_view gzip;    // the same, gzip-compressed; empty when not worth it
  std::string_view sha256;  // lowercase hex SHA-256 of `bytes`
};

struct ui_file {
  std::string path;               // as in embedded_ui_file
  std::string_view bytes;         // owned by the table (or static)
  std::string_view gzip;          // empty: no compressed variant
  std::string_view content_type;  // from the extension (ui_content_type)
  std::string etag;               // strong: "\"<first 32 hex of SHA-256>\""
  std::string etag_gzip;          // the gzip variant's: "\"<same>-gz\""
  bool immutable = false;         // under assets/: Vite's content-hashed names
};

// Limits of load_dir (and of the build-time generator, which checks the same numbers).
struct ui_limits {
  std::size_t max_files = 5000;
  std::uint64_t max_total_bytes = std::uint64_t{64} * 1024 * 1024;
  std::size_t max_path_bytes = 1024;  // one file's relative path
};

class ui_assets {
 public:
  ui_assets();  // an empty table

  // The table of a generated source. errc::invalid_argument for a path that is not a
  // valid relative path (see valid_ui_path) or a duplicate: a broken build.
  [[nodiscard]] static result<ui_assets> from_embedded(std::span<const embedded_ui_file> files);

  // Reads every regular file under `dir` once, and gzip-compresses text files (kept when
  // that saves a tenth, as the build does for the embedded UI). Entries whose name starts with '.'
  // are skipped (with what is under them). A symlink is taken only when it resolves to a regular
  // file inside `dir`; directory symlinks are not followed. Errors (errc::invalid_argument,
  // errc::not_found or errc::io; the message names the file): `dir` missing or not a directory, no
  // index.html at its top, more than limits.max_files files or limits.max_total_bytes bytes, a
  // symlink that leaves `dir`, something that is not a regular file (a FIFO, a socket, a device),
  // an unusable name.
  [[nodiscard]] static result<ui_assets> load_dir(const std::filesystem::path& dir,
                                                  const ui_limits& limits = {});

  // The file at `path` (relative, no leading '/'), or null.
  [[nodiscard]] const ui_file* find(std::string_view path) const noexcept;

  [[nodiscard]] std::span<const ui_file> files() const noexcept { return files_; }
  [[nodiscard]] bool empty() const noexcept { return files_.empty(); }
  [[nodiscard]] std::uint64_t total_bytes() const noexcept { return total_bytes_; }
  // "embedded" or the directory the files were read from.
  [[nodiscard]] const std::string& source() const noexcept { return source_; }

 private:
  // Builds the table from files whose views stay valid as long as `storage`.
  static result<ui_assets> build(std::vector<ui_file> files,
                                 std::shared_ptr<const std::vector<std::string>> storage,
                                 std::string source);

  std::vector<ui_file> files_;                               // sorted by path
  std::shared_ptr<const std::vector<std::string>> storage_;  // load_dir's bytes
  std::uint64_t total_bytes_ = 0;
  std::string source_ = "embedded";
};

// The table built into the binary: defined by the source that cmake/EmbedUi.cmake
// generates (grok_embed_ui); link the library it makes to use this. Empty when the build
// found no UI to embed.
[[nodiscard]] std::span<const embedded_ui_file> embedded_ui_files() noexcept;

// The Content-Type for a file name by its extension (case-insensitive): text types carry
// "; charset=utf-8"; unknown extensions are application/octet-stream.
[[nodiscard]] std::string_view ui_content_type(std::string_view path) noexcept;

// Whether `path` may name a file of the table: 1 to max_path_bytes bytes, relative, no
// empty, "." or ".." segment, no segment starting with '.', no backslash, no control
// character or DEL.
[[nodiscard]] bool valid_ui_path(std::string_view path, std::size_t max_path_bytes = 1024) noexcept;

}  // namespace grok::api
