#pragma once

namespace lokal::cli {
// Parses the command line and runs one command; returns the process exit code.
int run(int argc, char** argv);
}  // namespace lokal::cli
