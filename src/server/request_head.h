// Small pieces of the connection gate (connection_gate.h) that need no sockets: whether the bytes
// a client has sent so far hold a whole HTTP request head, and how many connections each client
// address has waiting in the gate.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace lokal::server {

// True once `received` holds an empty line (CRLF or bare LF, as cpp-httplib accepts both): the
// request line and headers are all there and reading them cannot block.
bool request_head_complete(std::string_view received);

// Connections per client address, each refused beyond `cap`. Not thread-safe (the gate's lock).
class PerClientCounter {
  public:
    explicit PerClientCounter(size_t cap) : cap_(cap) {}
    // Counts one more for `client`; false (and nothing counted) when it already has `cap`.
    bool try_add(const std::string& client);
    void remove(const std::string& client);
    size_t count(const std::string& client) const;
    size_t clients() const { return counts_.size(); }

  private:
    size_t cap_;
    std::map<std::string, size_t> counts_;
};

}  // namespace lokal::server
