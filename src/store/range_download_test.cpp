#include "store/range_download.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "base/error.h"

namespace lokal::store {
namespace {

// An in-memory server: answers ranges with 206 (or the whole body with 200), in 1000-byte
// chunks; the first `drops` requests are cut after half their bytes.
struct FakeServer {
    std::string data;
    bool ranges = true;
    std::atomic<int> drops{0};
    std::atomic<int> requests{0};

    RangeGet get() {
        return [this](HttpRange r, const BodySink& sink) {
            ++requests;
            HttpResult h;
            uint64_t from = ranges ? r.from : 0;
            uint64_t to = ranges && r.to >= 0 ? static_cast<uint64_t>(r.to) + 1 : data.size();
            h.status = ranges ? 206 : 200;
            h.has_content_range = ranges;
            h.range_start = from;
            h.range_end = static_cast<int64_t>(to) - 1;
            h.range_total = static_cast<int64_t>(data.size());
            h.content_length = static_cast<int64_t>(to - from);
            bool drop = drops.fetch_sub(1) > 0;
            uint64_t stop = drop ? from + (to - from) / 2 : to;
            for (uint64_t pos = from; pos < stop;) {
                size_t n = static_cast<size_t>(std::min<uint64_t>(1000, stop - pos));
                if (!sink(h, data.data() + pos, n)) {
                    h.aborted = true;
                    return h;
                }
                pos += n;
            }
            if (drop) {
                h.curl_code = 18;  // CURLE_PARTIAL_FILE
                h.curl_error = "connection dropped";
            }
            return h;
        };
    }
};

struct Events : PullEvents {
    std::thread::id caller = std::this_thread::get_id();
    bool off_thread = false;
    int retries = 0;
    uint64_t last_done = 0;
    void layer_progress(const std::string&, uint64_t done, uint64_t) override {
        off_thread |= std::this_thread::get_id() != caller;
        EXPECT_GE(done, last_done);
        last_done = done;
    }
    void retry(const std::string&, int, int) override {
        off_thread |= std::this_thread::get_id() != caller;
        ++retries;
    }
};

class RangeDownload : public testing::Test {
  protected:
    void SetUp() override {
        path_ = testing::TempDir() + "/range-download-test-" + std::to_string(::getpid());
        fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
        ASSERT_GE(fd_, 0);
        for (int i = 0; i < 100003; ++i) server_.data += static_cast<char>((i * 131) ^ (i >> 7));
        job_.label = "sha256:test";
        job_.where = "test";
        job_.fd = fd_;
        job_.partial = path_;
        job_.sidecar = parts_path(path_);
        job_.get = server_.get();
        job_.max_retries = 3;
        job_.backoff_ms = 1;
    }
    void TearDown() override {
        ::close(fd_);
        ::unlink(path_.c_str());
        remove_parts_file(job_.sidecar);
    }
    std::string contents() {
        std::string s(server_.data.size(), '\0');
        EXPECT_EQ(::pread(fd_, s.data(), s.size(), 0), static_cast<ssize_t>(s.size()));
        return s;
    }

    std::string path_;
    int fd_ = -1;
    FakeServer server_;
    RangeJob job_;
};

TEST_F(RangeDownload, AllPartsInParallel) {
    ASSERT_TRUE(probe_ranges(job_.get, server_.data.size()));
    EXPECT_FALSE(probe_ranges(job_.get, server_.data.size() + 1));
    PartsPlan plan = plan_parts(server_.data.size(), 4);
    Events ev;
    download_parts(job_, plan, ev);
    EXPECT_TRUE(plan.finished());
    EXPECT_EQ(contents(), server_.data);
    EXPECT_FALSE(ev.off_thread);
    EXPECT_EQ(ev.last_done, server_.data.size());
    auto saved = read_parts_file(job_.sidecar, server_.data.size());
    ASSERT_TRUE(saved);
    EXPECT_TRUE(saved->finished());
}

TEST_F(RangeDownload, DropsAreRetriedFromWherePartsStopped) {
    server_.drops = 3;
    PartsPlan plan = plan_parts(server_.data.size(), 4);
    Events ev;
    download_parts(job_, plan, ev);
    EXPECT_EQ(contents(), server_.data);
    EXPECT_EQ(ev.retries, 3);
    EXPECT_FALSE(ev.off_thread);
    EXPECT_EQ(server_.requests, 7);
}

TEST_F(RangeDownload, ResumesOnlyUnfinishedParts) {
    PartsPlan plan = plan_parts(server_.data.size(), 4);
    // Parts 0 and 2 are done, part 3 half done: write those bytes as a previous run would have.
    for (int i : {0, 2}) plan.parts[i].done = plan.parts[i].length();
    plan.parts[3].done = plan.parts[3].length() / 2;
    for (const Part& p : plan.parts) {
        ASSERT_EQ(::pwrite(fd_, server_.data.data() + p.start, p.done, p.start),
                  static_cast<ssize_t>(p.done));
    }
    Events ev;
    download_parts(job_, plan, ev);
    EXPECT_EQ(contents(), server_.data);
    EXPECT_EQ(server_.requests, 2);
}

TEST_F(RangeDownload, GivesUpAfterRetriesAndKeepsProgress) {
    server_.drops = 1000;
    job_.max_retries = 2;
    PartsPlan plan = plan_parts(server_.data.size(), 2);
    Events ev;
    EXPECT_THROW(download_parts(job_, plan, ev), Error);
    auto saved = read_parts_file(job_.sidecar, server_.data.size());
    ASSERT_TRUE(saved);
    EXPECT_GT(saved->done_bytes(), 0u);  // halves of halves were kept for a resume
    EXPECT_FALSE(saved->finished());
}

TEST_F(RangeDownload, ServerWithoutRanges) {
    server_.ranges = false;
    EXPECT_FALSE(probe_ranges(job_.get, server_.data.size()));
    PartsPlan plan = plan_parts(server_.data.size(), 4);
    Events ev;
    EXPECT_THROW(download_parts(job_, plan, ev), RangesUnsupported);
}

}  // namespace
}  // namespace lokal::store
