#include "obs/audit_verify.h"

#include <gtest/gtest.h>

#include "obs/audit_log.h"
#include "tests_support/temp_dir.h"
#include "unit/obs/audit_test_support.h"

namespace grok::obs {
namespace {

using namespace grok::obs::testing;
using grok::testing::temp_dir;

// An intact log of several files, built once per test; each test damages a copy.
class audit_verify : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    audit_options o;
    o.dir = dir_.file("audit");
    o.max_file_bytes = 4096;
    o.secret = secret();
    manual_clock clock(from_unix_ms(1'790'000'000'000));
    o.file_clock = &clock;
    auto w = audit_writer::start(o);
    ASSERT_TRUE(w) << describe(w.error());
    for (int run = 0; run < 8; ++run) (*w)->submit(secret_run("run_" + std::to_string(run)));
    ASSERT_TRUE((*w)->flush());
    w->reset();
    ASSERT_GE(files_in(o.dir).size(), 4U);
  }
  [[nodiscard]] std::string secret() const { return GetParam(); }
  // A fresh copy of the intact log.
  std::string copy() {
    const auto to = dir_.file("copy" + std::to_string(++copies_));
    copy_dir(dir_.file("audit"), to);
    return to;
  }
  std::vector<std::string> lines_of(const audit_file& f) { return split_lines(read_file(f.path)); }
  // Verifies `dir` and expects the first bad line at file `file_index`, `line`, with a
  // reason that starts with `reason`.
  void expect_bad(const std::string& dir, std::size_t file_index, std::int64_t line,
                  const std::string& reason, std::string_view with_secret) {
    const auto files = files_in(dir);
    auto report = verify_audit_log(dir, with_secret);
    ASSERT_TRUE(report) << describe(report.error());
    ASSERT_FALSE(report->intact()) << "damage not found";
    EXPECT_EQ(report->problem->file, files.at(file_index).name);
    EXPECT_EQ(report->problem->line, line);
    EXPECT_EQ(report->problem->reason.rfind(reason, 0), 0U) << report->problem->reason;
  }
  void expect_bad(const std::string& dir, std::size_t file_index, std::int64_t line,
                  const std::string& reason) {
    expect_bad(dir, file_index, line, reason, secret());
  }

  temp_dir dir_;
  int copies_ = 0;
};

TEST_P(audit_verify, an_intact_log_passes) {
  auto report = verify_audit_log(dir_.file("audit"), secret());
  ASSERT_TRUE(report) << describe(report.error());
  EXPECT_TRUE(report->intact()) << report->problem->reason;
  EXPECT_EQ(report->events, 88);
  EXPECT_EQ(report->first_audit_seq, 1);
  EXPECT_EQ(report->last_audit_seq, report->lines);
  EXPECT_EQ(report->lines, 88 + static_cast<std::int64_t>(report->files.size()));
  EXPECT_EQ(report->keyed_lines, secret().empty() ? 0 : report->lines);
  EXPECT_FALSE(report->first_ts.empty());
  EXPECT_FALSE(report->starts_after_rotation);
}

TEST_P(audit_verify, an_edited_line_is_found) {
  const auto dir = copy();
  const auto f = files_in(dir)[1];
  auto lines = lines_of(f);
  const auto at = lines[3].find("run_");
  ASSERT_NE(at, std::string::npos);
  lines[3][at + 2] = 'x';
  write_file(f.path, join_lines(lines));
  expect_bad(dir, 1, 4, "edited");
}

TEST_P(audit_verify, a_deleted_line_is_found) {
  const auto dir = copy();
  const auto f = files_in(dir)[1];
  auto lines = lines_of(f);
  lines.erase(lines.begin() + 3);
  write_file(f.path, join_lines(lines));
  expect_bad(dir, 1, 4, "removed: audit_seq jumps");
}

TEST_P(audit_verify, swapped_lines_are_found) {
  const auto dir = copy();
  const auto f = files_in(dir)[2];
  auto lines = lines_of(f);
  std::swap(lines[2], lines[3]);
  write_file(f.path, join_lines(lines));
  expect_bad(dir, 2, 3, "reordered");
}

TEST_P(audit_verify, a_truncated_last_line_is_found) {
  const auto dir = copy();
  const auto files = files_in(dir);
  const auto& last = files.back();
  auto text = read_file(last.path);
  const auto count = static_cast<std::int64_t>(split_lines(text).size());
  text.resize(text.size() - 30);
  write_file(last.path, text);
  expect_bad(dir, files.size() - 1, count, "truncated");
}

