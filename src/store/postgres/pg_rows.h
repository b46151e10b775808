// Column lists and row readers shared by the PostgreSQL store's read and write paths. The
// column lists are SQLite's (store/sqlite/rows.h), in the same order.
#pragma once

#include "store/api_key_types.h"
#include "store/columns.h"
#include "store/postgres/pg_connection.h"
#include "store/queue_types.h"
#include "store/run_types.h"

namespace grok::store::postgres {

job read_job(const rows& r, int row);
run_record read_run(const rows& r, int row);
step_record read_step(const rows& r, int row);
event_record read_event(const rows& r, int row);
artifact_record read_artifact(const rows& r, int row);
llm_call_record read_llm_call(const rows& r, int row);
api_key_record read_api_key(const rows& r, int row);

// Every row of `r`, read with `read`.
template <class T, class Read>
std::vector<T> collect(const rows& r, Read read) {
  std::vector<T> out;
  out.reserve(static_cast<std::size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) out.push_back(read(r, i));
  return out;
}

// The first row of `r`, or nothing.
template <class T, class Read>
std::optional<T> first(const rows& r, Read read) {
  if (r.empty()) return std::nullopt;
  return read(r, 0);
}

}  // namespace grok::store::postgres
