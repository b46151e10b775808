#include "store/sqlite/migrations.h"

#include <string>

#include "core/clock.h"

namespace grok::store::sqlite {
namespace {

constexpr std::string_view k_initial_schema = R"sql(
CREATE TABLE runs (
  id              TEXT PRIMARY KEY,
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
  created_at      INTEGER NOT NULL,
  started_at      INTEGER,
  finished_at     INTEGER,
  tokens_in       INTEGER NOT NULL DEFAULT 0,
  tokens_out      INTEGER NOT NULL DEFAULT 0,
  cost            REAL NOT NULL DEFAULT 0,
  last_seq        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_status ON runs (status, id);
CREATE INDEX runs_owner ON runs (owner_key_id, id);
CREATE INDEX runs_created ON runs (created_at);
CREATE UNIQUE INDEX runs_idempotency ON runs (owner_key_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;

CREATE TABLE artifacts (
  id         TEXT PRIMARY KEY,
  kind       TEXT NOT NULL,
  uri        TEXT NOT NULL,
  sha256     TEXT NOT NULL,
  size       INTEGER NOT NULL,
  run_id     TEXT REFERENCES runs (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL
);
CREATE INDEX artifacts_sha256 ON artifacts (sha256);
CREATE INDEX artifacts_run ON artifacts (run_id);

CREATE TABLE steps (
  id                 TEXT PRIMARY KEY,
  run_id             TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  name               TEXT NOT NULL,
  tool               TEXT,
  args               TEXT NOT NULL DEFAULT '{}',
  status             TEXT NOT NULL,
  attempts           INTEGER NOT NULL DEFAULT 0,
  output             TEXT,
  output_artifact_id TEXT REFERENCES artifacts (id),
  error              TEXT,
  started_at         INTEGER,
  finished_at        INTEGER,
  tokens_in          INTEGER NOT NULL DEFAULT 0,
  tokens_out         INTEGER NOT NULL DEFAULT 0,
  latency_ms         INTEGER NOT NULL DEFAULT 0,
  prompt_version     TEXT
);
CREATE INDEX steps_run ON steps (run_id, id);

CREATE TABLE events (
  run_id  TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  seq     INTEGER NOT NULL,
  type    TEXT NOT NULL,
  step_id TEXT,
  name    TEXT,
  ts      INTEGER NOT NULL,
  body    TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

CREATE TABLE queue (
  id            INTEGER PRIMARY KEY,
  topic         TEXT NOT NULL,
  payload       TEXT NOT NULL,
  dedupe_key    TEXT,
  state         TEXT NOT NULL CHECK (state IN ('ready','leased','done','dead')),
  attempts      INTEGER NOT NULL DEFAULT 0,
  max_attempts  INTEGER NOT NULL CHECK (max_attempts >= 1),
  lease_seq     INTEGER NOT NULL DEFAULT 0,  -- claims ever made; fences stale leases
  visible_after INTEGER NOT NULL,
  locked_by     TEXT,
  locked_at     INTEGER,
  last_error    TEXT,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  finished_at   INTEGER
);
-- Claiming reads this partial index in visibility order; done and dead jobs stay out of it.
CREATE INDEX queue_visible ON queue (visible_after, id) WHERE state IN ('ready','leased');
CREATE INDEX queue_state_topic ON queue (state, topic);
CREATE UNIQUE INDEX queue_dedupe ON queue (topic, dedupe_key) WHERE dedupe_key IS NOT NULL;

CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  scope        TEXT NOT NULL CHECK (scope IN ('runs','admin')),
  prefix       TEXT NOT NULL,
  hash         TEXT NOT NULL UNIQUE,
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at   INTEGER
);

CREATE TABLE llm_calls (
  id           TEXT PRIMARY KEY,
  run_id       TEXT REFERENCES runs (id) ON DELETE CASCADE,
  step_id      TEXT,
  role         TEXT NOT NULL,
  provider     TEXT NOT NULL,
  model        TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  request      TEXT NOT NULL,
  response     TEXT,
  error        TEXT,
  status       TEXT NOT NULL,
  latency_ms   INTEGER NOT NULL DEFAULT 0,
  tokens_in    INTEGER,
  tokens_out   INTEGER,
  created_at   INTEGER NOT NULL
);
CREATE INDEX llm_calls_run ON llm_calls (run_id, created_at);
CREATE INDEX llm_calls_request ON llm_calls (request_hash);

CREATE TABLE documents (
  id          INTEGER PRIMARY KEY,
  source      TEXT NOT NULL UNIQUE,
  title       TEXT,
  content     TEXT NOT NULL,
  sha256      TEXT NOT NULL,
  ingested_at INTEGER NOT NULL
);
CREATE VIRTUAL TABLE documents_fts USING fts5 (
  title, content, content = 'documents', content_rowid = 'id',
  tokenize = 'porter unicode61'
);
CREATE TRIGGER documents_ai AFTER INSERT ON documents BEGIN
  INSERT INTO documents_fts (rowid, title, content) VALUES (new.id, new.title, new.content);
END;
CREATE TRIGGER documents_ad AFTER DELETE ON documents BEGIN
  INSERT INTO documents_fts (documents_fts, rowid, title, content)
    VALUES ('delete', old.id, old.title, old.content);
END;
CREATE TRIGGER documents_au AFTER UPDATE ON documents BEGIN
  INSERT INTO documents_fts (documents_fts, rowid, title, content)
    VALUES ('delete', old.id, old.title, old.content);
  INSERT INTO documents_fts (rowid, title, content) VALUES (new.id, new.title, new.content);
END;

CREATE TABLE schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at INTEGER NOT NULL
);
)sql";

// Search returns passages, not whole files: documents are indexed as chunks. The
// whole-document index of migration 1 goes: nothing queried it, and keeping it would index
// every document twice. The chunk's title is a copy of its document's, so the index can
// weight it and read it back from this one table (an external-content FTS5 table reads its
// columns from the table it indexes).
constexpr std::string_view k_document_chunks = R"sql(
DROP TRIGGER documents_ai;
DROP TRIGGER documents_ad;
DROP TRIGGER documents_au;
DROP TABLE documents_fts;

CREATE TABLE document_chunks (
  id          INTEGER PRIMARY KEY,
  document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  ord         INTEGER NOT NULL,
  title       TEXT NOT NULL DEFAULT '',
  content     TEXT NOT NULL,
  UNIQUE (document_id, ord)
);
CREATE VIRTUAL TABLE document_chunks_fts USING fts5 (
  title, content, content = 'document_chunks', content_rowid = 'id',
  tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER document_chunks_ai AFTER INSERT ON document_chunks BEGIN
  INSERT INTO document_chunks_fts (rowid, title, content)
    VALUES (new.id, new.title, new.content);
END;
CREATE TRIGGER document_chunks_ad AFTER DELETE ON document_chunks BEGIN
  INSERT INTO document_chunks_fts (document_chunks_fts, rowid, title, content)
    VALUES ('delete', old.id, old.title, old.content);
END;
CREATE TRIGGER document_chunks_au AFTER UPDATE ON document_chunks BEGIN
  INSERT INTO document_chunks_fts (document_chunks_fts, rowid, title, content)
    VALUES ('delete', old.id, old.title, old.content);
  INSERT INTO document_chunks_fts (rowid, title, content)
    VALUES (new.id, new.title, new.content);
END;

-- Documents stored before chunking stay searchable as one chunk each; ingesting their
-- source again with changed content splits them.
INSERT INTO document_chunks (document_id, ord, title, content)
  SELECT id, 0, coalesce(title, ''), content FROM documents ORDER BY id;
)sql";

// Replay looks a call up by request hash within one run. With the hash alone indexed, a
// request every run makes alike (the same task, the same plan) matched every earlier run's
// call and each lookup read them all: runs got slower as the table grew.
constexpr std::string_view k_llm_call_lookup = R"sql(
CREATE INDEX llm_calls_run_request ON llm_calls (run_id, request_hash, created_at);
DROP INDEX llm_calls_request;
CREATE INDEX llm_calls_request ON llm_calls (request_hash, created_at);
)sql";

// The W3C traceparent a run was created with, so that its trace continues the caller's
// even when another process finishes the run (obs/run_tracer.h).
constexpr std::string_view k_run_trace_parent = R"sql(
ALTER TABLE runs ADD COLUMN trace_parent TEXT;
)sql";

}  // namespace

