#include "obs/audit_log.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "obs/audit_verify.h"
#include "obs/metrics.h"
#include "tests_support/temp_dir.h"
#include "unit/obs/audit_test_support.h"

namespace grok::obs {
namespace {

using namespace grok::obs::testing;
using grok::testing::temp_dir;

const std::vector<std::string> k_secret_fields = {
    "input",  "plan",    "args",          "idem",  "tool_error", "retry_error",
    "output", "outputs", "error_message", "delta", "answer"};

class audit_log : public ::testing::Test {
 protected:
  audit_options options() {
    audit_options o;
    o.dir = dir_.file("audit");
    o.file_clock = &clock_;
    return o;
  }
  std::unique_ptr<audit_writer> start(audit_options o) {
    auto w = audit_writer::start(std::move(o));
    if (!w) ADD_FAILURE() << describe(w.error());
    return w ? std::move(*w) : nullptr;
  }
  // Writes `events` through a writer that is then destroyed (drained and closed).
  void write_all(audit_options o, std::vector<audit_event> events) {
    auto w = start(std::move(o));
    ASSERT_TRUE(w);
    w->submit(std::move(events));
    ASSERT_TRUE(w->flush());
  }
  std::string audit_dir() const { return dir_.file("audit"); }

  temp_dir dir_;
  manual_clock clock_{from_unix_ms(1'790'000'000'000)};  // 2026-09-21
};

TEST_F(audit_log, secrets_in_user_model_and_tool_fields_never_reach_the_files) {
  write_all(options(), secret_run("run_1"));
  const auto text = all_text(audit_dir());
  ASSERT_FALSE(text.empty());
  for (const auto& field : k_secret_fields) {
    EXPECT_EQ(text.find("S-" + field + "-"), std::string::npos) << field << " leaked:\n" << text;
  }
  // What is kept: the envelope, the allow-listed metadata, and every redacted key.
  auto lines = all_lines(audit_dir());
  ASSERT_EQ(lines.size(), 12U) << "a header and 11 events";
  EXPECT_EQ(lines[0]["event"], "audit.file");
  const auto& created = lines[1];
  EXPECT_EQ(created["event"], "run.created");
  EXPECT_EQ(created["schema"], 1);
  EXPECT_EQ(created["seq"], 1);
  EXPECT_EQ(created["run_id"], "run_1");
  EXPECT_EQ(created["input"], "[redacted]");
  EXPECT_EQ(created["options"]["max_steps"], 4);
  EXPECT_TRUE(created["ts"].is_string());
  EXPECT_EQ(lines[4]["tool"], "http_get");
  EXPECT_EQ(lines[4]["args"], "[redacted]");
  EXPECT_EQ(lines[4]["step_id"], "step_run_1");
  EXPECT_EQ(lines[4]["name"], "worker.E1");
  EXPECT_EQ(lines[6]["retry_in_ms"], 500);
  EXPECT_EQ(lines[8]["result"]["status"], "ok");
  EXPECT_EQ(lines[8]["result"]["outputs"], "[redacted]");
  EXPECT_EQ(lines[8]["metrics"]["latency_ms"], 12);
  EXPECT_EQ(lines[9]["error"]["code"], "timeout");
  EXPECT_EQ(lines[9]["error"]["message"], "[redacted]");
  EXPECT_EQ(lines[11]["usage"]["cost"], 0.25);
  EXPECT_EQ(lines[11]["answer"], "[redacted]");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i]["audit_seq"], static_cast<int>(i + 1));
    EXPECT_EQ(lines[i]["alg"], "sha256");
  }
}

TEST_F(audit_log, an_allow_listed_field_is_written_as_it_is) {
  auto o = options();
  o.allow_fields = {"input", "error.message", "result.outputs.value", "tool"};
  write_all(o, secret_run("run_1"));
  const auto text = all_text(audit_dir());
  EXPECT_NE(text.find("S-input-run_1"), std::string::npos);
  EXPECT_NE(text.find("S-error_message-run_1"), std::string::npos);
  EXPECT_NE(text.find("S-outputs-run_1"), std::string::npos);
  // A string "error" (tool.result, step.retrying) is not an object with a message.
  for (const auto& field : {"args", "output", "answer", "tool_error", "retry_error", "delta"}) {
    EXPECT_EQ(text.find(std::string("S-") + field + "-"), std::string::npos) << field;
  }
  // Not on this list any more: the defaults are replaced, not extended.
  auto lines = all_lines(audit_dir());
  EXPECT_EQ(lines[11]["usage"], "[redacted]");
  EXPECT_EQ(lines[8]["result"]["outputs"][0]["key"], "[redacted]");
  EXPECT_EQ(lines[8]["result"]["status"], "[redacted]");
}

