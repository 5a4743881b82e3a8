// Timing for the calibrations: the best of several runs of a kernel, after a warm-up run.
#pragma once

#include <algorithm>
#include <chrono>

namespace lokal::fit {

// The best of `reps` timings of f, in seconds, after one warm-up.
template <typename F>
double best_seconds(int reps, F&& f) {
    using Clock = std::chrono::steady_clock;
    f();
    double best = 1e30;
    for (int i = 0; i < reps; ++i) {
        const auto t0 = Clock::now();
        f();
        best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
    }
    return best;
}

}  // namespace lokal::fit
