// `grok docs ingest|list|search|remove`: the documents `doc_search` searches (SPEC §2).
// Ingest and remove write, so they open the store as the other writing commands do
// (created and migrated as needed); list and search only read an existing database.
#include <filesystem>
#include <iostream>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/text.h"
#include "store/open_store.h"
#include "tools/doc_ingest.h"

namespace grok::cli {
namespace {

using json = nlohmann::json;

result<std::unique_ptr<store::store>> open_for_reading(const config& c) {
  auto st =
      store::open_store({.url = c.effective_db(), .create_if_missing = false, .migrate = false});
  if (!st && st.error().code == errc::not_found) {
    return fail(errc::not_found, "no documents: the database " + c.effective_db() +
                                     " does not exist yet (add documents with `grok docs "
                                     "ingest PATH`)");
  }
  return st;
}

std::string format_time(time_point t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", std::chrono::floor<std::chrono::seconds>(t));
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string plural(std::int64_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

}  // namespace

int run_docs_ingest(const config& c, const std::vector<std::string>& paths) {
  auto st = store::open_store({.url = c.effective_db()});
  if (!st) return report_error(describe(st.error()));

  std::optional<tools::file_report> first_failure;
  const auto totals = tools::ingest_paths(**st, paths, [&](const tools::file_report& r) {
    std::string detail;
    switch (r.outcome) {
      case tools::file_outcome::added:
      case tools::file_outcome::replaced:
      case tools::file_outcome::unchanged:
        detail = plural(r.chunks, "chunk");
        if (!r.detail.empty()) detail += "; " + r.detail;
        break;
      case tools::file_outcome::failed:
        if (!first_failure) first_failure = r;
        [[fallthrough]];
      case tools::file_outcome::skipped:
        detail = r.detail;
        break;
    }
    std::cout << fmt::format("{:<9}  {}  ({})\n", tools::to_string(r.outcome),
                             one_line(r.path, 4096), one_line(detail, 400))
              << std::flush;
  });
  std::cout << fmt::format("{} added, {} replaced, {} unchanged, {} skipped, {} failed\n",
                           totals.added, totals.replaced, totals.unchanged, totals.skipped,
                           totals.failed);
  if (totals.failed > 0) {
    return report_error(fmt::format("{} not ingested; first: {}: {}", plural(totals.failed, "path"),
                                    one_line(first_failure->path, 4096),
                                    one_line(first_failure->detail, 400)));
  }
  return k_exit_ok;
}

int run_docs_list(const config& c, bool as_json) {
  auto st = open_for_reading(c);
  if (!st) return report_error(describe(st.error()));
  auto docs = (*st)->list_documents();
  if (!docs) return report_error(describe(docs.error()));

  if (as_json) {
    auto out = json::array();
    for (const auto& d : *docs) {
      out.push_back({{"id", d.id},
                     {"source", d.source},
                     {"title", d.title},
                     {"sha256", d.sha256},
                     {"chunks", d.chunks},
                     {"ingested_at", format_time(d.ingested_at)}});
    }
    std::cout << dump(out) << "\n";
    return k_exit_ok;
  }
  if (docs->empty()) {
    std::cout << "no documents; add some with `grok docs ingest PATH`\n";
    return k_exit_ok;
  }
  std::cout << fmt::format("{:>6}  {:<20}  {:<40}  {}\n", "CHUNKS", "INGESTED", "TITLE", "SOURCE");
  std::int64_t chunks = 0;
  for (const auto& d : *docs) {
    std::cout << fmt::format("{:>6}  {:<20}  {:<40}  {}\n", d.chunks, format_time(d.ingested_at),
                             one_line(d.title, 40), one_line(d.source, 4096));
    chunks += d.chunks;
  }
  std::cout << fmt::format("{}, {}\n", plural(static_cast<std::int64_t>(docs->size()), "document"),
                           plural(chunks, "chunk"));
  return k_exit_ok;
}

int run_docs_search(const config& c, const std::string& query, int k, bool as_json) {
  auto st = open_for_reading(c);
  if (!st) return report_error(describe(st.error()));
  auto hits = (*st)->search_documents(query, k);
  if (!hits) return report_error(describe(hits.error()));

  if (as_json) {
    auto out = json::array();
    for (const auto& h : *hits) {
      out.push_back({{"source", h.source},
                     {"title", h.title},
                     {"chunk", h.chunk_ord},
                     {"score", h.score},
                     {"snippet", h.snippet},
                     {"content", h.content}});
    }
    std::cout << dump(out) << "\n";
    return k_exit_ok;
  }
  if (hits->empty()) {
    auto docs = (*st)->list_documents();
    if (!docs) return report_error(describe(docs.error()));
    std::cout << (docs->empty() ? "no documents; add some with `grok docs ingest PATH`\n"
                                : "no documents match\n");
    return k_exit_ok;
  }
  for (std::size_t i = 0; i < hits->size(); ++i) {
    const auto& h = (*hits)[i];
    std::cout << fmt::format("{}[{}] {}{}  (passage {}, score {:.2f})\n    {}\n", i > 0 ? "\n" : "",
                             i + 1, one_line(h.source, 4096),
                             h.title.empty() ? "" : " — " + one_line(h.title, 200), h.chunk_ord + 1,
                             h.score, one_line(h.snippet, 1000));
  }
  return k_exit_ok;
}

int run_docs_remove(const config& c, const std::string& source) {
  auto st = store::open_store({.url = c.effective_db(), .create_if_missing = false});
  if (!st) return report_error(describe(st.error()));
  // Documents are stored under their absolute, resolved path; accept the path as typed too.
  std::vector<std::string> candidates{source};
  std::error_code ec;
  const auto resolved = std::filesystem::weakly_canonical(source, ec);
  if (!ec && resolved.string() != source) candidates.push_back(resolved.string());
  for (const auto& candidate : candidates) {
    auto removed = (*st)->transact(
        [&](store::transaction& tx) -> result<void> { return tx.remove_document(candidate); });
    if (removed) {
      std::cout << "removed " << one_line(candidate, 4096) << "\n";
      return k_exit_ok;
    }
    if (removed.error().code != errc::not_found) return report_error(describe(removed.error()));
  }
  return report_error("no document with source " + one_line(source, 4096) +
                      " (see `grok docs list`)");
}

}  // namespace grok::cli
