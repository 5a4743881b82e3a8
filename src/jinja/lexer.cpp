#include "jinja/lexer.h"

#include <algorithm>
#include <cctype>

#include "jinja/value.h"

namespace lokal::jinja {

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

[[noreturn]] void syntax_error(const std::string& msg, int line) {
    raise("TemplateSyntaxError", msg + " (line " + std::to_string(line) + ")");
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

class Lexer {
  public:
    Lexer(std::string_view src, const LexerOptions& opt) : opt_(opt) {
        // jinja2 normalizes newlines and drops one trailing newline.
        src_.reserve(src.size());
        for (size_t i = 0; i < src.size(); i++) {
            if (src[i] == '\r') {
                src_ += '\n';
                if (i + 1 < src.size() && src[i + 1] == '\n') i++;
            } else {
                src_ += src[i];
            }
        }
        if (!opt.keep_trailing_newline && !src_.empty() && src_.back() == '\n') src_.pop_back();
    }

    std::vector<Token> run() {
        while (pos_ < src_.size()) {
            size_t start = find_tag(pos_);
            std::string text = src_.substr(pos_, start - pos_);
            bool at_line_start = pos_ == 0 || src_[pos_ - 1] == '\n';
            char kind = start < src_.size() ? src_[start + 1] : '\0';
            char mod = start + 2 < src_.size() ? src_[start + 2] : '\0';
            // lstrip_blocks: blank characters between a line start and a block/comment tag.
            size_t lstrip_cut = 0;
            if (start < src_.size() && mod != '-' && mod != '+' && opt_.lstrip_blocks &&
                kind != '{') {
                size_t l = text.rfind('\n');
                size_t from = l == std::string::npos ? 0 : l + 1;
                if (l != std::string::npos || at_line_start) {
                    bool blank = true;
                    for (size_t i = from; i < text.size(); i++)
                        if (text[i] != ' ' && text[i] != '\t') blank = false;
                    if (blank) lstrip_cut = text.size() - from;
                }
            }
            apply_left_trim(text);
            if (start == src_.size()) {
                emit_text(std::move(text));
                pos_ = start;
                break;
            }
            if (mod == '-') {
                rstrip(text);
            } else {
                text.resize(text.size() - std::min(lstrip_cut, text.size()));
            }
            line_ += count_lines(pos_, start);
            emit_text(std::move(text));
            pos_ = start + 2 + ((mod == '-' || mod == '+') ? 1 : 0);
            if (kind == '#') {
                lex_comment();
            } else if (kind == '{') {
                lex_tag(TokenType::VarBegin, TokenType::VarEnd, '}');
            } else {
                size_t first = toks_.size();
                lex_tag(TokenType::BlockBegin, TokenType::BlockEnd, '%');
                if (toks_.size() - first == 3 && toks_[first + 1].type == TokenType::Name &&
                    toks_[first + 1].value == "raw") {
                    toks_.resize(first);
                    lex_raw();
                }
            }
        }
        toks_.push_back(Token{TokenType::Eof, "", line_});
        return std::move(toks_);
    }

  private:
    enum class Trim { None, Newline, All };

    size_t find_tag(size_t from) const {
        for (size_t i = from; i + 1 < src_.size(); i++) {
            if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#'))
                return i;
        }
        return src_.size();
    }

    int count_lines(size_t a, size_t b) const {
        int n = 0;
        for (size_t i = a; i < b && i < src_.size(); i++) n += src_[i] == '\n';
        return n;
    }

    static void rstrip(std::string& s) {
        while (!s.empty() && is_space(s.back())) s.pop_back();
    }

    void apply_left_trim(std::string& text) {
        if (trim_ == Trim::All) {
            size_t i = 0;
            while (i < text.size() && is_space(text[i])) i++;
            text.erase(0, i);
        } else if (trim_ == Trim::Newline && !text.empty() && text[0] == '\n') {
            text.erase(0, 1);
        }
        trim_ = Trim::None;
    }

    void emit_text(std::string text) {
        if (!text.empty()) toks_.push_back(Token{TokenType::Text, std::move(text), line_});
    }

    void lex_comment() {
        size_t end = src_.find("#}", pos_);
        if (end == std::string::npos) syntax_error("missing end of comment tag", line_);
        bool strip = end > pos_ && src_[end - 1] == '-';
        line_ += count_lines(pos_, end);
        pos_ = end + 2;
        trim_ = strip ? Trim::All : (opt_.trim_blocks ? Trim::Newline : Trim::None);
    }

    void lex_raw() {
        // Find {% endraw %} with optional whitespace modifiers.
        size_t search = pos_;
        while (true) {
            size_t t = src_.find("{%", search);
            if (t == std::string::npos) syntax_error("missing endraw", line_);
            size_t i = t + 2;
            bool lstrip = false;
            if (i < src_.size() && (src_[i] == '-' || src_[i] == '+')) lstrip = src_[i++] == '-';
            while (i < src_.size() && is_space(src_[i])) i++;
            if (src_.compare(i, 6, "endraw") != 0) {
                search = t + 2;
                continue;
            }
            i += 6;
            while (i < src_.size() && is_space(src_[i])) i++;
            bool rstrip_after = false;
            if (i < src_.size() && src_[i] == '-') {
                rstrip_after = true;
                i++;
            }
            if (src_.compare(i, 2, "%}") != 0) syntax_error("malformed endraw", line_);
            std::string text = src_.substr(pos_, t - pos_);
            apply_left_trim(text);
            if (lstrip) rstrip(text);
            line_ += count_lines(pos_, i);
            emit_text(std::move(text));
            pos_ = i + 2;
            trim_ = rstrip_after ? Trim::All : (opt_.trim_blocks ? Trim::Newline : Trim::None);
            return;
        }
    }

    void lex_tag(TokenType begin, TokenType end, char close) {
        toks_.push_back(Token{begin, "", line_});
        int depth = 0;
        while (true) {
            while (pos_ < src_.size() && is_space(src_[pos_])) {
                if (src_[pos_] == '\n') line_++;
                pos_++;
            }
            if (pos_ >= src_.size()) syntax_error("unexpected end of template inside tag", line_);
            char c = src_[pos_];
            if (depth == 0) {
                bool strip = c == '-' || c == '+';
                size_t p = pos_ + (strip ? 1 : 0);
                if (p + 1 < src_.size() && src_[p] == close && src_[p + 1] == '}') {
                    pos_ = p + 2;
                    toks_.push_back(Token{end, "", line_});
                    if (c == '-') {
                        trim_ = Trim::All;
                    } else if (begin == TokenType::BlockBegin && opt_.trim_blocks && c != '+') {
                        trim_ = Trim::Newline;
                    }
                    return;
                }
            }
            if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
                size_t s = pos_;
                while (pos_ < src_.size() &&
                       (std::isalnum(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_'))
                    pos_++;
                toks_.push_back(Token{TokenType::Name, src_.substr(s, pos_ - s), line_});
            } else if (std::isdigit(static_cast<unsigned char>(c))) {
                lex_number();
            } else if (c == '\'' || c == '"') {
                lex_string(c);
            } else {
                static const char* two[] = {"//", "**", "==", "!=", "<=", ">="};
                std::string op(1, c);
                for (const char* t : two)
                    if (src_.compare(pos_, 2, t) == 0) op = t;
                if (op.size() == 1 &&
                    std::string_view("+-*/%~<>=()[]{},.:|;!").find(c) == std::string_view::npos)
                    syntax_error(std::string("unexpected character '") + c + "'", line_);
                if (op == "!") syntax_error("unexpected character '!'", line_);
                if (c == '(' || c == '[' || c == '{') depth++;
                if (c == ')' || c == ']' || c == '}') depth--;
                pos_ += op.size();
                toks_.push_back(Token{TokenType::Op, op, line_});
            }
        }
    }

    void lex_number() {
        size_t s = pos_;
        bool is_float = false;
        auto digits = [&] {
            while (pos_ < src_.size() &&
                   (std::isdigit(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_'))
                pos_++;
        };
        digits();
        if (pos_ + 1 < src_.size() && src_[pos_] == '.' &&
            std::isdigit(static_cast<unsigned char>(src_[pos_ + 1]))) {
            is_float = true;
            pos_++;
            digits();
        }
        if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
            size_t p = pos_ + 1;
            if (p < src_.size() && (src_[p] == '+' || src_[p] == '-')) p++;
            if (p < src_.size() && std::isdigit(static_cast<unsigned char>(src_[p]))) {
                is_float = true;
                pos_ = p;
                digits();
            }
        }
        std::string text;
        for (size_t i = s; i < pos_; i++)
            if (src_[i] != '_') text += src_[i];
        Token t{is_float ? TokenType::Float : TokenType::Int, text, line_};
        try {
            if (is_float) {
                t.float_value = std::stod(text);
            } else {
                t.int_value = std::stoll(text);
            }
        } catch (const std::exception&) {
            syntax_error("number out of range: " + text, line_);
        }
        toks_.push_back(std::move(t));
    }

    void lex_string(char quote) {
        int start_line = line_;
        pos_++;
        std::string out;
        while (true) {
            if (pos_ >= src_.size()) syntax_error("unterminated string", start_line);
            char c = src_[pos_++];
            if (c == quote) break;
            if (c == '\n') line_++;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= src_.size()) syntax_error("unterminated string", start_line);
            char e = src_[pos_++];
            switch (e) {
                case 'n':
                    out += '\n';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'v':
                    out += '\v';
                    break;
                case 'a':
                    out += '\a';
                    break;
                case '0':
                case '1':
                case '2':
                case '3':
                case '4':
                case '5':
                case '6':
                case '7': {
                    uint32_t v = static_cast<uint32_t>(e - '0');
                    for (int k = 0;
                         k < 2 && pos_ < src_.size() && src_[pos_] >= '0' && src_[pos_] <= '7'; k++)
                        v = v * 8 + static_cast<uint32_t>(src_[pos_++] - '0');
                    append_utf8(out, v);
                    break;
                }
                case '\\':
                case '\'':
                case '"':
                    out += e;
                    break;
                case '\n':
                    line_++;
                    break;
                case 'x':
                case 'u':
                case 'U': {
                    int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    uint32_t v = 0;
                    for (int k = 0; k < n; k++) {
                        if (pos_ >= src_.size() ||
                            !std::isxdigit(static_cast<unsigned char>(src_[pos_])))
                            syntax_error("truncated \\" + std::string(1, e) + " escape", line_);
                        char h = src_[pos_++];
                        v = v * 16 +
                            static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h))
                                                      ? h - '0'
                                                      : (std::tolower(h) - 'a' + 10));
                    }
                    if (v > 0x10FFFF) syntax_error("invalid unicode escape", line_);
                    append_utf8(out, v);
                    break;
                }
                default:
                    out += '\\';
                    out += e;
            }
        }
        toks_.push_back(Token{TokenType::String, std::move(out), start_line});
    }

    std::string src_;
    LexerOptions opt_;
    size_t pos_ = 0;
    int line_ = 1;
    Trim trim_ = Trim::None;
    std::vector<Token> toks_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source, const LexerOptions& options) {
    return Lexer(source, options).run();
}

}  // namespace lokal::jinja
