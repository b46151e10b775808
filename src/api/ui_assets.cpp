#include "api/ui_assets.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include <zlib.h>

#include "core/sha256.h"

namespace grok::api {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t k_etag_hex = 32;  // 128 bits of the SHA-256
constexpr std::string_view k_immutable_prefix = "assets/";
constexpr std::string_view k_octet_stream = "application/octet-stream";
constexpr int k_gzip_level = 6;  // directory mode compresses at start: speed over the last bytes

struct type_entry {
  std::string_view extension;
  std::string_view content_type;
};

constexpr std::array k_types = {
    type_entry{"html", "text/html; charset=utf-8"},
    type_entry{"htm", "text/html; charset=utf-8"},
    type_entry{"js", "text/javascript; charset=utf-8"},
    type_entry{"mjs", "text/javascript; charset=utf-8"},
    type_entry{"css", "text/css; charset=utf-8"},
    type_entry{"svg", "image/svg+xml; charset=utf-8"},
    type_entry{"json", "application/json; charset=utf-8"},
    type_entry{"webmanifest", "application/manifest+json; charset=utf-8"},
    type_entry{"map", "application/json; charset=utf-8"},
    type_entry{"txt", "text/plain; charset=utf-8"},
    type_entry{"png", "image/png"},
    type_entry{"jpg", "image/jpeg"},
    type_entry{"jpeg", "image/jpeg"},
    type_entry{"gif", "image/gif"},
    type_entry{"webp", "image/webp"},
    type_entry{"avif", "image/avif"},
    type_entry{"ico", "image/x-icon"},
    type_entry{"woff", "font/woff"},
    type_entry{"woff2", "font/woff2"},
    type_entry{"wasm", "application/wasm"},
};

bool iequal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool is_hex(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Whether `target` is `root` itself or below it (both canonical).
bool inside(const fs::path& root, const fs::path& target) {
  auto r = root.begin();
  auto t = target.begin();
  for (; r != root.end(); ++r, ++t) {
    if (t == target.end() || *r != *t) return false;
  }
  return true;
}

std::string errno_text(int err) { return std::strerror(err); }

// The bytes of the regular file at `p`, opened without following a final symlink; more
// than `budget` bytes is an error naming `limit_text`.
result<std::string> read_regular_file(const fs::path& p, const std::string& shown,
                                      std::uint64_t budget, const std::string& limit_text) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return fail(errc::io, "cannot open " + shown + ": " + errno_text(err));
  }
  struct fd_closer {
    int fd;
    ~fd_closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    return fail(errc::io, "cannot stat " + shown + ": " + errno_text(err));
  }
  if (!S_ISREG(st.st_mode)) return fail(errc::invalid_argument, shown + " is not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > budget) {
    return fail(errc::invalid_argument, limit_text);
  }
  std::string bytes;
  bytes.resize(static_cast<std::size_t>(st.st_size));
  std::size_t have = 0;
  while (have < bytes.size()) {
    const auto n = ::read(fd, bytes.data() + have, bytes.size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      return fail(errc::io, "cannot read " + shown + ": " + errno_text(err));
    }
    if (n == 0) break;  // shrank while we read: take what is there
    have += static_cast<std::size_t>(n);
  }
  bytes.resize(have);
  return bytes;
}

// Text types worth compressing (the same list as cmake/embed_ui_generate.cmake).
bool compressible(std::string_view path) noexcept {
  static constexpr std::array<std::string_view, 12> k_text = {
      "html", "htm", "js", "mjs", "css", "svg", "json", "map", "txt", "webmanifest", "wasm", "xml"};
  const auto slash = path.rfind('/');
  const auto name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  const auto ext = name.substr(dot + 1);
  return std::any_of(k_text.begin(), k_text.end(),
                     [&](std::string_view t) { return iequal(ext, t); });
}

