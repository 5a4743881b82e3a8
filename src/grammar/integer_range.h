// Decimal integers within bounds as grammar alternatives (JSON Schema minimum/maximum on
// integers): exactly the canonical spellings (no leading zeros, no "-0") of the numbers in
// [lo, hi].
#pragma once

#include <cstdint>
#include <vector>

#include "grammar/grammar.h"

namespace lokal::grammar {

// lo <= hi. Each alternative is a run of byte classes.
std::vector<Seq> integer_range_alternatives(int64_t lo, int64_t hi);

}  // namespace lokal::grammar
