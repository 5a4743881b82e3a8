// cpp-httplib's server with the connection gate (connection_gate.h) between its accept loop and
// its workers, so slow or idle clients hold no worker (#21 item 19).
//
// cpp-httplib 0.11 has no hook for this, but two of its seams are enough: its accept loop hands
// each socket to process_and_close_socket() through the task queue, and that function is virtual;
// and process_request(), which reads one request and writes its answer, is protected. So the task
// queue runs the accept loop's job at once, the override gives the socket to the gate, and a
// worker serves it, once its head has arrived, with process_request() over a socket stream of our
// own, returning it to the gate between keep-alive requests. Plain HTTP only: with TLS the head is
// encrypted, so HTTPS keeps cpp-httplib's own thread per connection.
#pragma once

#include <httplib.h>

#include <chrono>
#include <memory>

#include "server/connection_gate.h"

namespace lokal::server {

class GatedHttpServer : public httplib::Server {
  public:
    GatedHttpServer(GateLimits limits, size_t workers);
    ~GatedHttpServer() override;
    GatedHttpServer(const GatedHttpServer&) = delete;
    GatedHttpServer& operator=(const GatedHttpServer&) = delete;

    // After listen_after_bind() returns: closes waiting connections and lets the workers finish.
    void drain();

  private:
    bool process_and_close_socket(socket_t sock) override;
    void serve(GatedConnection c);

    GateLimits limits_;
    std::unique_ptr<httplib::ThreadPool> workers_;
    std::unique_ptr<ConnectionGate> gate_;
};

// The gate's limits from LOKAL_HEAD_TIMEOUT (seconds) and LOKAL_MAX_CONNECTIONS_PER_CLIENT; an
// Error naming the variable when one is not a positive number.
GateLimits gate_limits_from_environment(std::chrono::seconds keep_alive_timeout);

}  // namespace lokal::server
