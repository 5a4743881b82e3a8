#include "base/thread_pool.h"

#include <fstream>
#include <set>
#include <string>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LOKAL_CPU_RELAX() _mm_pause()
#else
#define LOKAL_CPU_RELAX() ((void)0)
#endif

namespace lokal {

namespace {
constexpr int kSpinIterations = 20000;
}

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
    workers_.reserve(n_threads_ - 1);
    for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
    stop_.store(true, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_acq_rel);
    generation_.notify_all();
    for (auto& t : workers_) t.join();
}

void ThreadPool::run(const std::function<void(int, int)>& fn) {
    if (n_threads_ == 1) {
        fn(0, 1);
        return;
    }
    job_ = &fn;
    pending_.store(n_threads_ - 1, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_acq_rel);
    generation_.notify_all();
    fn(0, n_threads_);
    int spins = 0;
    while (pending_.load(std::memory_order_acquire) != 0) {
        if (++spins < kSpinIterations) {
            LOKAL_CPU_RELAX();
        } else {
            std::this_thread::yield();
        }
    }
    job_ = nullptr;
}

void ThreadPool::worker(int index) {
    uint64_t seen = 0;
    for (;;) {
        int spins = 0;
        uint64_t g;
        while ((g = generation_.load(std::memory_order_acquire)) == seen) {
            if (++spins < kSpinIterations) {
                LOKAL_CPU_RELAX();
            } else {
                generation_.wait(seen, std::memory_order_acquire);
            }
        }
        seen = g;
        if (stop_.load(std::memory_order_acquire)) return;
        (*job_)(index, n_threads_);
        pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
}

int ThreadPool::default_threads() {
    // Count distinct (physical id, core id) pairs: hyper-threads share a core's SIMD units, so
    // one thread per physical core is fastest for matrix work.
    std::ifstream in("/proc/cpuinfo");
    std::set<std::pair<std::string, std::string>> cores;
    std::string line, phys = "0";
    while (std::getline(in, line)) {
        auto value = [&] {
            auto p = line.find(':');
            return p == std::string::npos ? std::string() : line.substr(p + 1);
        };
        if (line.rfind("physical id", 0) == 0) phys = value();
        if (line.rfind("core id", 0) == 0) cores.emplace(phys, value());
    }
    const int logical = static_cast<int>(std::thread::hardware_concurrency());
    if (!cores.empty() && static_cast<int>(cores.size()) <= logical) {
        return static_cast<int>(cores.size());
    }
    return logical > 0 ? logical : 1;
}

}  // namespace lokal
