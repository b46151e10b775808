// Tools and queue routes (SPEC §3): GET /v1/tools (any key); GET /v1/queue, GET
// /v1/queue/dead and POST /v1/queue/dead/{id}/retry (admin keys; the pipeline checked).
#include <limits>

#include "api/problem.h"
#include "api/run_json.h"
#include "api/service_impl.h"

namespace grok::api {

using json = nlohmann::json;

namespace {

constexpr int k_default_page = 50;
constexpr int k_max_page = 200;

}  // namespace

http_response service::impl::list_tools(request_context& ctx) {
  json data = json::array();
  for (const auto* t : deps.engine.tools().list()) data.push_back(tool_json(*t));
  return json_response(200, {{"data", std::move(data)}}, ctx.request_id);
}

http_response service::impl::queue_stats(request_context& ctx) {
  auto stats = deps.store.get_queue_stats();
  if (!stats) return error_response(stats.error(), ctx.request_id);
  return json_response(200, queue_stats_json(*stats), ctx.request_id);
}

http_response service::impl::queue_dead(request_context& ctx) {
  const auto& rid = ctx.request_id;
  store::job_page_request req;
  req.state = store::job_state::dead;
  int limit = k_default_page;
  if (auto v = query_value(ctx.query, "limit")) {
    auto n = parse_bounded_int(*v, 1, k_max_page);
    if (!n) return bad_parameter("limit", "must be an integer from 1 to 200", rid);
    limit = static_cast<int>(*n);
  }
  if (auto v = query_value(ctx.query, "cursor")) {
    // The cursor is the id of the last job of the previous page (oldest first).
    auto n = parse_bounded_int(*v, 1, std::numeric_limits<std::int64_t>::max());
    if (!n) return bad_parameter("cursor", "is not a cursor this server returned", rid);
    req.after = *n;
  }
  req.limit = limit + 1;  // one more tells whether there is a next page
  auto jobs = deps.store.list_jobs(req);
  if (!jobs) return error_response(jobs.error(), rid);
  json next_cursor = nullptr;
  if (jobs->size() > static_cast<std::size_t>(limit)) {
    jobs->resize(static_cast<std::size_t>(limit));
    next_cursor = std::to_string(jobs->back().id);
  }
  json data = json::array();
  for (const auto& j : *jobs) data.push_back(job_json(j));
  return json_response(200, {{"data", std::move(data)}, {"next_cursor", std::move(next_cursor)}},
                       rid);
}

http_response service::impl::retry_dead(request_context& ctx) {
  const auto id = parse_bounded_int(ctx.param, 1, std::numeric_limits<std::int64_t>::max());
  if (!id)
    return problem_response(404, "no job " + ctx.param, ctx.request_id);  // the router checked
  if (auto r = deps.store.requeue_dead(*id); !r) {
    if (r.error().code == errc::not_found) {
      return problem_response(404, "no job " + ctx.param, ctx.request_id);
    }
    if (r.error().code == errc::conflict) {
      return problem_response(409, "job " + ctx.param + " is not dead", ctx.request_id);
    }
    return error_response(r.error(), ctx.request_id);
  }
  return json_response(200, {{"id", *id}, {"state", "ready"}}, ctx.request_id);
}

}  // namespace grok::api