const std::vector<migration>& all_migrations() {
  static const std::vector<migration> list = {
      {1, "initial schema", k_initial_schema},
      {2, "document chunks", k_document_chunks},
      {3, "model call lookup by run", k_llm_call_lookup},
      {4, "run trace parent", k_run_trace_parent},
  };
  return list;
}

int latest_schema_version() { return all_migrations().back().version; }

result<int> read_schema_version(connection& conn) {
  auto stmt = conn.prepare("PRAGMA user_version");
  if (!stmt) return tl::unexpected(stmt.error());
  auto row = stmt->step();
  if (!row) return tl::unexpected(row.error());
  return static_cast<int>(stmt->column_int64(0));
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
  if (auto r = conn.exec("BEGIN IMMEDIATE"); !r) return tl::unexpected(r.error());
  auto rollback_with = [&](error e) -> result<bool> {
    (void)conn.exec("ROLLBACK");
    return tl::unexpected(std::move(e));
  };
  auto current = read_schema_version(conn);
  if (!current) return rollback_with(current.error());
  if (*current > latest_schema_version()) return rollback_with(too_new(*current));
  if (*current >= m.version) {
    (void)conn.exec("ROLLBACK");
    return false;  // another process got here first
  }
  if (auto r = conn.exec(m.sql); !r) {
    auto e = r.error();
    e.message = "migration " + std::to_string(m.version) + " (" + std::string(m.name) +
                ") failed: " + e.message;
    return rollback_with(std::move(e));
  }
  auto record = conn.prepare(
      "INSERT INTO schema_migrations (version, name, applied_at) "
      "VALUES (?, ?, ?)");
  if (!record) return rollback_with(record.error());
  record->bind(1, m.version).bind(2, m.name).bind(3, to_unix_ms(system_clock::instance().now()));
  if (auto r = record->run(); !r) return rollback_with(r.error());
  if (auto r = conn.exec("PRAGMA user_version = " + std::to_string(m.version)); !r) {
    return rollback_with(r.error());
  }
  if (auto r = conn.exec("COMMIT"); !r) return rollback_with(r.error());
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

}  // namespace grok::store::sqlite
