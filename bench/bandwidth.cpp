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
#include <thread>
#include <vector>

namespace {

uint64_t sum_range(const uint64_t* p, size_t n) {
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
