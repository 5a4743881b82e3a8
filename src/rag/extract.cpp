#include "rag/extract.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <utility>

namespace lokal::rag {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return (char)std::tolower(c); });
    return out;
}

constexpr std::array<std::pair<std::string_view, TextKind>, 48> kExtensions{{
    {"txt", TextKind::Prose},      {"text", TextKind::Prose},     {"rst", TextKind::Prose},
    {"org", TextKind::Prose},      {"csv", TextKind::Prose},      {"log", TextKind::Prose},
    {"md", TextKind::Markdown},    {"markdown", TextKind::Markdown},
    {"html", TextKind::Html},      {"htm", TextKind::Html},       {"xhtml", TextKind::Html},
    {"pdf", TextKind::Pdf},        {"c", TextKind::Code},         {"h", TextKind::Code},
    {"cc", TextKind::Code},        {"cpp", TextKind::Code},       {"cxx", TextKind::Code},
    {"hpp", TextKind::Code},       {"hh", TextKind::Code},        {"py", TextKind::Code},
    {"js", TextKind::Code},        {"ts", TextKind::Code},        {"tsx", TextKind::Code},
    {"jsx", TextKind::Code},       {"go", TextKind::Code},        {"rs", TextKind::Code},
    {"java", TextKind::Code},      {"kt", TextKind::Code},        {"swift", TextKind::Code},
    {"rb", TextKind::Code},        {"php", TextKind::Code},       {"cs", TextKind::Code},
    {"sh", TextKind::Code},        {"bash", TextKind::Code},      {"zsh", TextKind::Code},
    {"lua", TextKind::Code},       {"sql", TextKind::Code},       {"cmake", TextKind::Code},
    {"toml", TextKind::Code},      {"yaml", TextKind::Code},      {"yml", TextKind::Code},
    {"json", TextKind::Code},      {"xml", TextKind::Code},       {"css", TextKind::Code},
    {"scala", TextKind::Code},     {"glsl", TextKind::Code},      {"comp", TextKind::Code},
    {"tex", TextKind::Prose},
}};

constexpr std::array<std::string_view, 5> kCodeNames{"makefile", "cmakelists.txt", "dockerfile",
                                                     "gnumakefile", "justfile"};

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += (char)cp;
    } else if (cp < 0x800) {
        out += (char)(0xC0 | (cp >> 6));
        out += (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += (char)(0xE0 | (cp >> 12));
        out += (char)(0x80 | ((cp >> 6) & 0x3F));
        out += (char)(0x80 | (cp & 0x3F));
    } else {
        out += (char)(0xF0 | (cp >> 18));
        out += (char)(0x80 | ((cp >> 12) & 0x3F));
        out += (char)(0x80 | ((cp >> 6) & 0x3F));
        out += (char)(0x80 | (cp & 0x3F));
    }
}

constexpr std::array<std::pair<std::string_view, uint32_t>, 16> kNamedEntities{{
    {"amp", '&'},     {"lt", '<'},       {"gt", '>'},       {"quot", '"'},
    {"apos", '\''},   {"nbsp", 0xA0},    {"copy", 0xA9},    {"reg", 0xAE},
    {"mdash", 0x2014}, {"ndash", 0x2013}, {"hellip", 0x2026}, {"lsquo", 0x2018},
    {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"euro", 0x20AC},
}};

// Tags after which the text continues on a new line.
constexpr std::array<std::string_view, 22> kBlockTags{
    "p",  "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3",
    "h4", "h5",  "h6", "pre", "section", "article", "header", "footer", "blockquote", "hr", "dt"};

}  // namespace

TextKind text_kind(std::string_view filename) {
    const std::string name = lower(filename);
    for (std::string_view n : kCodeNames) {
        if (name == n) return TextKind::Code;
    }
    const size_t dot = name.rfind('.');
    if (dot == std::string::npos) return TextKind::Unsupported;
    const std::string_view ext = std::string_view(name).substr(dot + 1);
    for (const auto& [e, kind] : kExtensions) {
        if (e == ext) return kind;
    }
    return TextKind::Unsupported;
}

bool looks_binary(std::string_view bytes) {
    return bytes.substr(0, 8192).find('\0') != std::string_view::npos;
}

