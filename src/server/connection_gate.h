// The connection gate: holds accepted sockets, without a thread each, until a whole request head
// has arrived, then hands them to the workers (#21 item 19).
//
// cpp-httplib gives every connection a worker thread that blocks reading the request head, and
// its read timeout is per recv(), so a client sending one header line a second holds a worker for
// as long as it likes; a few dozen such clients starve the pool and /health stops answering. The
// gate waits for heads instead, on one thread with epoll (edge-triggered: woken once per arrival,
// it peeks at the bytes with MSG_PEEK, leaving them for cpp-httplib to read). A connection whose
// head is not complete within the head timeout is answered 408 and closed; one from an address
// that already has the per-client cap of connections waiting is answered 429 and closed.
// Keep-alive connections come back to the gate between requests, so idle ones hold no worker
// either (they wait up to the keep-alive timeout for their next request to begin).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/request_head.h"

namespace lokal::server {

struct GateLimits {
    std::chrono::milliseconds head_timeout{10000};       // LOKAL_HEAD_TIMEOUT
    std::chrono::milliseconds keep_alive_timeout{5000};  // idle time before the next request
    size_t max_per_client = 256;                         // LOKAL_MAX_CONNECTIONS_PER_CLIENT
    size_t max_waiting = 4096;                           // all clients together
};

// A connection between requests: its socket and what the workers need to know of it.
struct GatedConnection {
    int fd = -1;
    std::string client;        // the peer's address, without the port
    size_t requests_left = 0;  // keep-alive requests it may still make
};

class ConnectionGate {
  public:
    using Ready = std::function<void(GatedConnection)>;

    // `ready` runs on the gate's thread for each connection whose head has arrived; it must not
    // block (it queues the connection for a worker).
    ConnectionGate(GateLimits limits, Ready ready);
    ~ConnectionGate();
    ConnectionGate(const ConnectionGate&) = delete;
    ConnectionGate& operator=(const ConnectionGate&) = delete;

    // A newly accepted socket; closed here when its client is over the cap or the gate stopped.
    void admit_new(int fd, size_t max_requests);
    // A keep-alive connection back after a request.
    void admit_again(GatedConnection c);
    // Closes every waiting connection and stops the thread; later admits close their sockets.
    void stop();

    size_t waiting() const;

  private:
    struct Waiting {
        GatedConnection conn;
        std::chrono::steady_clock::time_point deadline;
        bool between_requests = false;  // a keep-alive connection with no new request yet
    };

    void admit(GatedConnection c, bool fresh);
    void run();
    // Peeks at what `fd` has sent: hands it over, closes it, or leaves it waiting.
    void check(int fd);
    void expire(std::chrono::steady_clock::time_point now);
    // Forgets a waiting connection (lock held); the caller closes or hands over the socket.
    GatedConnection release(std::map<int, Waiting>::iterator it);

    GateLimits limits_;
    Ready ready_;
    int epoll_fd_ = -1;
    int wake_fd_ = -1;
    std::atomic<bool> stopping_{false};
    mutable std::mutex mutex_;
    std::map<int, Waiting> waiting_;
    std::vector<int> just_admitted_;  // checked once on the gate's thread: bytes may be there
    PerClientCounter per_client_;
    std::thread thread_;
};

// Writes a short HTTP error (408, 429) without blocking and closes the socket.
void refuse_and_close(int fd, int status, const char* reason);

// The peer's address without the port ("" when unknown).
std::string peer_address(int fd);

}  // namespace lokal::server
