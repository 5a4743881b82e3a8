#include "server/connection_gate.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace lokal::server {

namespace {

// cpp-httplib refuses longer heads itself; past this many bytes the gate stops looking.
constexpr size_t kMaxHeadBytes = 64 * 1024;

using Clock = std::chrono::steady_clock;

}  // namespace

void refuse_and_close(int fd, int status, const char* reason) {
    std::array<char, 160> text{};
    const int n = std::snprintf(text.data(), text.size(),
                                "HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                                status, reason);
    if (n > 0) (void)send(fd, text.data(), static_cast<size_t>(n), MSG_DONTWAIT | MSG_NOSIGNAL);
    shutdown(fd, SHUT_RDWR);
    close(fd);
}

std::string peer_address(int fd) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "";
    std::array<char, INET6_ADDRSTRLEN> text{};
    const void* raw =
        addr.ss_family == AF_INET6
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&addr)->sin_addr);
    if (addr.ss_family != AF_INET && addr.ss_family != AF_INET6) return "local";
    return inet_ntop(addr.ss_family, raw, text.data(), text.size()) ? text.data() : "";
}

ConnectionGate::ConnectionGate(GateLimits limits, Ready ready)
    : limits_(limits), ready_(std::move(ready)), per_client_(limits.max_per_client) {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epoll_fd_ < 0 || wake_fd_ < 0) throw Error("cannot create the connection gate's epoll");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd_;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    thread_ = std::thread([this] { run(); });
}

ConnectionGate::~ConnectionGate() {
    stop();
    close(wake_fd_);
    close(epoll_fd_);
}

void ConnectionGate::stop() {
    if (stopping_.exchange(true)) return;
    const uint64_t one = 1;
    (void)write(wake_fd_, &one, sizeof one);
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [fd, w] : waiting_) {
        shutdown(fd, SHUT_RDWR);
        close(fd);
    }
    waiting_.clear();
}

size_t ConnectionGate::waiting() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return waiting_.size();
}

void ConnectionGate::admit_new(int fd, size_t max_requests) {
    GatedConnection c;
    c.fd = fd;
    c.client = peer_address(fd);
    c.requests_left = max_requests;
    admit(std::move(c), true);
}

void ConnectionGate::admit_again(GatedConnection c) {
    admit(std::move(c), false);
}

void ConnectionGate::admit(GatedConnection c, bool fresh) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_.load()) {
            shutdown(c.fd, SHUT_RDWR);
            close(c.fd);
            return;
        }
        if (waiting_.size() >= limits_.max_waiting || !per_client_.try_add(c.client)) {
            if (fresh) {
                refuse_and_close(c.fd, 429, "Too Many Requests");
            } else {  // between requests: a 429 would read as the answer to the next one
                shutdown(c.fd, SHUT_RDWR);
                close(c.fd);
            }
            return;
        }
        const int fd = c.fd;
        Waiting w;
        w.deadline = Clock::now() + (fresh ? limits_.head_timeout : limits_.keep_alive_timeout);
        w.between_requests = !fresh;
        w.conn = std::move(c);
        waiting_[fd] = std::move(w);
        just_admitted_.push_back(fd);
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
        ev.data.fd = fd;
        epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    }
    // Wake the gate so it looks at bytes that came before the socket was registered, and counts
    // this deadline when it sleeps.
    const uint64_t one = 1;
    (void)write(wake_fd_, &one, sizeof one);
}

GatedConnection ConnectionGate::release(std::map<int, Waiting>::iterator it) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->first, nullptr);
    GatedConnection c = std::move(it->second.conn);
    per_client_.remove(c.client);
    waiting_.erase(it);
    return c;
}

void ConnectionGate::check(int fd) {
    static thread_local std::vector<char> buffer(kMaxHeadBytes);
    GatedConnection ready;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = waiting_.find(fd);
        if (it == waiting_.end()) return;
        const ssize_t n = recv(fd, buffer.data(), buffer.size(), MSG_PEEK | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        if (n <= 0) {  // the client went away
            GatedConnection gone = release(it);
            close(gone.fd);
            return;
        }
        const std::string_view received(buffer.data(), static_cast<size_t>(n));
        if (!request_head_complete(received) && received.size() < kMaxHeadBytes) {
            if (it->second.between_requests) {
                // A keep-alive connection has begun its next request: it gets a head's time.
                it->second.between_requests = false;
                it->second.deadline = Clock::now() + limits_.head_timeout;
            }
            return;
        }
        ready = release(it);
    }
    ready_(std::move(ready));
}

void ConnectionGate::expire(Clock::time_point now) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = waiting_.begin(); it != waiting_.end();) {
        if (it->second.deadline > now) {
            ++it;
            continue;
        }
        const bool idle = it->second.between_requests;
        auto next = std::next(it);
        GatedConnection late = release(it);
        if (idle) {  // an ordinary keep-alive close
            shutdown(late.fd, SHUT_RDWR);
            close(late.fd);
        } else {
            refuse_and_close(late.fd, 408, "Request Timeout");
        }
        it = next;
    }
}

void ConnectionGate::run() {
    std::array<epoll_event, 64> events{};
    auto next_sweep = Clock::now();
    while (!stopping_.load()) {
        // Deadlines are checked a few times a second: a late close by 250 ms does not matter.
        const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 250);
        for (int i = 0; i < n; ++i) {
            const int fd = events[static_cast<size_t>(i)].data.fd;
            if (fd == wake_fd_) {
                uint64_t count = 0;
                (void)read(wake_fd_, &count, sizeof count);
                // Newly registered sockets may hold their whole head already.
                std::vector<int> fresh;
                {
                    std::lock_guard<std::mutex> lock(mutex_);
                    fresh.swap(just_admitted_);
                }
                for (int f : fresh) check(f);
                continue;
            }
            check(fd);
        }
        const auto now = Clock::now();
        if (now >= next_sweep) {
            expire(now);
            next_sweep = now + std::chrono::milliseconds(250);
        }
    }
}

}  // namespace lokal::server
