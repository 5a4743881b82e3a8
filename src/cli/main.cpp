#include <cstdio>
#include <exception>

#include "cli/commands.h"

int main(int argc, char** argv) {
    try {
        return lokal::cli::run(argc, argv);
    } catch (const std::exception& e) {
        // Commands report user errors themselves; anything reaching here is unexpected.
        std::fprintf(stderr, "lokal: internal error: %s\n", e.what());
    } catch (...) {
        std::fprintf(stderr, "lokal: internal error\n");
    }
    return 1;
}
