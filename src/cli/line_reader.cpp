#include "cli/line_reader.h"

#include <editline/readline.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/run_session.h"

namespace lokal::cli {
namespace {

constexpr int kHistoryEntries = 1000;
constexpr unsigned char kCtrlC = 3;

std::string history_file() {
    if (const char* p = std::getenv("LOKAL_HISTORY"); p && *p) return p;
    const char* home = std::getenv("HOME");
    if (!home || !*home) return {};
    return (std::filesystem::path(home) / ".lokal" / "history").string();
}

// Waits until the terminal has a key, or a Ctrl-C signal came: false then. SIGINT is blocked
// from the flag's check until ppoll unblocks it atomically, so a signal that arrives just before
// the wait still ends it (otherwise the handler would run before a read that then blocks).
bool wait_for_key(int fd) {
    sigset_t sigint, old;
    sigemptyset(&sigint);
    sigaddset(&sigint, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigint, &old);
    int ready = 0;
    while (!g_interrupted.load()) {
        pollfd p{fd, POLLIN, 0};
        ready = ::ppoll(&p, 1, nullptr, &old);
        if (ready > 0 || (ready < 0 && errno != EINTR)) break;
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return !g_interrupted.load();
}

// libedit's key reader, replaced so that Ctrl-C at the prompt ends the read (as Ctrl-D does, with
// g_interrupted set) instead of being retried: the REPL then says how to exit.
int read_key(FILE* in) {
    unsigned char c = 0;
    for (;;) {
        if (!wait_for_key(fileno(in))) return EOF;
        const ssize_t n = ::read(fileno(in), &c, 1);
        if (n == 1) {
            if (c != kCtrlC) return c;
            g_interrupted.store(true);  // the terminal passed Ctrl-C as a key, not a signal
            return EOF;
        }
        if (n < 0 && errno == EINTR && !g_interrupted.load()) continue;
        return EOF;
    }
}

}  // namespace

LineReader::LineReader() : editing_(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
    if (!editing_) return;
    history_path_ = history_file();
    rl_catch_signals = 0;  // Ctrl-C stays with install_sigint_handler's handler
    rl_getc_function = read_key;
    using_history();
    stifle_history(kHistoryEntries);
    if (!history_path_.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(std::filesystem::path(history_path_).parent_path(), ec);
        read_history(history_path_.c_str());
    }
}

LineReader::~LineReader() {
    if (editing_) clear_history();
}

std::optional<std::string> LineReader::read(const char* prompt) {
    if (editing_) {
        const std::unique_ptr<char, decltype(&std::free)> line(readline(prompt), &std::free);
        if (!line) return std::nullopt;
        return std::string(line.get());
    }
    std::fputs(prompt, stdout);
    std::fflush(stdout);
    std::string line;
    if (!std::getline(std::cin, line)) {
        std::cin.clear();
        return std::nullopt;
    }
    return line;
}

void LineReader::remember(const std::string& entry) {
    if (!editing_ || !history_enabled_ || entry.empty()) return;
    add_history(entry.c_str());
    if (!history_path_.empty()) write_history(history_path_.c_str());
}

}  // namespace lokal::cli
