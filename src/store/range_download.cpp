#include "store/range_download.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/error.h"

namespace lokal::store {

namespace {

constexpr auto kPersistEvery = std::chrono::milliseconds(100);

struct RetryNote {
    std::string what;
    int attempt;
    int delay_ms;
};

// State shared by the part threads and the pulling thread.
struct Shared {
    explicit Shared(size_t n) : done(new std::atomic<uint64_t>[n]) {}

    std::unique_ptr<std::atomic<uint64_t>[]> done;  // per part, only grows
    std::atomic<bool> stop{false};
    std::mutex mu;  // guards the fields below
    std::condition_variable cv;
    int running = 0;
    std::exception_ptr error;
    bool disk_full = false;
    std::vector<RetryNote> retries;

    void fail(std::exception_ptr e, bool full = false) {
        std::lock_guard lock(mu);
        if (!error) {
            error = std::move(e);
            disk_full = full;
        }
        stop = true;
        cv.notify_all();
    }
};

bool write_all(int fd, const char* data, size_t n, uint64_t off, int& err) {
    size_t done = 0;
    while (done < n) {
        ssize_t w = ::pwrite(fd, data + done, n - done, static_cast<off_t>(off + done));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            err = errno;
            return false;
        }
        done += static_cast<size_t>(w);
    }
    return true;
}

void run_part(const RangeJob& job, const Part part, size_t index, Shared& sh) {
    std::atomic<uint64_t>& done = sh.done[index];
    int attempt = 0;
    while (!sh.stop) {
        const uint64_t have = done.load();
        if (have == part.length()) return;
        const uint64_t from = part.start + have;
        bool first = true, whole_body = false, bad_range = false;
        int write_errno = 0;
        uint64_t got = 0;
        auto sink = [&](const HttpResult& head, const char* data, size_t n) {
            if (sh.stop) return false;
            if (first) {
                first = false;
                if (head.status != 206) {
                    whole_body = true;
                    return false;
                }
                if (!head.has_content_range || head.range_start != from) {
                    bad_range = true;
                    return false;
                }
            }
            const uint64_t pos = from + got;
            // A server may send past the end we asked for: keep only our part.
            size_t take = static_cast<size_t>(std::min<uint64_t>(n, part.end - pos));
            if (!write_all(job.fd, data, take, pos, write_errno)) return false;
            got += take;
            done.fetch_add(take);  // recorded only once written
            return take == n;
        };
        HttpResult r = job.get(HttpRange{from, static_cast<int64_t>(part.end - 1)}, sink);
        if (write_errno) {
            if (write_errno == ENOSPC || write_errno == EDQUOT) {
                sh.fail(std::make_exception_ptr(
                            Error("disk full while downloading " + job.label +
                                  "; the partial download was removed and the store is unchanged")),
                        true);
                return;
            }
            throw Error(
                "cannot write '" + job.partial.string() + "': " + std::strerror(write_errno),
                ErrorKind::Io);
        }
        if (done.load() == part.length()) return;
        if (sh.stop) return;
        if (whole_body) throw RangesUnsupported("the server ignored a Range request");
        std::string problem;
        if (bad_range) {
            problem = "server answered with the wrong range";
        } else if (r.ok()) {
            problem = "connection closed early";
        } else if (!r.transient()) {
            if (r.no_network()) {
                throw Error("cannot reach " + job.where + " (" + r.describe() +
                                "): no network? Models already in the store still work offline",
                            ErrorKind::Io);
            }
            if (r.status == 404)
                throw Error(job.label + " not found at " + r.url + " (HTTP 404)",
                            ErrorKind::NotFound);
            throw Error("download of " + job.label + " failed: " + r.describe(), ErrorKind::Io);
        } else {
            problem = r.describe();
        }
        if (got > 0) attempt = 0;  // progress was made: a fresh set of retries
        if (++attempt > job.max_retries) {
            throw Error("download of " + job.label + " failed after " +
                            std::to_string(job.max_retries + 1) + " attempts: " + problem +
                            "; run the same pull again to resume",
                        ErrorKind::Io);
        }
        int delay = job.backoff_ms << std::min(attempt - 1, 4);
        {
            std::lock_guard lock(sh.mu);
            sh.retries.push_back(
                {job.label + " (part " + std::to_string(index + 1) + "): " + problem, attempt,
                 delay});
            sh.cv.notify_all();
        }
        auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay);
        while (!sh.stop && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(std::min(delay, 20)));
        }
    }
}

// Joins the part threads on every way out, asking them to stop first when unwinding.
struct Joiner {
    Shared& sh;
    std::vector<std::thread> threads;
    ~Joiner() {
        if (std::uncaught_exceptions() > 0) sh.stop = true;
        for (std::thread& t : threads) {
            if (t.joinable()) t.join();
        }
    }
};

}  // namespace

bool probe_ranges(const RangeGet& get, uint64_t size) {
    bool ranged = false;
    get(HttpRange{0, 0}, [&](const HttpResult& head, const char*, size_t) {
        ranged = head.status == 206 && head.has_content_range && head.range_start == 0 &&
                 head.range_total >= 0 && static_cast<uint64_t>(head.range_total) == size;
        return ranged;  // a 200 would send the whole blob: stop it
    });
    return ranged;
}

void download_parts(const RangeJob& job, PartsPlan& plan, PullEvents& ev) {
    const size_t n = plan.parts.size();
    Shared sh(n);
    for (size_t i = 0; i < n; ++i) sh.done[i] = plan.parts[i].done;
    uint64_t reported = plan.done_bytes();
    auto sync = [&] {
        for (size_t i = 0; i < n; ++i) plan.parts[i].done = sh.done[i].load();
    };
    {
        Joiner joiner{sh, {}};
        for (size_t i = 0; i < n; ++i) {
            if (plan.parts[i].finished()) continue;
            {
                std::lock_guard lock(sh.mu);
                ++sh.running;
            }
            joiner.threads.emplace_back([&job, &sh, part = plan.parts[i], i] {
                try {
                    run_part(job, part, i, sh);
                } catch (...) {
                    sh.fail(std::current_exception());
                }
                std::lock_guard lock(sh.mu);
                --sh.running;
                sh.cv.notify_all();
            });
        }
        for (;;) {
            std::vector<RetryNote> retries;
            bool all_done;
            {
                std::unique_lock lock(sh.mu);
                sh.cv.wait_for(lock, kPersistEvery,
                               [&] { return sh.running == 0 || !sh.retries.empty(); });
                retries.swap(sh.retries);
                all_done = sh.running == 0;
            }
            for (const RetryNote& r : retries) ev.retry(r.what, r.attempt, r.delay_ms);
            sync();
            uint64_t now = plan.done_bytes();
            if (now != reported) {
                reported = now;
                ev.layer_progress(job.label, now, plan.size);
                if (!sh.disk_full) {
                    try {
                        write_parts_file(job.sidecar, plan);
                    } catch (...) {
                        sh.fail(std::current_exception());
                    }
                }
            }
            if (all_done) break;
        }
    }  // all part threads joined
    sync();
    if (sh.disk_full) {
        (void)::ftruncate(job.fd, 0);
        ::unlink(job.partial.c_str());
        remove_parts_file(job.sidecar);
    } else {
        write_parts_file(job.sidecar, plan);
    }
    if (sh.error) std::rethrow_exception(sh.error);
}

}  // namespace lokal::store
