// Documents for doc_search on PostgreSQL full-text search. (Being written.)
#include "store/postgres/pg_store.h"
#include "store/postgres/pg_transaction.h"

namespace grok::store::postgres {
namespace {
tl::unexpected<error> todo() { return fail(errc::unsupported, "not yet on PostgreSQL"); }
}  // namespace
result<ingest_outcome> pg_transaction::ingest_document(const document_input&) { return todo(); }
result<void> pg_transaction::remove_document(std::string_view) { return todo(); }
result<std::vector<document_hit>> pg_store::search_documents(std::string_view, int) { return todo(); }
result<std::vector<document_summary>> pg_store::list_documents() { return todo(); }
}  // namespace grok::store::postgres
