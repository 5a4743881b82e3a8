#include "server/request_head.h"

namespace lokal::server {

bool request_head_complete(std::string_view received) {
    size_t start = 0;
    for (size_t nl = received.find('\n'); nl != std::string_view::npos;
         nl = received.find('\n', start)) {
        const size_t length = nl - start;
        if (length == 0 || (length == 1 && received[start] == '\r')) return true;
        start = nl + 1;
    }
    return false;
}

bool PerClientCounter::try_add(const std::string& client) {
    size_t& n = counts_[client];
    if (n >= cap_) return false;
    ++n;
    return true;
}

void PerClientCounter::remove(const std::string& client) {
    auto it = counts_.find(client);
    if (it == counts_.end()) return;
    if (--it->second == 0) counts_.erase(it);
}

size_t PerClientCounter::count(const std::string& client) const {
    auto it = counts_.find(client);
    return it == counts_.end() ? 0 : it->second;
}

}  // namespace lokal::server