// `bytes` gzip-compressed when that saves at least a tenth; empty otherwise.
std::optional<std::string> gzip_if_smaller(std::string_view bytes) {
  if (bytes.empty()) return std::nullopt;
  z_stream z{};
  if (deflateInit2(&z, k_gzip_level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return std::nullopt;
  }
  std::string out;
  out.resize(deflateBound(&z, static_cast<uLong>(bytes.size())));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END || out.size() * 10 >= bytes.size() * 9) return std::nullopt;
  return out;
}

}  // namespace

std::string_view ui_content_type(std::string_view path) noexcept {
  const auto slash = path.rfind('/');
  const auto name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return k_octet_stream;
  const auto ext = name.substr(dot + 1);
  for (const auto& t : k_types) {
    if (iequal(ext, t.extension)) return t.content_type;
  }
  return k_octet_stream;
}

bool valid_ui_path(std::string_view path, std::size_t max_path_bytes) noexcept {
  if (path.empty() || path.size() > max_path_bytes) return false;
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\\') return false;
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const auto segment = path.substr(start, end - start);
    if (segment.empty() || segment.front() == '.') return false;  // also "." and ".."
    start = end + 1;
  }
  return true;
}

ui_assets::ui_assets() = default;

result<ui_assets> ui_assets::build(std::vector<ui_file> files,
                                   std::shared_ptr<const std::vector<std::string>> storage,
                                   std::string source) {
  std::sort(files.begin(), files.end(),
            [](const ui_file& a, const ui_file& b) { return a.path < b.path; });
  ui_assets out;
  for (std::size_t i = 0; i < files.size(); ++i) {
    auto& f = files[i];
    if (i > 0 && files[i - 1].path == f.path) {
      return fail(errc::invalid_argument, "UI file " + f.path + " is listed twice");
    }
    f.content_type = ui_content_type(f.path);
    f.immutable = f.path.starts_with(k_immutable_prefix);
    out.total_bytes_ += f.bytes.size();
  }
  out.files_ = std::move(files);
  out.storage_ = std::move(storage);
  out.source_ = std::move(source);
  return out;
}

result<ui_assets> ui_assets::from_embedded(std::span<const embedded_ui_file> files) {
  std::vector<ui_file> table;
  table.reserve(files.size());
  for (const auto& e : files) {
    if (!valid_ui_path(e.path)) {
      return fail(errc::invalid_argument, "the embedded UI has an unusable file name: " +
                                              std::string(e.path.substr(0, 200)));
    }
    ui_file f;
    f.path = std::string(e.path);
    f.bytes = e.bytes;
    f.gzip = e.gzip;
    const std::string hash = e.sha256.size() >= k_etag_hex && is_hex(e.sha256)
                                 ? std::string(e.sha256.substr(0, k_etag_hex))
                                 : sha256_hex(e.bytes).substr(0, k_etag_hex);
    f.etag = "\"" + hash + "\"";
    f.etag_gzip = "\"" + hash + "-gz\"";
    table.push_back(std::move(f));
  }
  return build(std::move(table), nullptr, "embedded");
}

