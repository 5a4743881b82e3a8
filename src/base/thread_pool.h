// A persistent pool of worker threads for data-parallel loops. The caller's thread takes part,
// so a pool of N threads has N-1 workers. Dispatch uses atomics only (no locks, no allocation):
// workers spin briefly and then sleep on an atomic wait between jobs.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace lokal {

class ThreadPool {
  public:
    explicit ThreadPool(int n_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return n_threads_; }

    // Runs fn(thread_index, n_threads) once on every thread (the caller is index 0) and returns
    // when all are done. The function splits the work itself (see split_range).
    void run(const std::function<void(int, int)>& fn);

    // Runs fn(begin, end) over [0, n) cut into chunks of at least `grain` items. Threads take
    // chunks from a shared counter, so a thread that is slowed (another process, a busy core)
    // does less of the work instead of holding the others back at the end.
    template <typename Fn>
    void parallel_for(int64_t n, int64_t grain, Fn&& fn) {
        if (n <= 0) return;
        if (n_threads_ == 1 || n <= grain) {
            fn(int64_t(0), n);
            return;
        }
        constexpr int64_t kChunksPerThread = 4;
        const int64_t by_grain = (n + grain - 1) / std::max<int64_t>(grain, 1);
        const int64_t n_chunks = std::min<int64_t>(by_grain, n_threads_ * kChunksPerThread);
        const int64_t chunk = (n + n_chunks - 1) / n_chunks;
        std::atomic<int64_t> next{0};
        run([&](int, int) {
            for (;;) {
                const int64_t b = next.fetch_add(chunk, std::memory_order_relaxed);
                if (b >= n) break;
                fn(b, std::min(n, b + chunk));
            }
        });
    }

    static std::pair<int64_t, int64_t> split_range(int64_t n, int ith, int nth) {
        const int64_t per = n / nth, extra = n % nth;
        const int64_t b = ith * per + (ith < extra ? ith : extra);
        return {b, b + per + (ith < extra ? 1 : 0)};
    }

    // Number of physical cores (falls back to logical CPUs); the default thread count.
    static int default_threads();

  private:
    void worker(int index);

    int n_threads_;
    std::vector<std::thread> workers_;
    const std::function<void(int, int)>* job_ = nullptr;
    std::atomic<uint64_t> generation_{0};
    std::atomic<int> pending_{0};
    std::atomic<bool> stop_{false};
};

}  // namespace lokal
