// The queue's size limits and argument checks, the same on every backend: a runaway caller
// gets a clear error (errc::invalid_argument) instead of a database full of one row.
#pragma once

#include <cstddef>

#include "core/result.h"
#include "store/queue_types.h"

namespace grok::store {

inline constexpr std::size_t k_max_topic_bytes = 200;
inline constexpr std::size_t k_max_payload_bytes = std::size_t{8} * 1024 * 1024;
inline constexpr std::size_t k_max_dedupe_key_bytes = 512;
inline constexpr std::size_t k_max_error_bytes = std::size_t{16} * 1024;
inline constexpr int k_max_claim_batch = 1000;
inline constexpr std::size_t k_max_claim_topics = 64;

[[nodiscard]] result<void> check_job_spec(const job_spec& spec);
[[nodiscard]] result<void> check_claim_request(const claim_request& request);
[[nodiscard]] result<void> check_lease_shape(const lease& held);

}  // namespace grok::store
