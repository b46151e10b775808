// API keys on PostgreSQL. (Being written.)
#include "store/postgres/pg_store.h"
#include "store/postgres/pg_transaction.h"

namespace grok::store::postgres {
namespace {
tl::unexpected<error> todo() { return fail(errc::unsupported, "not yet on PostgreSQL"); }
}  // namespace
result<void> pg_transaction::insert_api_key(const api_key_record&) { return todo(); }
result<void> pg_transaction::revoke_api_key(std::string_view) { return todo(); }
result<std::vector<api_key_record>> pg_store::list_api_keys() { return todo(); }
result<std::optional<api_key_record>> pg_store::find_api_key(std::string_view) { return todo(); }
}  // namespace grok::store::postgres
