#include "base/error.h"

#include <cstdio>
#include <cstdlib>

namespace lokal {

const char* error_kind_name(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::InvalidInput:
            return "invalid input";
        case ErrorKind::NotFound:
            return "not found";
        case ErrorKind::Unsupported:
            return "unsupported";
        case ErrorKind::Busy:
            return "busy";
        case ErrorKind::Io:
            return "I/O error";
        case ErrorKind::Internal:
            return "internal error";
    }
    return "error";
}

void assert_fail(const char* expr, const char* file, int line) {
    std::fprintf(stderr, "lokal: internal error: assertion '%s' failed at %s:%d\n", expr, file,
                 line);
    std::abort();
}

}  // namespace lokal
