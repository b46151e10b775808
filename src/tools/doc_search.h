// The `doc_search` tool (SPEC §5): BM25 full-text search over the documents ingested with
// `grok docs ingest`, returning the best passages with their sources.
//
// Thread-safety: invoke() may run on many worker threads at once; the tool holds only
// constant state and a store, which is thread-safe.
#pragma once

#include <memory>

#include "store/store.h"
#include "tools/tool.h"

namespace grok::tools {

// Passages returned when the arguments give no "k".
inline constexpr int k_doc_search_default_k = 5;

// {"query": string, "k"?: 1..20} → the top k chunks, best first, each headed by its rank,
// source, title and chunk number; "no documents match" when none does, and a hint to run
// `grok docs ingest PATH` when nothing has been ingested. Store errors are returned as
// they are (a busy database is retryable). `st` must outlive the tool.
std::unique_ptr<tool> make_doc_search_tool(store::store& st);

}  // namespace grok::tools