TEST_P(audit_verify, a_deleted_middle_file_is_found) {
  const auto dir = copy();
  const auto files = files_in(dir);
  std::filesystem::remove(files[1].path);
  auto report = verify_audit_log(dir, secret());
  ASSERT_TRUE(report);
  ASSERT_FALSE(report->intact());
  EXPECT_EQ(report->problem->file, files[2].name);
  EXPECT_EQ(report->problem->line, 1);
  EXPECT_EQ(report->problem->reason.rfind("removed", 0), 0U);
  EXPECT_NE(report->problem->reason.find("a file was deleted"), std::string::npos)
      << report->problem->reason;
}

TEST_P(audit_verify, the_oldest_files_deleted_is_rotation_not_damage) {
  const auto dir = copy();
  const auto files = files_in(dir);
  std::filesystem::remove(files[0].path);
  std::filesystem::remove(files[1].path);
  auto report = verify_audit_log(dir, secret());
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->intact()) << report->problem->reason;
  EXPECT_TRUE(report->starts_after_rotation);
  ASSERT_FALSE(report->notes.empty());
  EXPECT_NE(report->notes[0].find("deleted by rotation"), std::string::npos);
}

TEST_P(audit_verify, lines_cut_from_the_start_of_the_oldest_file_are_found) {
  const auto dir = copy();
  const auto files = files_in(dir);
  std::filesystem::remove(files[0].path);
  auto lines = lines_of(files[1]);
  lines.erase(lines.begin(), lines.begin() + 2);
  write_file(files[1].path, join_lines(lines));
  expect_bad(dir, 0, 1, "removed: " + files[1].name + " does not begin with its own header");
}

TEST_P(audit_verify, a_line_that_is_not_json_is_found) {
  const auto dir = copy();
  const auto f = files_in(dir)[1];
  auto lines = lines_of(f);
  lines[5] = "{\"event\": \"run.created\", oops";
  write_file(f.path, join_lines(lines));
  expect_bad(dir, 1, 6, "bad JSON");
}

TEST_P(audit_verify, an_edit_with_a_recomputed_hash_breaks_the_chain_or_needs_the_key) {
  const auto dir = copy();
  const auto f = files_in(dir)[1];
  auto lines = lines_of(f);
  // Re-seal line 4 with edited content, as someone who knows the format (not the key) would.
  auto doc = json::parse(lines[3]);
  doc["run_id"] = "run_forged";
  chain_state state{doc["prev"].get<std::string>(), doc["audit_seq"].get<std::int64_t>() - 1};
  doc.erase("hash");
  doc.erase("audit_seq");
  doc.erase("prev");
  doc.erase("alg");
  lines[3] = seal_line(doc, state, "");
  write_file(f.path, join_lines(lines));
  if (secret().empty()) {
    expect_bad(dir, 1, 5, "chain broken");
  } else {
    expect_bad(dir, 1, 4, "downgraded");
  }
}

TEST_P(audit_verify, the_wrong_secret_is_found_at_the_first_line) {
  if (secret().empty()) {
    // An unkeyed log verifies with or without a secret: nothing was keyed.
    auto report = verify_audit_log(dir_.file("audit"), "any");
    ASSERT_TRUE(report);
    EXPECT_TRUE(report->intact());
    return;
  }
  expect_bad(dir_.file("audit"), 0, 1, "hash does not match: the secret is wrong", "wrong");
  auto without = verify_audit_log(dir_.file("audit"), "");
  ASSERT_FALSE(without);
  EXPECT_EQ(without.error().code, errc::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(keyed_and_unkeyed, audit_verify, ::testing::Values("", "s3cret"),
                         [](const auto& p) { return p.param.empty() ? "unkeyed" : "keyed"; });

TEST(audit_verify_dir, a_directory_without_audit_files_is_a_clear_error) {
  temp_dir dir;
  auto none = verify_audit_log(dir.file("missing"), "");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, errc::not_found);
  write_file(dir.file("notes.txt"), "hello\n");
  auto empty = verify_audit_log(dir.path().string(), "");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, errc::not_found);
  EXPECT_NE(empty.error().message.find("no audit files"), std::string::npos);
}

}  // namespace
}  // namespace grok::obs
