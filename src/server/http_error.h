// An error a handler answers with: an HTTP status and a message for the client. Handlers throw
// it; the server turns it into the JSON error body of the API that was called.
#pragma once

#include <stdexcept>
#include <string>

#include "base/error.h"

namespace lokal::server {

// The HTTP status a lokal::Error of each kind answers with, for every API.
constexpr int http_status(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::InvalidInput:
        case ErrorKind::Unsupported:
            return 400;
        case ErrorKind::NotFound:
            return 404;
        case ErrorKind::Busy:
            return 503;
        case ErrorKind::Io:
        case ErrorKind::Internal:
            return 500;
    }
    return 500;
}

struct HttpError : std::runtime_error {
    HttpError(int code, const std::string& message, std::string field = {})
        : std::runtime_error(message), status(code), param(std::move(field)) {}
    int status;
    std::string param;  // the request field at fault, when there is one
};

}  // namespace lokal::server
