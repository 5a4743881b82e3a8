#include "cli/commands.h"

#include <cstdio>

namespace lokal::cli {
int main(int, char**) {
    std::fprintf(stderr, "lokal: not built yet\n");
    return 1;
}
}  // namespace lokal::cli
