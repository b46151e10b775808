#include "api/stream_sessions.h"

#include <cstdint>
#include <limits>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "api/problem.h"
#include "api/stream_format.h"

namespace grok::api::detail {
namespace {

using json = nlohmann::json;

// How much of a client-supplied run id an error message repeats.
constexpr std::size_t k_max_echoed_id = 100;

message_ptr to_message(const json& j) {
  return std::make_shared<const std::string>(
      j.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string echo(const std::string& id) {
  if (id.size() <= k_max_echoed_id) return id;
  return id.substr(0, k_max_echoed_id) + "...";
}

}  // namespace

std::string sse_session::heartbeat() const { return std::string(k_sse_heartbeat); }

void ws_session::on_message(std::string_view text) {
  const json msg = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (msg.is_discarded()) return reply_error(400, "the message is not valid JSON");
  if (!msg.is_object()) return reply_error(400, "a message must be a JSON object");

  if (auto target = msg.find("subscribe"); target != msg.end()) {
    if (!target->is_string() || target->get_ref<const std::string&>().empty()) {
      return reply_error(400, R"("subscribe" must be a run id or "*")");
    }
    const auto& id = target->get_ref<const std::string&>();
    std::int64_t after = 0;
    if (auto a = msg.find("after"); a != msg.end()) {
      if (id == "*") return reply_error(400, R"("after" applies to one run, not to "*")");
      // nlohmann keeps non-negative integers as unsigned; negatives and floats are not.
      if (!a->is_number_unsigned() ||
          a->get<std::uint64_t>() >
              static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return reply_error(400, R"("after" must be a non-negative integer)");
      }
      after = static_cast<std::int64_t>(a->get<std::uint64_t>());
    }
    return subscribe(id, after);
  }
  if (auto target = msg.find("unsubscribe"); target != msg.end()) {
    if (!target->is_string()) {
      return reply_error(400, R"("unsubscribe" must be a run id or "*")");
    }
    const auto& id = target->get_ref<const std::string&>();
    if (id == "*") {
      (void)channel_->unfollow_all();
    } else {
      (void)channel_->unfollow_run(id);
    }
    return;
  }
  if (auto payload = msg.find("ping"); payload != msg.end()) {
    channel_->push_reply(to_message(json{{"pong", *payload}}));
    return;
  }
  reply_error(400, R"(unknown message: expected "subscribe", "unsubscribe" or "ping")");
}

void ws_session::subscribe(const std::string& target, std::int64_t after) {
  const auto max = channel_->router()->limits().max_ws_subscriptions;
  const bool all = target == "*";
  if (all ? channel_->follows_all() : channel_->follows_run(target)) {
    return reply_error(409, "already subscribed to " + echo(target));
  }
  if (channel_->subscription_count() >= max) {
    return reply_error(
        400, "too many subscriptions (at most " + std::to_string(max) + " per connection)");
  }
  if (all) return channel_->follow_all();

  auto run = channel_->router()->read_run(target);
  if (!run) {
    if (run.error().code == errc::cancelled) return;  // shutting down: the close follows
    spdlog::warn("stream: reading run {} failed: {}", echo(target), describe(run.error()));
    return reply_error(http_status_for(run.error().code), "could not read run " + echo(target));
  }
  const auto& who = channel_->who();
  // Someone else's run looks exactly like a missing one.
  if (!*run || (!who.admin && (who.key_id.empty() || (*run)->owner_key_id != who.key_id))) {
    return reply_error(404, "run " + echo(target) + " not found");
  }
  channel_->follow_run(target, after, store::is_terminal((*run)->status));
}

void ws_session::reply_error(int status, std::string_view detail) {
  channel_->push_reply(to_message(json{{"error", problem_json(status, detail, new_request_id())}}));
}

}  // namespace grok::api::detail