result<ui_assets> ui_assets::load_dir(const fs::path& dir, const ui_limits& limits) {
  const std::string shown = dir.string();
  std::error_code ec;
  const auto st = fs::status(dir, ec);
  if (!fs::exists(st)) {
    return fail(errc::not_found, "UI directory " + shown + " does not exist");
  }
  if (!fs::is_directory(st)) {
    return fail(errc::invalid_argument, "UI directory " + shown + " is not a directory");
  }
  const auto root = fs::canonical(dir, ec);
  if (ec) return fail(errc::io, "UI directory " + shown + ": " + ec.message());
  // Checked first: pointing at web/ instead of web/dist would otherwise read node_modules.
  const std::string no_index = "UI directory " + shown +
                               " has no index.html; point GROK_UI_DIR at a built UI (web/dist "
                               "after `npm run build`)";
  if (!fs::is_regular_file(fs::symlink_status(root / "index.html", ec))) {
    return fail(errc::invalid_argument, no_index);
  }

  const std::string too_big = "UI directory " + shown + " holds more than " +
                              std::to_string(limits.max_total_bytes) + " bytes";
  auto storage = std::make_shared<std::vector<std::string>>();
  std::vector<std::pair<std::string, std::size_t>> found;  // path, index into storage
  std::uint64_t total = 0;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  if (ec) return fail(errc::io, "UI directory " + shown + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const auto& entry = *it;
    const auto rel = entry.path().lexically_relative(root).generic_string();
    const std::string where = shown + "/" + rel.substr(0, 200);
    auto kind = entry.symlink_status(ec);
    if (ec) return fail(errc::io, "cannot stat " + where + ": " + ec.message());
    if (entry.path().filename().string().starts_with('.')) {
      if (fs::is_directory(kind)) it.disable_recursion_pending();
      continue;  // .DS_Store, .git, editors' files: never served
    }
    if (fs::is_directory(kind)) continue;
    fs::path source = entry.path();
    if (fs::is_symlink(kind)) {
      auto target = fs::canonical(entry.path(), ec);
      if (ec) return fail(errc::invalid_argument, where + " is a broken symlink");
      if (!inside(root, target)) {
        return fail(errc::invalid_argument,
                    where + " is a symlink that leaves the UI directory; copy the file instead");
      }
      kind = fs::status(target, ec);
      if (fs::is_directory(kind)) continue;  // its files are served under their own path
      source = std::move(target);
    }
    if (!fs::is_regular_file(kind)) {
      return fail(errc::invalid_argument, where + " is not a regular file");
    }
    if (!valid_ui_path(rel, limits.max_path_bytes)) {
      return fail(errc::invalid_argument,
                  where + ": unusable file name (control characters, backslashes or longer than " +
                      std::to_string(limits.max_path_bytes) + " bytes)");
    }
    if (found.size() == limits.max_files) {
      return fail(errc::invalid_argument, "UI directory " + shown + " holds more than " +
                                              std::to_string(limits.max_files) + " files");
    }
    auto bytes = read_regular_file(source, where, limits.max_total_bytes - total, too_big);
    if (!bytes) return tl::unexpected(bytes.error());
    total += bytes->size();
    found.emplace_back(rel, storage->size());
    storage->push_back(std::move(*bytes));
  }
  if (ec) return fail(errc::io, "UI directory " + shown + ": " + ec.message());

  // Gzip variants of text files, as the build does for the embedded UI. The storage
  // is complete before any view into it is taken (a growing vector moves its strings).
  std::vector<std::size_t> gzip_index(found.size(), 0);
  for (std::size_t i = 0; i < found.size(); ++i) {
    const auto& [path, index] = found[i];
    if (!compressible(path)) continue;
    if (auto gz = gzip_if_smaller((*storage)[index])) {
      gzip_index[i] = storage->size();
      storage->push_back(std::move(*gz));
    }
  }
  std::vector<ui_file> table;
  table.reserve(found.size());
  for (std::size_t i = 0; i < found.size(); ++i) {
    auto& [path, index] = found[i];
    ui_file f;
    f.path = std::move(path);
    f.bytes = (*storage)[index];
    if (gzip_index[i] != 0) f.gzip = (*storage)[gzip_index[i]];
    const auto hash = sha256_hex(f.bytes).substr(0, k_etag_hex);
    f.etag = "\"" + hash + "\"";
    f.etag_gzip = "\"" + hash + "-gz\"";
    table.push_back(std::move(f));
  }
  auto assets = build(std::move(table), std::move(storage), root.string());
  if (assets && assets->find("index.html") == nullptr) {
    return fail(errc::invalid_argument, no_index);  // replaced while we read
  }
  return assets;
}

const ui_file* ui_assets::find(std::string_view path) const noexcept {
  const auto it = std::lower_bound(files_.begin(), files_.end(), path,
                                   [](const ui_file& f, std::string_view p) { return f.path < p; });
  if (it == files_.end() || it->path != path) return nullptr;
  return &*it;
}

}  // namespace grok::api
