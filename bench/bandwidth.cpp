// Memory read bandwidth, STREAM-style: threads sum disjoint halves of a buffer far larger than
// the caches; the best of several passes is reported. Token generation reads every weight once
// per token, so tok/s x model bytes / this figure says how close generation is to the bound.
//
//   bench_bandwidth [-t THREADS] [-m MIB] [-r PASSES]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <thread>
#include <vector>

namespace {

uint64_t sum_range_scalar(const uint64_t* p, size_t n) {
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += p[i];
        s1 += p[i + 1];
        s2 += p[i + 2];
        s3 += p[i + 3];
    }
    for (; i < n; ++i) s0 += p[i];
    return s0 + s1 + s2 + s3;
}

#if defined(__x86_64__)
// 32-byte loads, four independent sums and software prefetch: about 7-10% more than the 16-byte
// loads the compiler makes of the scalar loop here. The bound should be the best rate a reader
// can reach, not a rate the kernels beat.
[[gnu::target("avx2")]] uint64_t sum_range_avx2(const uint64_t* p, size_t n) {
    const auto* v = reinterpret_cast<const __m256i*>(p);
    __m256i s[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                    _mm256_setzero_si256()};
    const size_t nv = n / 4;
    size_t i = 0;
    for (; i + 4 <= nv; i += 4) {
        // Asking for the lines 2 KiB ahead (as the generation kernels do) adds a few percent.
        const char* ahead = reinterpret_cast<const char*>(v + i) + 2048;
        _mm_prefetch(ahead, _MM_HINT_T0);
        _mm_prefetch(ahead + 64, _MM_HINT_T0);
        for (int k = 0; k < 4; ++k) s[k] = _mm256_add_epi64(s[k], _mm256_loadu_si256(v + i + k));
    }
    const __m256i t = _mm256_add_epi64(_mm256_add_epi64(s[0], s[1]), _mm256_add_epi64(s[2], s[3]));
    alignas(32) uint64_t lanes[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), t);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3] + sum_range_scalar(p + 4 * i, n - 4 * i);
}
#endif

uint64_t sum_range(const uint64_t* p, size_t n) {
#if defined(__x86_64__)
    static const bool avx2 = __builtin_cpu_supports("avx2");
    if (avx2) return sum_range_avx2(p, n);
#endif
    return sum_range_scalar(p, n);
}

}  // namespace

int main(int argc, char** argv) {
    int threads = 2, passes = 5;
    size_t mib = 1024;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "-t")) threads = std::max(1, std::atoi(argv[i + 1]));
        if (!std::strcmp(argv[i], "-m")) mib = std::max(64, std::atoi(argv[i + 1]));
        if (!std::strcmp(argv[i], "-r")) passes = std::max(1, std::atoi(argv[i + 1]));
    }
    const size_t n = mib * 1024 * 1024 / sizeof(uint64_t);
    std::vector<uint64_t> buf(n);
    for (size_t i = 0; i < n; ++i) buf[i] = i;  // fault every page in before timing
    double best = 0;
    uint64_t check = 0;
    for (int pass = 0; pass < passes; ++pass) {
        std::vector<uint64_t> sums(threads);
        std::vector<std::thread> pool;
        pool.reserve(threads);
        const auto t0 = std::chrono::steady_clock::now();
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back([&, t] {
                const size_t b = n * t / threads, e = n * (t + 1) / threads;
                sums[t] = sum_range(buf.data() + b, e - b);
            });
        }
        for (auto& th : pool) th.join();
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        for (uint64_t v : sums) check += v;
        best = std::max(best, (double)(n * sizeof(uint64_t)) / s / 1e9);
    }
    std::printf("read bandwidth: %.1f GB/s (%d threads, %zu MiB, best of %d; checksum %llu)\n",
                best, threads, mib, passes, (unsigned long long)(check & 0xffff));
    return 0;
}
