#include "base/error.h"

#include <cstdio>
#include <cstdlib>

namespace lokal {

void assert_fail(const char* expr, const char* file, int line) {
    std::fprintf(stderr, "lokal: internal error: assertion '%s' failed at %s:%d\n", expr, file,
                 line);
    std::abort();
}

}  // namespace lokal
