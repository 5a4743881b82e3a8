// An error a handler answers with: an HTTP status and a message for the client. Handlers throw
// it; the server turns it into the JSON error body of the API that was called.
#pragma once

#include <stdexcept>
#include <string>

namespace lokal::server {

struct HttpError : std::runtime_error {
    HttpError(int status, const std::string& message, std::string param = {})
        : std::runtime_error(message), status(status), param(std::move(param)) {}
    int status;
    std::string param;  // the request field at fault, when there is one
};

}  // namespace lokal::server
