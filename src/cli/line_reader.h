// Reads the REPL's input lines: on a terminal with libedit (cursor keys, Ctrl-A/E/K/U/W, and a
// history kept across sessions in ~/.lokal/history, or $LOKAL_HISTORY); otherwise, for piped
// input, plain lines from stdin.
#pragma once

#include <optional>
#include <string>

namespace lokal::cli {

class LineReader {
  public:
    LineReader();
    ~LineReader();
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    // One line, without its newline, after showing `prompt`; nullopt at the end of input
    // (Ctrl-D). A Ctrl-C while waiting also returns nullopt, with g_interrupted set.
    std::optional<std::string> read(const char* prompt);
    // Adds an entry to the history (and its file); ignored while history is off.
    void remember(const std::string& entry);
    void set_history_enabled(bool on) { history_enabled_ = on; }

  private:
    bool editing_ = false;  // stdin and stdout are terminals: libedit reads
    bool history_enabled_ = true;
    std::string history_path_;
};

}  // namespace lokal::cli
