// Reproducible normally distributed test and benchmark inputs.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace lokal {

inline std::vector<float> random_normal(int64_t n, uint32_t seed, float stddev) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, stddev);
    std::vector<float> x(n);
    for (float& v : x) v = dist(rng);
    return x;
}

}  // namespace lokal
