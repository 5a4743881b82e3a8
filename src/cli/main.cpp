#include "cli/commands.h"

int main(int argc, char** argv) {
    return lokal::cli::main(argc, argv);
}
