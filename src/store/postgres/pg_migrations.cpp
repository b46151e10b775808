#include "store/postgres/pg_migrations.h"

#include <string>

#include "core/clock.h"

namespace grok::store::postgres {
namespace {

// Any fixed number: the key of the advisory lock migrations take.
constexpr std::int64_t k_migration_lock = 0x67726f6b6d6967;  // "grokmig"

// Ids sort as bytes (COLLATE "C"), as on SQLite, whatever the database's default
// collation: list cursors ("ids smaller than this") and orders depend on it.
constexpr std::string_view k_initial_schema = R"sql(
CREATE TABLE runs (
  id              TEXT COLLATE "C" PRIMARY KEY,
  status          TEXT NOT NULL CHECK (status IN
                    ('queued','running','awaiting_input','completed','failed','cancelled')),
  input           TEXT NOT NULL,
  options         TEXT NOT NULL DEFAULT '{}',
  answer          TEXT,
  error_code      TEXT,
  error_message   TEXT,
  owner_key_id    TEXT,
  idempotency_key TEXT,
  request_hash    TEXT,
  created_at      BIGINT NOT NULL,
  started_at      BIGINT,
  finished_at     BIGINT,
  tokens_in       BIGINT NOT NULL DEFAULT 0,
  tokens_out      BIGINT NOT NULL DEFAULT 0,
  cost            DOUBLE PRECISION NOT NULL DEFAULT 0,
  last_seq        BIGINT NOT NULL DEFAULT 0,
  trace_parent    TEXT
);
CREATE INDEX runs_status ON runs (status, id);
CREATE INDEX runs_owner ON runs (owner_key_id, id);
CREATE INDEX runs_created ON runs (created_at);
CREATE UNIQUE INDEX runs_idempotency ON runs (owner_key_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;

CREATE TABLE artifacts (
  id         TEXT COLLATE "C" PRIMARY KEY,
  kind       TEXT NOT NULL,
  uri        TEXT NOT NULL,
  sha256     TEXT NOT NULL,
  size       BIGINT NOT NULL,
  run_id     TEXT COLLATE "C" REFERENCES runs (id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL
);
CREATE INDEX artifacts_sha256 ON artifacts (sha256);
CREATE INDEX artifacts_run ON artifacts (run_id);

CREATE TABLE steps (
  id                 TEXT COLLATE "C" PRIMARY KEY,
  run_id             TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  name               TEXT NOT NULL,
  tool               TEXT,
  args               TEXT NOT NULL DEFAULT '{}',
  status             TEXT NOT NULL,
  attempts           INTEGER NOT NULL DEFAULT 0,
  output             TEXT,
  output_artifact_id TEXT REFERENCES artifacts (id),
  error              TEXT,
  started_at         BIGINT,
  finished_at        BIGINT,
  tokens_in          BIGINT NOT NULL DEFAULT 0,
  tokens_out         BIGINT NOT NULL DEFAULT 0,
  latency_ms         BIGINT NOT NULL DEFAULT 0,
  prompt_version     TEXT
);
CREATE INDEX steps_run ON steps (run_id, id);

CREATE TABLE events (
  run_id  TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  seq     BIGINT NOT NULL,
  type    TEXT NOT NULL,
  step_id TEXT,
  name    TEXT,
  ts      BIGINT NOT NULL,
  body    TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
);

CREATE TABLE queue (
  id            BIGSERIAL PRIMARY KEY,
  topic         TEXT NOT NULL,
  payload       TEXT NOT NULL,
  dedupe_key    TEXT,
  state         TEXT NOT NULL CHECK (state IN ('ready','leased','done','dead')),
  attempts      INTEGER NOT NULL DEFAULT 0,
  max_attempts  INTEGER NOT NULL CHECK (max_attempts >= 1),
  lease_seq     BIGINT NOT NULL DEFAULT 0,  -- claims ever made; fences stale leases
  visible_after BIGINT NOT NULL,
  locked_by     TEXT,
  locked_at     BIGINT,
  last_error    TEXT,
  created_at    BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL,
  finished_at   BIGINT
);
-- Claiming reads this partial index in visibility order; done and dead jobs stay out of it.
CREATE INDEX queue_visible ON queue (visible_after, id) WHERE state IN ('ready','leased');
CREATE INDEX queue_state_topic ON queue (state, topic);
CREATE UNIQUE INDEX queue_dedupe ON queue (topic, dedupe_key) WHERE dedupe_key IS NOT NULL;

CREATE TABLE api_keys (
  id           TEXT COLLATE "C" PRIMARY KEY,
  name         TEXT NOT NULL,
  scope        TEXT NOT NULL CHECK (scope IN ('runs','admin')),
  prefix       TEXT NOT NULL,
  hash         TEXT NOT NULL UNIQUE,
  created_at   BIGINT NOT NULL,
  last_used_at BIGINT,
  revoked_at   BIGINT
);

CREATE TABLE llm_calls (
  id           TEXT COLLATE "C" PRIMARY KEY,
  run_id       TEXT COLLATE "C" REFERENCES runs (id) ON DELETE CASCADE,
  step_id      TEXT,
  role         TEXT NOT NULL,
  provider     TEXT NOT NULL,
  model        TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  request      TEXT NOT NULL,
  response     TEXT,
  error        TEXT,
  status       TEXT NOT NULL,
  latency_ms   BIGINT NOT NULL DEFAULT 0,
  tokens_in    BIGINT,
  tokens_out   BIGINT,
  created_at   BIGINT NOT NULL
);
CREATE INDEX llm_calls_run_request ON llm_calls (run_id, request_hash, created_at);
CREATE INDEX llm_calls_request ON llm_calls (request_hash, created_at);
CREATE INDEX llm_calls_run ON llm_calls (run_id, created_at);

CREATE TABLE documents (
  id          BIGSERIAL PRIMARY KEY,
  source      TEXT NOT NULL UNIQUE,
  title       TEXT,
  content     TEXT NOT NULL,
  sha256      TEXT NOT NULL,
  ingested_at BIGINT NOT NULL
);

-- Search returns passages: documents are indexed as chunks, each carrying a copy of its
-- document's title so that the title can be weighted above the body ('english' stems, as
-- SQLite's porter tokenizer does). Punctuation and symbols become spaces before the parser
-- sees the text, as SQLite's unicode61 tokenizer splits on them and as search splits a query
-- (pg_documents.cpp, is_word_code_point): "example.com", "kafka-topics" or "/usr/bin" are
-- then indexed as their words, which is what a query for those words finds.
CREATE TABLE document_chunks (
  id          BIGSERIAL PRIMARY KEY,
  document_id BIGINT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  ord         INTEGER NOT NULL,
  title       TEXT NOT NULL DEFAULT '',
  content     TEXT NOT NULL,
  tsv         tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector('english', regexp_replace(title,
                  '[\u0001-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u00BF\u00D7\u00F7\u2000-\u2BFF\u3000-\u303F\uFE00-\uFE0F\uFEFF\uFF00-\uFF0F\uFFFD]+',
                  ' ', 'g')), 'A') ||
                setweight(to_tsvector('english', regexp_replace(content,
                  '[\u0001-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u00BF\u00D7\u00F7\u2000-\u2BFF\u3000-\u303F\uFE00-\uFE0F\uFEFF\uFF00-\uFF0F\uFFFD]+',
                  ' ', 'g')), 'B')) STORED,
  UNIQUE (document_id, ord)
);
CREATE INDEX document_chunks_tsv ON document_chunks USING GIN (tsv);
)sql";

}  // namespace

