#include "store/retention.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "store/store.h"

namespace grok::store {

// The defaults of the retention methods (store.h): a backend that cannot prune says so.
result<prune_batch> store::prune_runs(time_point /*cutoff*/, int /*limit*/) {
  return fail(errc::unsupported, "this store backend cannot prune runs");
}

result<job_prune_batch> store::prune_jobs(time_point /*cutoff*/, job_id /*after*/, int /*limit*/) {
  return fail(errc::unsupported, "this store backend cannot prune jobs");
}

result<prune_counts> store::count_prunable(time_point /*cutoff*/) {
  return fail(errc::unsupported, "this store backend cannot count prunable runs");
}

result<prune_counts> prune_store(store& st, const prune_request& request) {
  if (request.batch_size < 1 || request.batch_size > k_max_prune_batch) {
    return fail(errc::invalid_argument, "prune batch size must be 1 to " +
                                            std::to_string(k_max_prune_batch) + ", not " +
                                            std::to_string(request.batch_size));
  }
  if (request.dry_run) {
    auto counted = st.count_prunable(request.cutoff);
    if (counted && request.on_progress) request.on_progress(*counted);
    return counted;
  }
  const auto stopping = [&] { return request.should_stop && request.should_stop(); };
  prune_counts total;
  while (!stopping()) {
    auto batch = st.prune_runs(request.cutoff, request.batch_size);
    if (!batch) return tl::unexpected(batch.error());
    total += batch->removed;
    if (!request.artifacts_root.empty() && !batch->orphaned_uris.empty()) {
      // After the commit: a crash in between leaves a file without a row, never a row
      // without its file.
      total.artifact_files +=
          remove_artifact_files(request.artifacts_root, batch->orphaned_uris, request.protect);
    }
    if (request.on_progress) request.on_progress(total);
    if (batch->removed.runs < request.batch_size) break;
  }
  job_id after = 0;
  while (!stopping()) {
    auto batch = st.prune_jobs(request.cutoff, after, request.batch_size * k_job_batch_factor);
    if (!batch) return tl::unexpected(batch.error());
    total.jobs += batch->deleted;
    after = batch->scanned_to;
    if (batch->deleted > 0 && request.on_progress) request.on_progress(total);
    if (batch->finished) break;
  }
  return total;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  const auto lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower >= 'a' && lower <= 'f') return lower - 'a' + 10;
  return -1;
}

// The local path an artifact URI names, or nothing for another scheme or a malformed URI.
// Percent-decoding by hand: it is these few lines, and the store links no URL library.
std::optional<std::filesystem::path> local_path(const std::filesystem::path& data_dir,
                                                std::string_view uri) {
  constexpr std::string_view k_file = "file://";
  if (uri.empty()) return std::nullopt;
  if (uri.substr(0, k_file.size()) == k_file) {
    std::string_view rest = uri.substr(k_file.size());
    if (rest.substr(0, 9) == "localhost") rest.remove_prefix(9);
    if (rest.empty() || rest.front() != '/') return std::nullopt;  // a remote host
    std::string decoded;
    for (std::size_t i = 0; i < rest.size(); ++i) {
      if (rest[i] != '%') {
        decoded += rest[i];
        continue;
      }
      if (i + 2 >= rest.size() || hex_value(rest[i + 1]) < 0 || hex_value(rest[i + 2]) < 0) {
        return std::nullopt;
      }
      const int byte = hex_value(rest[i + 1]) * 16 + hex_value(rest[i + 2]);
      if (byte == 0) return std::nullopt;
      decoded += static_cast<char>(byte);
      i += 2;
    }
    return std::filesystem::path(decoded);
  }
  if (uri.find("://") != std::string_view::npos) return std::nullopt;  // another scheme
  if (uri.find('\0') != std::string_view::npos) return std::nullopt;
  std::filesystem::path p{std::string(uri)};
  return p.is_absolute() ? p : data_dir / p;
}

// True when `inner` is `outer` or below it (both canonical).
bool is_within(const std::filesystem::path& outer, const std::filesystem::path& inner) {
  auto [o, i] = std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end());
  return o == outer.end();
}

}  // namespace

std::int64_t remove_artifact_files(const std::filesystem::path& data_dir,
                                   const std::vector<std::string>& uris,
                                   const std::vector<std::filesystem::path>& protect) {
  std::error_code ec;
  const auto root = std::filesystem::canonical(data_dir, ec);
  if (ec) return 0;
  std::vector<std::filesystem::path> kept;
  for (const auto& p : protect) {
    auto c = std::filesystem::weakly_canonical(p, ec);
    if (!ec) kept.push_back(std::move(c));
  }
  std::int64_t removed = 0;
  for (const auto& uri : uris) {
    auto path = local_path(root, uri);
    if (!path || !path->has_filename() || path->filename() == "." || path->filename() == "..") {
      continue;
    }
    // The directory is resolved (symbolic links included); the file itself must be a
    // regular file, not a link that could point anywhere.
    const auto parent = std::filesystem::canonical(path->parent_path(), ec);
    if (ec) continue;
    const auto file = parent / path->filename();
    if (!is_within(root, file) || file == root) continue;
    if (std::find(kept.begin(), kept.end(), file) != kept.end()) continue;
    const auto status = std::filesystem::symlink_status(file, ec);
    if (ec || !std::filesystem::is_regular_file(status)) continue;
    if (std::filesystem::remove(file, ec) && !ec) ++removed;
  }
  return removed;
}

}  // namespace grok::store