std::string decode_entities(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '&') {
            out += s[i];
            continue;
        }
        const size_t semi = s.find(';', i);
        if (semi == std::string_view::npos || semi - i > 12) {
            out += '&';
            continue;
        }
        const std::string_view name = s.substr(i + 1, semi - i - 1);
        bool done = false;
        if (name.size() >= 2 && name[0] == '#') {
            const bool hex = name[1] == 'x' || name[1] == 'X';
            uint32_t cp = 0;
            bool ok = name.size() > (hex ? 2u : 1u);
            for (size_t k = hex ? 2 : 1; k < name.size() && ok; ++k) {
                const char c = name[k];
                int v = -1;
                if (c >= '0' && c <= '9') v = c - '0';
                if (hex && c >= 'a' && c <= 'f') v = c - 'a' + 10;
                if (hex && c >= 'A' && c <= 'F') v = c - 'A' + 10;
                if (v < 0) ok = false;
                cp = cp * (hex ? 16 : 10) + (uint32_t)std::max(v, 0);
                if (cp > 0x10FFFF) ok = false;
            }
            if (ok && cp != 0) {
                append_utf8(out, cp);
                done = true;
            }
        } else {
            for (const auto& [n, cp] : kNamedEntities) {
                if (n == name) {
                    append_utf8(out, cp);
                    done = true;
                }
            }
        }
        if (done) {
            i = semi;
        } else {
            out += '&';
        }
    }
    return out;
}

std::string html_to_text(std::string_view html) {
    std::string text;
    size_t i = 0;
    while (i < html.size()) {
        if (html[i] != '<') {
            const size_t next = html.find('<', i);
            text.append(html.substr(i, next == std::string_view::npos ? html.size() - i : next - i));
            i = next == std::string_view::npos ? html.size() : next;
            continue;
        }
        if (html.substr(i, 4) == "<!--") {
            const size_t end = html.find("-->", i + 4);
            i = end == std::string_view::npos ? html.size() : end + 3;
            continue;
        }
        const size_t close = html.find('>', i);
        if (close == std::string_view::npos) break;
        std::string_view tag = html.substr(i + 1, close - i - 1);
        const bool closing = !tag.empty() && tag[0] == '/';
        if (closing) tag.remove_prefix(1);
        size_t name_end = 0;
        while (name_end < tag.size() && (std::isalnum((unsigned char)tag[name_end]) != 0)) {
            ++name_end;
        }
        const std::string name = lower(tag.substr(0, name_end));
        i = close + 1;
        if (!closing && (name == "script" || name == "style" || name == "head")) {
            // Their content is not text a reader sees (the title is not worth a special case).
            const std::string end_tag = "</" + name;
            size_t k = i;
            for (;;) {
                k = html.find("</", k);
                if (k == std::string_view::npos || lower(html.substr(k, end_tag.size())) == end_tag)
                    break;
                k += 2;
            }
            if (k == std::string_view::npos) {
                i = html.size();
            } else {
                const size_t gt = html.find('>', k);
                i = gt == std::string_view::npos ? html.size() : gt + 1;
            }
            continue;
        }
        if (std::find(kBlockTags.begin(), kBlockTags.end(), name) != kBlockTags.end()) {
            text += '\n';
        } else if (!name.empty()) {
            text += ' ';  // inline tags may separate words ("a<td>b")
        }
    }
    // Decode, then collapse runs of spaces in each line and runs of blank lines to one.
    const std::string decoded = decode_entities(text);
    std::string out;
    std::string line;
    int blank_run = 0;
    auto flush = [&] {
        const size_t b = line.find_first_not_of(' ');
        const size_t e = line.find_last_not_of(' ');
        if (b == std::string::npos) {
            if (++blank_run == 1 && !out.empty()) out += '\n';
        } else {
            blank_run = 0;
            out.append(line, b, e - b + 1);
            out += '\n';
        }
        line.clear();
    };
    for (char c : decoded) {
        if (c == '\n') {
            flush();
        } else if (c == ' ' || c == '\t' || c == '\r') {
            if (line.empty() || line.back() != ' ') line += ' ';
        } else {
            line += c;
        }
    }
    flush();
    while (!out.empty() && out.back() == '\n' && out.size() >= 2 && out[out.size() - 2] == '\n') {
        out.pop_back();
    }
    return out;
}

}  // namespace lokal::rag
