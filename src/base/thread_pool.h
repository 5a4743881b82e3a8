// A persistent pool of worker threads for data-parallel loops. The caller's thread takes part,
// so a pool of N threads has N-1 workers. Dispatch uses atomics only (no locks, no allocation):
// workers spin briefly and then sleep on an atomic wait between jobs.
#pragma once

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

    // Runs fn(begin, end) over [0, n) cut into chunks of at least `grain` items, balanced
    // across threads.
    template <typename Fn>
    void parallel_for(int64_t n, int64_t grain, Fn&& fn) {
        if (n <= 0) return;
        if (n_threads_ == 1 || n <= grain) {
            fn(int64_t(0), n);
            return;
        }
        run([&](int ith, int nth) {
            auto [b, e] = split_range(n, ith, nth);
            if (b < e) fn(b, e);
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