const std::vector<migration>& all_migrations() {
  static const std::vector<migration> list = {
      {1, "initial schema (SQLite schema version 4)", k_initial_schema},
  };
  return list;
}

int latest_schema_version() { return all_migrations().back().version; }

result<int> read_schema_version(connection& conn) {
  auto exists = conn.exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!exists) return tl::unexpected(exists.error());
  if (!exists->boolean(0, 0)) return 0;
  auto v = conn.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!v) return tl::unexpected(v.error());
  return static_cast<int>(v->int64(0, 0));
}

namespace {

error too_new(int found) {
  return {errc::unsupported,
          "database schema version " + std::to_string(found) +
              " is newer than this grok binary understands (" +
              std::to_string(latest_schema_version()) + "); upgrade grok",
          false};
}

result<bool> apply_one(connection& conn, const migration& m) {
  if (auto r = conn.exec_script("BEGIN"); !r) return tl::unexpected(r.error());
  auto rollback_with = [&](error e) -> result<bool> {
    (void)conn.exec_script("ROLLBACK");
    return tl::unexpected(std::move(e));
  };
  if (auto r = conn.exec("SELECT pg_advisory_xact_lock($1)", params().add(k_migration_lock)); !r) {
    return rollback_with(r.error());
  }
  if (auto r = conn.exec_script(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
          "name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
      !r) {
    return rollback_with(r.error());
  }
  auto current = read_schema_version(conn);
  if (!current) return rollback_with(current.error());
  if (*current > latest_schema_version()) return rollback_with(too_new(*current));
  if (*current >= m.version) {
    (void)conn.exec_script("ROLLBACK");
    return false;  // another process got here first
  }
  if (auto r = conn.exec_script(m.sql); !r) {
    auto e = r.error();
    e.message = "migration " + std::to_string(m.version) + " (" + std::string(m.name) +
                ") failed: " + e.message;
    return rollback_with(std::move(e));
  }
  if (auto r = conn.exec(
          "INSERT INTO schema_migrations (version, name, applied_at) "
          "VALUES ($1, $2, $3)",
          params().add(m.version).add(m.name).add(to_unix_ms(system_clock::instance().now())));
      !r) {
    return rollback_with(r.error());
  }
  if (auto r = conn.exec_script("COMMIT"); !r) return rollback_with(r.error());
  return true;
}

}  // namespace

result<int> migrate(connection& conn) {
  auto current = read_schema_version(conn);
  if (!current) return tl::unexpected(current.error());
  if (*current > latest_schema_version()) return tl::unexpected(too_new(*current));
  int applied = 0;
  for (const auto& m : all_migrations()) {
    if (m.version <= *current) continue;
    auto r = apply_one(conn, m);
    if (!r) return tl::unexpected(r.error());
    if (*r) ++applied;
  }
  return applied;
}

result<void> check_schema_current(connection& conn) {
  auto current = read_schema_version(conn);
  if (!current) return tl::unexpected(current.error());
  if (*current > latest_schema_version()) return tl::unexpected(too_new(*current));
  if (*current < latest_schema_version()) {
    return fail(errc::conflict, "database schema version " + std::to_string(*current) +
                                    " is older than this binary's (" +
                                    std::to_string(latest_schema_version()) +
                                    "); run `grok migrate`");
  }
  return {};
}

}  // namespace grok::store::postgres
