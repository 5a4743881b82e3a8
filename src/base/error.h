// Errors for users: I/O, GGUF, user input. Thrown as lokal::Error and caught at a clear
// boundary (the CLI's main, a server request handler) where the message is shown to the user.
// LOKAL_ASSERT is only for our own invariants.
#pragma once

#include <stdexcept>
#include <string>

namespace lokal {

class Error : public std::runtime_error {
  public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

[[noreturn]] void assert_fail(const char* expr, const char* file, int line);

}  // namespace lokal

#define LOKAL_ASSERT(cond) ((cond) ? (void)0 : ::lokal::assert_fail(#cond, __FILE__, __LINE__))
