#include "server/gated_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/error.h"
#include "server/request_head.h"

namespace lokal::server {

namespace {

// The accept loop's job (hand the socket to the gate) is quick, so it runs where it is queued.
class RunAtOnce : public httplib::TaskQueue {
  public:
    void enqueue(std::function<void()> fn) override { fn(); }
    void shutdown() override {}
};

bool wait_for(int fd, short events, time_t seconds) {
    pollfd p{fd, events, 0};
    for (;;) {
        const int n = poll(&p, 1, static_cast<int>(seconds * 1000));
        if (n < 0 && errno == EINTR) continue;
        return n > 0;
    }
}

void ip_and_port(const sockaddr_storage& addr, std::string& ip, int& port) {
    std::array<char, INET6_ADDRSTRLEN> text{};
    if (addr.ss_family == AF_INET) {
        const auto& a = reinterpret_cast<const sockaddr_in&>(addr);
        ip = inet_ntop(AF_INET, &a.sin_addr, text.data(), text.size()) ? text.data() : "";
        port = ntohs(a.sin_port);
    } else if (addr.ss_family == AF_INET6) {
        const auto& a = reinterpret_cast<const sockaddr_in6&>(addr);
        ip = inet_ntop(AF_INET6, &a.sin6_addr, text.data(), text.size()) ? text.data() : "";
        port = ntohs(a.sin6_port);
    }
}

// A socket as cpp-httplib's Stream, buffered (cpp-httplib reads request heads a byte at a time).
class GatedSocketStream : public httplib::Stream {
  public:
    GatedSocketStream(int fd, time_t read_timeout, time_t write_timeout)
        : fd_(fd), read_timeout_(read_timeout), write_timeout_(write_timeout) {}

    bool is_readable() const override {
        return begin_ < end_ || wait_for(fd_, POLLIN, read_timeout_);
    }
    bool is_writable() const override {
        if (!wait_for(fd_, POLLOUT, write_timeout_)) return false;
        // A client that hung up reads as end of file: stop writing to it (cancels generation).
        char byte = 0;
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 0) <= 0) return true;
        return recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
    }
    ssize_t read(char* ptr, size_t size) override {
        if (begin_ == end_) {
            if (!is_readable()) return -1;
            ssize_t n = 0;
            do {
                n = recv(fd_, buffer_.data(), buffer_.size(), 0);
            } while (n < 0 && errno == EINTR);
            if (n <= 0) return n;
            begin_ = 0;
            end_ = static_cast<size_t>(n);
        }
        const size_t take = std::min(size, end_ - begin_);
        std::copy_n(buffer_.data() + begin_, take, ptr);
        begin_ += take;
        return static_cast<ssize_t>(take);
    }
    ssize_t write(const char* ptr, size_t size) override {
        if (!wait_for(fd_, POLLOUT, write_timeout_)) return -1;
        ssize_t n = 0;
        do {
            n = send(fd_, ptr, size, MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
        return n;
    }
    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        if (getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
            ip_and_port(addr, ip, port);
        }
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        if (getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
            ip_and_port(addr, ip, port);
        }
    }
    socket_t socket() const override { return fd_; }

    // Bytes read from the socket but not yet by cpp-httplib: a pipelined next request.
    bool has_buffered() const { return begin_ < end_; }
    bool buffered_head_complete() const {
        return request_head_complete(std::string_view(buffer_.data() + begin_, end_ - begin_));
    }

  private:
    int fd_;
    time_t read_timeout_;
    time_t write_timeout_;
    std::array<char, 16 * 1024> buffer_{};
    size_t begin_ = 0;
    size_t end_ = 0;
};

long positive_setting(const char* name, long fallback) {
    const char* text = std::getenv(name);
    if (!text || !*text) return fallback;
    char* end = nullptr;
    errno = 0;
    const long value = std::strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || value <= 0) {
        throw Error(std::string(name) + " must be a positive whole number, not '" + text + "'");
    }
    return value;
}

}  // namespace

GateLimits gate_limits_from_environment(std::chrono::seconds keep_alive_timeout) {
    GateLimits limits;
    limits.head_timeout = std::chrono::seconds(positive_setting("LOKAL_HEAD_TIMEOUT", 10));
    limits.max_per_client = static_cast<size_t>(positive_setting(
        "LOKAL_MAX_CONNECTIONS_PER_CLIENT", static_cast<long>(limits.max_per_client)));
    limits.keep_alive_timeout = keep_alive_timeout;
    return limits;
}

GatedHttpServer::GatedHttpServer(GateLimits limits, size_t workers)
    : limits_(limits), workers_(std::make_unique<httplib::ThreadPool>(workers)) {
    new_task_queue = [] { return new RunAtOnce; };
    gate_ = std::make_unique<ConnectionGate>(limits_, [this](GatedConnection c) {
        workers_->enqueue([this, c = std::move(c)]() mutable { serve(std::move(c)); });
    });
}

GatedHttpServer::~GatedHttpServer() {
    drain();
}

void GatedHttpServer::drain() {
    if (!gate_) return;
    gate_->stop();
    workers_->shutdown();
    gate_.reset();
}

bool GatedHttpServer::process_and_close_socket(socket_t sock) {
    gate_->admit_new(sock, keep_alive_max_count_);
    return true;
}

void GatedHttpServer::serve(GatedConnection c) {
    GatedSocketStream stream(c.fd, read_timeout_sec_, write_timeout_sec_);
    for (;;) {
        const bool last = c.requests_left <= 1 || !is_running();
        bool closed = false;
        const bool ok = process_request(stream, last, closed, nullptr);
        --c.requests_left;
        if (!ok || closed || last) break;
        if (stream.has_buffered()) {
            // A pipelined request, already read from the socket so the gate cannot see it: served
            // here if its head is whole, else the connection is closed (no worker waits on it).
            if (stream.buffered_head_complete()) continue;
            break;
        }
        gate_->admit_again(std::move(c));
        return;
    }
    shutdown(c.fd, SHUT_RDWR);
    close(c.fd);
}

}  // namespace lokal::server