TEST(field_allow_list, paths_reach_into_objects_and_each_object_of_an_array) {
  const field_allow_list allow({"a.b", "list.keep", "whole", "..", "x..y"});
  const json body = {{"a", {{"b", {1, 2}}, {"c", "no"}}},
                     {"list", {{{"keep", 1}, {"drop", 2}}, "scalar"}},
                     {"whole", {{"deep", {{"er", true}}}}},
                     {"x", {{"y", 3}, {"z", 4}}},
                     {"other", nullptr}};
  const json expected = {{"a", {{"b", {1, 2}}, {"c", "[redacted]"}}},
                         {"list", {{{"keep", 1}, {"drop", "[redacted]"}}, "[redacted]"}},
                         {"whole", {{"deep", {{"er", true}}}}},
                         {"x", {{"y", 3}, {"z", "[redacted]"}}},
                         {"other", "[redacted]"}};
  EXPECT_EQ(allow.redact(body), expected);
  EXPECT_EQ(allow.redact(json::array({1})), (json{{"body", "[redacted]"}}));
}

TEST_F(audit_log, rotation_at_the_size_limit_loses_and_duplicates_no_line) {
  auto o = options();
  o.max_file_bytes = 2048;
  o.keep_files = 1000;
  auto w = start(o);
  ASSERT_TRUE(w);
  std::vector<std::pair<std::string, std::int64_t>> sent;
  for (int run = 0; run < 30; ++run) {
    auto events = secret_run("run_" + std::to_string(run));
    for (const auto& e : events) sent.emplace_back(e.run_id, e.seq);
    // Several submissions per run: batches of every size.
    std::vector<audit_event> part;
    for (std::size_t i = 0; i < events.size(); ++i) {
      part.push_back(events[i]);
      if (i % 4 == 3 || i + 1 == events.size()) w->submit(std::exchange(part, {}));
    }
  }
  ASSERT_TRUE(w->flush());
  EXPECT_EQ(w->counters().events_dropped, 0);
  w.reset();

  const auto files = files_in(audit_dir());
  ASSERT_GT(files.size(), 10U);
  std::vector<std::pair<std::string, std::int64_t>> seen;
  std::int64_t audit_seq = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(files[i].number, i + 1);
    const auto text = read_file(files[i].path);
    EXPECT_LE(text.size(), 2048U) << files[i].name;
    const auto lines = split_lines(text);
    ASSERT_GE(lines.size(), 2U) << "a header and at least one event: " << files[i].name;
    for (std::size_t k = 0; k < lines.size(); ++k) {
      auto doc = json::parse(lines[k]);
      EXPECT_EQ(doc["audit_seq"], ++audit_seq);
      if (k == 0) {
        EXPECT_EQ(doc["event"], "audit.file");
        EXPECT_EQ(doc["file"], files[i].name);
        continue;
      }
      seen.emplace_back(doc["run_id"], doc["seq"]);
    }
  }
  EXPECT_EQ(seen, sent) << "every (run_id, seq) once, in the order submitted";
  auto report = verify_audit_log(audit_dir(), "");
  ASSERT_TRUE(report) << describe(report.error());
  EXPECT_TRUE(report->intact()) << report->problem->reason;
  EXPECT_EQ(report->events, static_cast<std::int64_t>(sent.size()));
}

TEST_F(audit_log, keep_files_deletes_the_oldest_and_the_rest_still_verifies) {
  auto o = options();
  o.max_file_bytes = 2048;
  o.keep_files = 3;
  auto w = start(o);
  ASSERT_TRUE(w);
  for (int run = 0; run < 10; ++run) {
    w->submit(secret_run("run_" + std::to_string(run)));
    ASSERT_TRUE(w->flush());
  }
  const auto started = w->counters().files_started;
  EXPECT_GT(started, 3);
  EXPECT_EQ(w->counters().files_deleted, started - 3);
  w.reset();
  const auto files = files_in(audit_dir());
  ASSERT_EQ(files.size(), 3U);
  EXPECT_EQ(files.back().number, static_cast<std::uint64_t>(started));
  EXPECT_EQ(files.front().number, static_cast<std::uint64_t>(started - 2));
  auto report = verify_audit_log(audit_dir(), "");
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->intact()) << report->problem->reason;
  EXPECT_TRUE(report->starts_after_rotation);
  EXPECT_GT(report->first_audit_seq, 1);
  // The last run's last event is the log's last line.
  auto lines = all_lines(audit_dir());
  EXPECT_EQ(lines.back()["run_id"], "run_9");
  EXPECT_EQ(lines.back()["event"], "run.completed");
}

