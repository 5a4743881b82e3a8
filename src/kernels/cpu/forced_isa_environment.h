// For test binaries that ctest repeats with LOKAL_FORCE_ISA set to each instruction set
// (CMakeLists.txt): on a CPU that lacks the forced one, the whole run is skipped and says so.
// Include it in one test file of the binary.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <optional>

#include "kernels/cpu/vec_dot.h"

namespace lokal::kernels::testing {

class ForcedIsaEnvironment : public ::testing::Environment {
  public:
    void SetUp() override {
        const char* forced = std::getenv("LOKAL_FORCE_ISA");
        if (!forced || !*forced) return;
        const std::optional<Isa> isa = isa_named(forced);
        if (isa && !isa_supported(*isa)) {
            std::printf("LOKAL_FORCE_ISA=%s: this CPU lacks these instructions; skipped\n", forced);
            GTEST_SKIP();
        }
    }
};

[[maybe_unused]] inline ::testing::Environment* const kForcedIsa =
    ::testing::AddGlobalTestEnvironment(new ForcedIsaEnvironment);

}  // namespace lokal::kernels::testing
