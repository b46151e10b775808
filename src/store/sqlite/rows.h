// Row readers (for the column lists of store/columns.h) shared by the SQLite store's read and write
// paths.
#pragma once

#include "store/api_key_types.h"
#include "store/columns.h"
#include "store/queue_types.h"
#include "store/run_types.h"
#include "store/sqlite/connection.h"

namespace grok::store::sqlite {

job read_job(const bound_statement& s);

run_record read_run(const bound_statement& s);

step_record read_step(const bound_statement& s);

event_record read_event(const bound_statement& s);

artifact_record read_artifact(const bound_statement& s);

llm_call_record read_llm_call(const bound_statement& s);

api_key_record read_api_key(const bound_statement& s);

// "?first, ?first+1, …" for an IN list of `count` parameters.
std::string placeholders(int first, std::size_t count);

}  // namespace grok::store::sqlite
