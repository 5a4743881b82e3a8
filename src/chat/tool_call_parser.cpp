// The streaming engine of the output parser: finds reasoning and tool-call openers in content,
// holds back text that may still become one, hands tool-call regions to the format's syntax and
// trims whitespace around markup.
#include "chat/tool_call_parser.h"

#include <random>

#include "base/error.h"
#include "chat/tool_call_syntax.h"

namespace lokal::chat {

namespace {

bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

enum class Match { None, Partial, Full };

// Whether `marker` starts at text[i] (Full), or the text ends with a beginning of it (Partial).
Match match_at(std::string_view text, size_t i, std::string_view marker, bool eof) {
    const std::string_view rest = text.substr(i);
    if (rest.starts_with(marker)) return Match::Full;
    if (!eof && marker.starts_with(rest)) return Match::Partial;
    return Match::None;
}

// Length of the longest proper beginning of `marker` that `text` ends with.
size_t partial_suffix(std::string_view text, std::string_view marker) {
    for (size_t k = std::min(text.size(), marker.size() - 1); k > 0; --k) {
        if (text.substr(text.size() - k) == marker.substr(0, k)) return k;
    }
    return 0;
}

// Bytes at the end of `s` that start a UTF-8 sequence which has not arrived in full.
size_t incomplete_utf8_tail(std::string_view s) {
    for (size_t j = 1; j <= std::min<size_t>(3, s.size()); ++j) {
        const auto c = static_cast<unsigned char>(s[s.size() - j]);
        if ((c & 0xC0) == 0x80) continue;
        size_t need = 1;
        if ((c & 0xE0) == 0xC0)
            need = 2;
        else if ((c & 0xF0) == 0xE0)
            need = 3;
        else if ((c & 0xF8) == 0xF0)
            need = 4;
        return need > j ? j : 0;
    }
    return 0;
}

std::string random_call_id() {
    static constexpr char kAlnum[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uniform_int_distribution<size_t> pick(0, sizeof(kAlnum) - 2);
    std::string id = "call_";
    for (int i = 0; i < 24; ++i) id += kAlnum[pick(rng)];
    return id;
}

// Appends `text` to `dst`, trimming whitespace at the start of the channel (`started` false) and
// holding trailing whitespace in `pending` until something else follows.
void put_trimmed(std::string& dst, std::string& pending, bool& started, std::string_view text) {
    size_t b = 0;
    while (b < text.size() && is_ws(text[b])) ++b;
    if (b == text.size()) {
        if (started) pending.append(text);
        return;
    }
    size_t e = text.size();
    while (is_ws(text[e - 1])) --e;
    if (started) {
        dst += pending;
        dst.append(text.substr(0, e));
    } else {
        dst.append(text.substr(b, e - b));
    }
    pending.assign(text.substr(e));
    started = true;
}

}  // namespace

void ParsedDelta::append(ParsedDelta&& other) {
    content += other.content;
    reasoning += other.reasoning;
    for (ToolCall& c : other.tool_calls) tool_calls.push_back(std::move(c));
    for (std::string& e : other.errors) errors.push_back(std::move(e));
}

OutputParser::OutputParser(ToolFormat format, ParserOptions options)
    : syntax_(make_tool_syntax(format)), options_(std::move(options)) {
    if (!options_.make_id) options_.make_id = random_call_id;
    if (options_.starts_in_reasoning) {
        mode_ = Mode::Reasoning;
        reasoning_close_ = syntax_->reasoning_markers().front().second;
    } else if (syntax_->starts_in_region()) {
        mode_ = Mode::Region;
        region_marker_ = ToolSyntax::kImplicit;
    }
}

OutputParser::~OutputParser() = default;
OutputParser::OutputParser(OutputParser&&) noexcept = default;
OutputParser& OutputParser::operator=(OutputParser&&) noexcept = default;

ParsedDelta OutputParser::feed(std::string_view text) {
    if (finished_) throw Error("output parser: feed() after finish()");
    buf_.append(text);
    ParsedDelta out;
    process(out, false);
    return out;
}

ParsedDelta OutputParser::finish() {
    if (finished_) throw Error("output parser: finish() called twice");
    ParsedDelta out;
    process(out, true);
    LOKAL_ASSERT(buf_.empty());
    finished_ = true;
    return out;
}

void OutputParser::consume(size_t n) {
    buf_.erase(0, n);
}

void OutputParser::process(ParsedDelta& out, bool eof) {
    while (true) {
        bool progressed = false;
        switch (mode_) {
            case Mode::Content:
                progressed = step_content(out, eof);
                break;
            case Mode::Reasoning:
                progressed = step_reasoning(out, eof);
                break;
            case Mode::Region:
                progressed = step_region(out, eof);
                break;
        }
        if (!progressed) return;
    }
}

void OutputParser::emit_content(ParsedDelta& out, std::string_view text) {
    if (text.empty()) return;
    put_trimmed(out.content, pending_ws_, content_started_, text);
    if (content_started_) {
        at_call_position_ = false;
        after_call_ = false;
    }
}

void OutputParser::emit_reasoning(ParsedDelta& out, std::string_view text) {
    switch (options_.reasoning) {
        case ReasoningMode::Separate:
            put_trimmed(out.reasoning, pending_reasoning_ws_, reasoning_started_, text);
            break;
        case ReasoningMode::Inline:
            // Verbatim in content; not content in the sense of the call position.
            if (text.empty()) break;
            out.content += pending_ws_;
            pending_ws_.clear();
            out.content.append(text);
            content_started_ = true;
            break;
        case ReasoningMode::Strip:
            break;
    }
}

bool OutputParser::step_content(ParsedDelta& out, bool eof) {
    const bool tools = options_.tools;
    bool json_start = tools && at_call_position_ && syntax_->json_at_call_position();
    if (json_start && after_call_) {
        // Between JSON calls (Llama 3 writes `{..}; {..}`): separators are dropped.
        size_t k = 0;
        while (k < buf_.size() && (is_ws(buf_[k]) || buf_[k] == ';')) ++k;
        consume(k);
    }
    const std::vector<std::string> openers =
        tools ? syntax_->openers() : std::vector<std::string>{};
    const auto reasoning = syntax_->reasoning_markers();
    bool started = content_started_;
    for (size_t i = 0; i < buf_.size(); ++i) {
        const char c = buf_[i];
        bool partial = false;
        int full = -1;  // index of the longest opener that matches in full at i
        bool full_is_reasoning = false;
        size_t full_len = 0;
        if (!started && !is_ws(c)) {
            for (size_t r = 0; r < reasoning.size(); ++r) {
                const Match m = match_at(buf_, i, reasoning[r].first, eof);
                partial |= m == Match::Partial;
                if (m == Match::Full && reasoning[r].first.size() > full_len) {
                    full = static_cast<int>(r);
                    full_is_reasoning = true;
                    full_len = reasoning[r].first.size();
                }
            }
        }
        for (size_t k = 0; k < openers.size(); ++k) {
            const Match m = match_at(buf_, i, openers[k], eof);
            partial |= m == Match::Partial;
            if (m == Match::Full && openers[k].size() > full_len) {
                full = static_cast<int>(k);
                full_is_reasoning = false;
                full_len = openers[k].size();
            }
        }
        if (partial) {  // undecided: release what is before, hold the rest
            emit_content(out, std::string_view(buf_).substr(0, i));
            consume(i);
            return false;
        }
        if (full >= 0) {
            emit_content(out, std::string_view(buf_).substr(0, i));
            const std::string opener = buf_.substr(i, full_len);
            consume(i + full_len);
            if (full_is_reasoning) {
                pending_ws_.clear();
                mode_ = Mode::Reasoning;
                reasoning_close_ = reasoning[static_cast<size_t>(full)].second;
                if (options_.reasoning == ReasoningMode::Inline) emit_reasoning(out, opener);
            } else {
                mode_ = Mode::Region;
                region_marker_ = full;
                region_opener_ = opener;
            }
            return true;
        }
        if (json_start && (c == '{' || c == '[')) {
            emit_content(out, std::string_view(buf_).substr(0, i));
            consume(i);
            mode_ = Mode::Region;
            region_marker_ = ToolSyntax::kJsonStart;
            region_opener_.clear();
            return true;
        }
        if (!is_ws(c)) {
            started = true;
            json_start = false;
        }
    }
    const size_t keep = eof ? 0 : incomplete_utf8_tail(buf_);
    emit_content(out, std::string_view(buf_).substr(0, buf_.size() - keep));
    consume(buf_.size() - keep);
    return false;
}

bool OutputParser::step_reasoning(ParsedDelta& out, bool eof) {
    const size_t at = buf_.find(reasoning_close_);
    if (at != std::string::npos) {
        emit_reasoning(out, std::string_view(buf_).substr(0, at));
        if (options_.reasoning == ReasoningMode::Inline) {
            emit_reasoning(out, std::string_view(buf_).substr(at, reasoning_close_.size()));
        }
        consume(at + reasoning_close_.size());
        pending_reasoning_ws_.clear();
        if (options_.reasoning == ReasoningMode::Separate && reasoning_started_) {
            // Separate blocks of reasoning: keep them apart.
            pending_reasoning_ws_ = "\n\n";
        }
        mode_ = Mode::Content;
        return true;
    }
    const size_t keep =
        eof ? 0 : std::max(partial_suffix(buf_, reasoning_close_), incomplete_utf8_tail(buf_));
    emit_reasoning(out, std::string_view(buf_).substr(0, buf_.size() - keep));
    consume(buf_.size() - keep);
    return false;
}

bool OutputParser::step_region(ParsedDelta& out, bool eof) {
    RegionResult r = syntax_->parse(region_marker_, buf_, eof);
    if (r.status == RegionStatus::NeedMore) {
        if (!eof) return false;
        r = invalid(buf_.size(), "unterminated tool call");
    }
    if (r.status == RegionStatus::Done && !r.calls.empty() && !options_.tools) {
        r = invalid(r.consumed, "");  // no tools offered: a call is just text
    }
    mode_ = Mode::Content;
    if (r.status == RegionStatus::Done) {
        for (RawCall& c : r.calls) {
            out.tool_calls.push_back(ToolCall{c.id.empty() ? options_.make_id() : std::move(c.id),
                                              std::move(c.name), std::move(c.arguments)});
        }
        consume(r.consumed);
        pending_ws_.clear();
        if (!r.calls.empty()) {
            at_call_position_ = true;
            after_call_ = true;
        }
        return true;
    }
    if (!r.error.empty()) out.errors.push_back(std::move(r.error));
    size_t n = std::min(r.consumed, buf_.size());
    if (region_marker_ == ToolSyntax::kJsonStart && n == 0) n = 1;  // always make progress
    std::string text = region_opener_ + buf_.substr(0, n);
    consume(n);
    region_opener_.clear();
    emit_content(out, text);
    return true;
}

ParsedMessage parse_output(std::string_view text, ToolFormat format, ParserOptions options) {
    OutputParser parser(format, std::move(options));
    ParsedMessage msg = parser.feed(text);
    msg.append(parser.finish());
    return msg;
}

}  // namespace lokal::chat
