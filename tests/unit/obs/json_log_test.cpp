#include "obs/json_log.h"

#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>
#include <nlohmann/json.hpp>

#include "obs/log_context.h"

namespace grok::obs {
namespace {

using json = nlohmann::json;

// A logger writing JSON lines into a string stream, as init_logging() sets up stderr.
class json_log : public ::testing::Test {
 protected:
  json_log()
      : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)), logger_("grok", sink_) {
    logger_.set_formatter(std::make_unique<json_formatter>());
    logger_.set_level(spdlog::level::trace);
  }
  // Every line logged so far, parsed (strictly: a line that is not JSON fails the test).
  std::vector<json> lines() {
    std::vector<json> out;
    std::istringstream in(out_.str());
    std::string line;
    while (std::getline(in, line)) {
      auto doc = json::parse(line, nullptr, false);
      EXPECT_FALSE(doc.is_discarded()) << "not JSON: " << line;
      out.push_back(doc);
    }
    EXPECT_TRUE(out_.str().empty() || out_.str().back() == '\n');
    return out;
  }

  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  spdlog::logger logger_;
};

TEST_F(json_log, each_record_is_one_json_object_with_time_level_logger_and_message) {
  logger_.info("ready: listening on {} (port {})", "127.0.0.1:0", 4242);
  logger_.warn("careful");
  logger_.debug("details");
  auto got = lines();
  ASSERT_EQ(got.size(), 3U);
  EXPECT_EQ(got[0]["msg"], "ready: listening on 127.0.0.1:0 (port 4242)");
  EXPECT_EQ(got[0]["level"], "info");
  EXPECT_EQ(got[1]["level"], "warning");
  EXPECT_EQ(got[2]["level"], "debug");
  EXPECT_EQ(got[0]["logger"], "grok");
  const std::string ts = got[0]["ts"];
  // RFC 3339 UTC with milliseconds.
  ASSERT_EQ(ts.size(), 24U) << ts;
  EXPECT_EQ(ts[4], '-');
  EXPECT_EQ(ts[10], 'T');
  EXPECT_EQ(ts[19], '.');
  EXPECT_EQ(ts.back(), 'Z');
  EXPECT_FALSE(got[0].contains("request_id"));
  EXPECT_FALSE(got[0].contains("run_id"));
}

TEST_F(json_log, the_time_is_the_records_own_in_utc) {
  const auto t = std::chrono::sys_days(std::chrono::year(2026) / 11 / 25) + std::chrono::hours(8) +
                 std::chrono::minutes(10) + std::chrono::milliseconds(123);
  EXPECT_EQ(format_rfc3339_ms(t), "2026-11-25T08:10:00.123Z");
  spdlog::details::log_msg msg(t, spdlog::source_loc{}, "grok", spdlog::level::info, "x");
  json_formatter f;
  spdlog::memory_buf_t buf;
  f.format(msg, buf);
  f.format(msg, buf);  // the cached second is reused
  const std::string text(buf.data(), buf.size());
  EXPECT_EQ(text.find("\"ts\":\"2026-11-25T08:10:00.123Z\""), 1U) << text;
  EXPECT_EQ(text.rfind("\"ts\":\"2026-11-25T08:10:00.123Z\""), text.find('\n') + 2) << text;
}

TEST_F(json_log, lines_carry_the_request_and_run_id_of_their_scope_and_nested_scopes_restore) {
  {
    const log_scope request({.request_id = "req_1"});
    logger_.info("in the request");
    {
      const log_scope run({.run_id = "run_A"});
      logger_.info("in the run");
      {
        const log_scope other({.request_id = "req_2"});
        logger_.info("inner request");
      }
      logger_.info("back in the run");
    }
    logger_.info("back in the request");
  }
  logger_.info("outside");
  auto got = lines();
  ASSERT_EQ(got.size(), 6U);
  EXPECT_EQ(got[0]["request_id"], "req_1");
  EXPECT_FALSE(got[0].contains("run_id"));
  EXPECT_EQ(got[1]["request_id"], "req_1");
  EXPECT_EQ(got[1]["run_id"], "run_A");
  EXPECT_EQ(got[2]["request_id"], "req_2");
  EXPECT_EQ(got[2]["run_id"], "run_A");
  EXPECT_EQ(got[3]["request_id"], "req_1");
  EXPECT_EQ(got[3]["run_id"], "run_A");
  EXPECT_EQ(got[4]["request_id"], "req_1");
  EXPECT_FALSE(got[4].contains("run_id"));
  EXPECT_FALSE(got[5].contains("request_id"));
  EXPECT_FALSE(got[5].contains("run_id"));
}

TEST_F(json_log, the_context_belongs_to_its_thread) {
  const log_scope request({.request_id = "req_main"});
  std::thread other([&] { logger_.info("from another thread"); });
  other.join();
  logger_.info("from main");
  auto got = lines();
  ASSERT_EQ(got.size(), 2U);
  EXPECT_FALSE(got[0].contains("request_id"));
  EXPECT_EQ(got[1]["request_id"], "req_main");
}

TEST_F(json_log, hostile_message_bytes_still_give_one_valid_json_line) {
  const std::string hostile = std::string("quote\" back\\slash\nnew line\r\ttab \x01\x1f nul:") +
                              std::string(1, '\0') +
                              " bad:\xff\xfe overlong:\xc0\xaf cut:\xe2\x82" +
                              " ok:\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 end";
  logger_.info("{}", hostile);
  const log_scope scope({.run_id = "run_\"\n\xff"});
  logger_.error("ctx");
  // One line per record, whatever the message held.
  const auto text = out_.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  auto got = lines();
  ASSERT_EQ(got.size(), 2U);
  const std::string msg = got[0]["msg"];
  const std::string replacement = "\xef\xbf\xbd";
  const std::string expected = std::string("quote\" back\\slash\nnew line\r\ttab \x01\x1f nul:") +
                               std::string(1, '\0') + " bad:" + replacement + replacement +
                               " overlong:" + replacement + replacement + " cut:" + replacement +
                               replacement + " ok:\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 end";
  EXPECT_EQ(msg, expected);
  EXPECT_EQ(got[1]["run_id"], "run_\"\n" + replacement);
}

TEST(json_quote, escapes_like_the_formatter) {
  EXPECT_EQ(json_quote("a\"b\\c\n\x02"), "\"a\\\"b\\\\c\\n\\u0002\"");
  EXPECT_EQ(json::parse(json_quote("x\xffy")).get<std::string>(), "x\xef\xbf\xbdy");
}

}  // namespace
}  // namespace grok::obs
