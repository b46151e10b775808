#include "obs/log_context.h"

#include <utility>

namespace grok::obs {
namespace {

log_context& thread_context() noexcept {
  thread_local log_context context;
  return context;
}

}  // namespace

const log_context& current_log_context() noexcept { return thread_context(); }

log_scope::log_scope(const fields& f) {
  auto& now = thread_context();
  saved_ = now;
  if (f.request_id) now.request_id.assign(f.request_id->data(), f.request_id->size());
  if (f.run_id) now.run_id.assign(f.run_id->data(), f.run_id->size());
}

log_scope::~log_scope() { thread_context() = std::move(saved_); }

}  // namespace grok::obs
