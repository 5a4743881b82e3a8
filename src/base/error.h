// Errors for users: I/O, GGUF, user input. Thrown as lokal::Error and caught at a clear
// boundary (the CLI's main, a server request handler) where the message is shown to the user.
// An error carries a kind, so that boundary can answer without reading the message (the server
// maps kinds to HTTP status in one place, server/http_error.h). LOKAL_ASSERT is only for our own
// invariants.
#pragma once

#include <stdexcept>
#include <string>

namespace lokal {

enum class ErrorKind {
    InvalidInput,  // a bad file, option, request or text: the user can fix it
    NotFound,      // a model, file or blob that does not exist
    Unsupported,   // well-formed, but something we do not run (an architecture, a type)
    Busy,          // try again later (a full queue, a locked resource)
    Io,            // the system failed us: disk, network, permissions
    Internal,      // our own fault
};

const char* error_kind_name(ErrorKind kind);  // "invalid input", "not found", ...

class Error : public std::runtime_error {
  public:
    explicit Error(const std::string& message, ErrorKind kind = ErrorKind::InvalidInput)
        : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const { return kind_; }

  private:
    ErrorKind kind_;
};

[[noreturn]] void assert_fail(const char* expr, const char* file, int line);

}  // namespace lokal

#define LOKAL_ASSERT(cond) ((cond) ? (void)0 : ::lokal::assert_fail(#cond, __FILE__, __LINE__))
