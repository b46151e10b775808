// Sortable, prefixed identifiers ("run_01JD…", "step_01JD…").
//
// The part after the prefix is a ULID: 48 bits of Unix milliseconds then 80 random bits,
// in Crockford base32 (26 characters). Within one process, ids made in the same
// millisecond are strictly increasing (the random part is incremented), so ids sort by
// creation order. Thread-safety: new_id may be called from any thread.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"

namespace grok {

// Returns prefix + "_" + a fresh ULID for time `now`.
std::string new_id(std::string_view prefix, time_point now);

// True if `id` is prefix + "_" + 26 Crockford base32 characters.
bool is_valid_id(std::string_view id, std::string_view prefix) noexcept;

}  // namespace grok