TEST_F(audit_log, a_new_utc_day_starts_a_new_file) {
  auto w = start(options());
  ASSERT_TRUE(w);
  w->submit(secret_run("run_1"));
  ASSERT_TRUE(w->flush());
  clock_.advance(std::chrono::hours(1));  // still 2026-09-21
  w->submit(secret_run("run_2"));
  ASSERT_TRUE(w->flush());
  clock_.advance(std::chrono::hours(24));
  w->submit(secret_run("run_3"));
  ASSERT_TRUE(w->flush());
  w.reset();
  const auto files = files_in(audit_dir());
  ASSERT_EQ(files.size(), 2U);
  EXPECT_EQ(files[0].name, "audit-000001-20260921.jsonl");
  EXPECT_EQ(files[1].name, "audit-000002-20260922.jsonl");
  EXPECT_EQ(split_lines(read_file(files[0].path)).size(), 23U);
  EXPECT_EQ(split_lines(read_file(files[1].path)).size(), 12U);
  auto report = verify_audit_log(audit_dir(), "");
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->intact());
  EXPECT_FALSE(report->starts_after_rotation);
}

TEST_F(audit_log, a_restart_continues_the_chain_and_the_audit_seq) {
  for (const std::string secret : {"", "k3y"}) {
    SCOPED_TRACE(secret.empty() ? "unkeyed" : "keyed");
    temp_dir scratch;
    auto o = options();
    o.dir = scratch.file("audit");
    o.secret = secret;
    write_all(o, secret_run("run_1"));
    auto w = start(o);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->started().audit_seq, 12);
    EXPECT_FALSE(w->started().torn_tail);
    w->submit(secret_run("run_2"));
    ASSERT_TRUE(w->flush());
    w.reset();
    const auto files = files_in(o.dir);
    ASSERT_EQ(files.size(), 1U) << "the same day's file is appended to";
    auto lines = all_lines(o.dir);
    ASSERT_EQ(lines.size(), 23U);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      EXPECT_EQ(lines[i]["audit_seq"], static_cast<int>(i + 1));
    }
    EXPECT_EQ(lines[12]["prev"], lines[11]["hash"]);
    auto report = verify_audit_log(o.dir, secret);
    ASSERT_TRUE(report) << describe(report.error());
    EXPECT_TRUE(report->intact()) << report->problem->reason;
    EXPECT_EQ(report->lines, 23);
    EXPECT_EQ(report->keyed_lines, secret.empty() ? 0 : 23);
  }
}

TEST_F(audit_log, a_torn_last_line_is_recorded_not_chained_onto) {
  write_all(options(), secret_run("run_1"));
  auto files = files_in(audit_dir());
  ASSERT_EQ(files.size(), 1U);
  // A crash in the middle of a write: half a line, no newline.
  auto text = read_file(files[0].path);
  const auto torn = split_lines(text)[5].substr(0, 40);
  write_file(files[0].path, text + torn);
  auto before = verify_audit_log(audit_dir(), "");
  ASSERT_TRUE(before);
  ASSERT_FALSE(before->intact());
  EXPECT_EQ(before->problem->line, 13);
  EXPECT_EQ(before->problem->reason.rfind("truncated", 0), 0U) << before->problem->reason;

  auto w = start(options());
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->started().torn_tail);
  EXPECT_EQ(w->started().audit_seq, 12) << "chained to the last whole line";
  w->submit(secret_run("run_2"));
  ASSERT_TRUE(w->flush());
  w.reset();
  EXPECT_EQ(read_file(files[0].path), text + torn) << "the torn file is left as it was";
  files = files_in(audit_dir());
  ASSERT_EQ(files.size(), 2U);
  auto header = json::parse(split_lines(read_file(files[1].path))[0]);
  EXPECT_EQ(header["audit_seq"], 13);
  ASSERT_EQ(header["recovered"].size(), 1U);
  EXPECT_EQ(header["recovered"][0]["file"], files[0].name);
  EXPECT_EQ(header["recovered"][0]["offset"], text.size());
  EXPECT_EQ(header["recovered"][0]["bytes"], torn.size());
  auto report = verify_audit_log(audit_dir(), "");
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->intact()) << report->problem->reason;
  ASSERT_FALSE(report->notes.empty());
  EXPECT_NE(report->notes[0].find("torn"), std::string::npos) << report->notes[0];
}

