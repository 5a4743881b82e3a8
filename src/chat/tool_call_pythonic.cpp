#include "chat/tool_call_pythonic.h"

#include <string>

namespace lokal::chat {

namespace {

struct NeedMore {};
struct Malformed {};

bool is_ident_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_ident_char(char c) {
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

class Parser {
  public:
    explicit Parser(std::string_view s, size_t pos) : s_(s), i_(pos) {}

    size_t pos() const { return i_; }
    bool at_end() const { return i_ >= s_.size(); }

    char peek() const {
        if (i_ >= s_.size()) throw NeedMore{};
        return s_[i_];
    }
    void expect(char c) {
        if (peek() != c) throw Malformed{};
        ++i_;
    }
    void skip_space(bool newlines) {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' ||
                                  (newlines && (s_[i_] == '\n' || s_[i_] == '\r')))) {
            ++i_;
        }
    }

    std::string identifier(bool dotted) {
        if (!is_ident_start(peek())) throw Malformed{};
        const size_t start = i_;
        while (is_ident_char(peek()) || (dotted && peek() == '.')) ++i_;
        return std::string(s_.substr(start, i_ - start));
    }

    RawCall call() {
        std::string name = identifier(/*dotted=*/true);
        if (name.ends_with(".call")) name.resize(name.size() - 5);
        skip_space(false);
        expect('(');
        OrderedJson args = OrderedJson::object();
        skip_space(true);
        while (peek() != ')') {
            const std::string key = identifier(false);
            skip_space(true);
            expect('=');
            skip_space(true);
            args[key] = literal();
            skip_space(true);
            if (peek() == ',') {
                ++i_;
                skip_space(true);
            } else if (peek() != ')') {
                throw Malformed{};
            }
        }
        ++i_;
        return RawCall{"", std::move(name), dump_compact(args)};
    }

    OrderedJson literal() {
        const char c = peek();
        if (c == '"' || c == '\'') return OrderedJson(string_literal());
        if (c == '-' || (c >= '0' && c <= '9')) return number();
        if (c == '[' || c == '(') return sequence(c == '[' ? ']' : ')');
        if (c == '{') return dict();
        const std::string word = identifier(false);
        if (word == "True") return true;
        if (word == "False") return false;
        if (word == "None") return nullptr;
        throw Malformed{};
    }

  private:
    std::string string_literal() {
        const char quote = peek();
        ++i_;
        std::string out;
        while (true) {
            const char c = peek();
            ++i_;
            if (c == quote) return out;
            if (c == '\n') throw Malformed{};
            if (c != '\\') {
                out += c;
                continue;
            }
            const char e = peek();
            ++i_;
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
                case 'u': {
                    unsigned cp = 0;
                    for (int k = 0; k < 4; ++k) {
                        const char h = peek();
                        ++i_;
                        cp <<= 4;
                        if (h >= '0' && h <= '9')
                            cp |= static_cast<unsigned>(h - '0');
                        else if (h >= 'a' && h <= 'f')
                            cp |= static_cast<unsigned>(h - 'a' + 10);
                        else if (h >= 'A' && h <= 'F')
                            cp |= static_cast<unsigned>(h - 'A' + 10);
                        else
                            throw Malformed{};
                    }
                    if (cp >= 0xD800 && cp <= 0xDFFF) throw Malformed{};  // no surrogate pairs
                    append_utf8(out, cp);
                    break;
                }
                default:
                    out += e;
                    break;  // \\ \' \" and anything else: the character itself
            }
        }
    }

    OrderedJson number() {
        const size_t start = i_;
        while (true) {
            const char c = peek();  // a number at the very end may still grow
            if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' ||
                  c == 'E')) {
                break;
            }
            ++i_;
        }
        std::optional<OrderedJson> j = parse_json(s_.substr(start, i_ - start));
        if (!j || !j->is_number()) throw Malformed{};
        return std::move(*j);
    }

    OrderedJson sequence(char close) {
        ++i_;
        OrderedJson arr = OrderedJson::array();
        skip_space(true);
        while (peek() != close) {
            arr.push_back(literal());
            skip_space(true);
            if (peek() == ',') {
                ++i_;
                skip_space(true);
            } else if (peek() != close) {
                throw Malformed{};
            }
        }
        ++i_;
        return arr;
    }

    OrderedJson dict() {
        ++i_;
        OrderedJson obj = OrderedJson::object();
        skip_space(true);
        while (peek() != '}') {
            if (peek() != '"' && peek() != '\'') throw Malformed{};
            const std::string key = string_literal();
            skip_space(true);
            expect(':');
            skip_space(true);
            obj[key] = literal();
            skip_space(true);
            if (peek() == ',') {
                ++i_;
                skip_space(true);
            } else if (peek() != '}') {
                throw Malformed{};
            }
        }
        ++i_;
        return obj;
    }

    std::string_view s_;
    size_t i_;
};

}  // namespace

PythonicResult parse_pythonic_calls(std::string_view text, size_t pos, bool eof) {
    Parser p(text, pos);
    PythonicResult result;
    try {
        if (p.peek() == '[') {
            p.expect('[');
            p.skip_space(true);
            while (p.peek() != ']') {
                result.calls.push_back(p.call());
                p.skip_space(true);
                if (p.peek() == ',') {
                    p.expect(',');
                    p.skip_space(true);
                } else if (p.peek() != ']') {
                    throw Malformed{};
                }
            }
            p.expect(']');
            if (result.calls.empty()) throw Malformed{};
            result.status = ScanStatus::Complete;
            result.end = p.pos();
            return result;
        }
        // One call, or several on separate lines.
        while (true) {
            result.calls.push_back(p.call());
            result.end = p.pos();
            p.skip_space(true);
            if (p.at_end()) {
                if (eof) break;
                throw NeedMore{};
            }
            if (!is_ident_start(p.peek())) break;
        }
        result.status = ScanStatus::Complete;
    } catch (const NeedMore&) {
        result = PythonicResult{};
        result.status = eof ? ScanStatus::Invalid : ScanStatus::Incomplete;
        result.end = text.size();
    } catch (const Malformed&) {
        result = PythonicResult{};
        result.status = ScanStatus::Invalid;
        result.end = p.pos();
    }
    return result;
}

}  // namespace lokal::chat