TEST_F(audit_log, a_file_torn_before_its_first_whole_line_chains_to_the_file_before) {
  write_all(options(), secret_run("run_1"));
  // A crash while writing the header of the next file.
  const auto torn = std::string(R"({"alg":"sha256","audit_seq":13,"event":"audit.fi)");
  write_file(audit_dir() + "/audit-000002-20260921.jsonl", torn);
  auto w = start(options());
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->started().torn_tail);
  EXPECT_EQ(w->started().audit_seq, 12);
  w->submit(secret_run("run_2"));
  ASSERT_TRUE(w->flush());
  w.reset();
  const auto files = files_in(audit_dir());
  ASSERT_EQ(files.size(), 3U);
  auto header = json::parse(split_lines(read_file(files[2].path))[0]);
  ASSERT_EQ(header["recovered"].size(), 1U);
  EXPECT_EQ(header["recovered"][0]["file"], files[1].name);
  EXPECT_EQ(header["recovered"][0]["offset"], 0);
  auto report = verify_audit_log(audit_dir(), "");
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->intact()) << report->problem->reason;
  EXPECT_EQ(report->lines, 24);
  // Without the record in the next header, the torn line is damage.
  auto lines = split_lines(read_file(files[2].path));
  auto doc = json::parse(lines[0]);
  chain_state state{doc["prev"].get<std::string>(), 12};
  for (auto& line : lines) {
    auto d = json::parse(line);
    for (const auto* k : {"hash", "audit_seq", "prev", "alg"}) d.erase(k);
    d.erase("recovered");
    line = seal_line(d, state, "");
  }
  write_file(files[2].path, join_lines(lines));
  auto damaged = verify_audit_log(audit_dir(), "");
  ASSERT_TRUE(damaged);
  ASSERT_FALSE(damaged->intact());
  EXPECT_EQ(damaged->problem->file, files[1].name);
  EXPECT_EQ(damaged->problem->line, 1);
  EXPECT_EQ(damaged->problem->reason.rfind("truncated", 0), 0U) << damaged->problem->reason;
}

TEST_F(audit_log, a_full_queue_drops_events_visibly_and_records_the_gap) {
  auto o = options();
  o.max_queue_events = 5;
  auto w = start(o);
  ASSERT_TRUE(w);
  auto& dropped = metrics().counter("grok_audit_lines_dropped_total", "");
  const auto dropped_before = dropped.value();
  w->submit(secret_run("run_big"));  // 11 events: more than the queue holds
  w->submit({make_event("run_small", 1, "run.created", {{"input", "x"}})});
  ASSERT_TRUE(w->flush());
  EXPECT_EQ(w->counters().events_dropped, 11);
  EXPECT_EQ(dropped.value() - dropped_before, 11);
  w.reset();
  auto lines = all_lines(audit_dir());
  ASSERT_EQ(lines.size(), 3U);
  EXPECT_EQ(lines[1]["event"], "audit.dropped");
  EXPECT_EQ(lines[1]["dropped"], 11);
  EXPECT_EQ(lines[1]["reason"], "queue_full");
  EXPECT_EQ(lines[2]["run_id"], "run_small");
  auto report = verify_audit_log(audit_dir(), "");
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->intact());
  EXPECT_EQ(report->events_dropped, 11);
}

TEST_F(audit_log, one_writer_per_directory) {
  auto first = start(options());
  ASSERT_TRUE(first);
  auto second = audit_writer::start(options());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, errc::busy);
  first.reset();
  EXPECT_TRUE(audit_writer::start(options()));
}

TEST_F(audit_log, an_edited_last_line_stops_the_writer_from_starting) {
  write_all(options(), secret_run("run_1"));
  const auto files = files_in(audit_dir());
  auto lines = split_lines(read_file(files[0].path));
  lines.back() = "{\"edited\": true}";
  write_file(files[0].path, join_lines(lines));
  auto w = audit_writer::start(options());
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, errc::corrupt);
  EXPECT_NE(w.error().message.find("grok audit verify"), std::string::npos);
}

TEST_F(audit_log, written_lines_are_counted_in_the_metrics) {
  write_all(options(), {});  // registers the metric
  auto& lines_total = metrics().counter("grok_audit_lines_total", "");
  const auto before = lines_total.value();
  write_all(options(), secret_run("run_1"));
  EXPECT_EQ(lines_total.value() - before, 12);
}

}  // namespace
}  // namespace grok::obs
