#include "tokenizer/unicode.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <array>
#include <cwctype>

#include <locale.h>

#include "base/error.h"

namespace lokal::tokenizer {

size_t utf8_len(char lead) {
    static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return kLen[static_cast<uint8_t>(lead) >> 4];
}

uint32_t utf8_decode(std::string_view s, size_t& pos) {
    const auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
    const uint8_t c0 = b(pos);
    if (c0 < 0x80) {
        pos += 1;
        return c0;
    }
    size_t n = 0;
    uint32_t cpt = 0;
    if ((c0 & 0xE0) == 0xC0) {
        n = 2;
        cpt = c0 & 0x1F;
    } else if ((c0 & 0xF0) == 0xE0) {
        n = 3;
        cpt = c0 & 0x0F;
    } else if ((c0 & 0xF8) == 0xF0) {
        n = 4;
        cpt = c0 & 0x07;
    } else {
        pos += 1;
        return kReplacementChar;
    }
    if (pos + n > s.size()) {
        pos += 1;
        return kReplacementChar;
    }
    for (size_t i = 1; i < n; ++i) {
        if ((b(pos + i) & 0xC0) != 0x80) {
            pos += 1;
            return kReplacementChar;
        }
        cpt = (cpt << 6) | (b(pos + i) & 0x3F);
    }
    pos += n;
    return cpt > 0x10FFFF ? kReplacementChar : cpt;
}

std::vector<uint32_t> utf8_to_cpts(std::string_view s) {
    std::vector<uint32_t> out;
    out.reserve(s.size());
    size_t pos = 0;
    while (pos < s.size()) out.push_back(utf8_decode(s, pos));
    return out;
}

void utf8_append(std::string& out, uint32_t cpt) {
    if (cpt > 0x10FFFF) cpt = kReplacementChar;
    if (cpt < 0x80) {
        out.push_back(static_cast<char>(cpt));
    } else if (cpt < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cpt >> 6)));
        out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
    } else if (cpt < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cpt >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cpt >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cpt >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
    }
}

std::string cpt_to_utf8(uint32_t cpt) {
    std::string s;
    utf8_append(s, cpt);
    return s;
}

size_t utf8_complete_prefix(std::string_view s) {
    // Look back at most 3 bytes for a lead byte whose sequence runs past the end.
    const size_t n = s.size();
    for (size_t back = 1; back <= 3 && back <= n; ++back) {
        const uint8_t c = static_cast<uint8_t>(s[n - back]);
        if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
        if (c >= 0xC0 && utf8_len(static_cast<char>(c)) > back) return n - back;
        break;
    }
    return n;
}

namespace {

struct ByteMap {
    std::array<std::string, 256> to_unicode;
    std::array<int16_t, 324> to_byte;  // code points 0..323 cover the whole image

    ByteMap() {
        to_byte.fill(-1);
        const auto printable = [](int b) {
            return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        };
        int next = 256;
        for (int b = 0; b < 256; ++b) {
            const int cpt = printable(b) ? b : next++;
            to_unicode[b] = cpt_to_utf8(static_cast<uint32_t>(cpt));
            to_byte[cpt] = static_cast<int16_t>(b);
        }
    }
};

const ByteMap& byte_map() {
    static const ByteMap m;
    return m;
}

}  // namespace

const std::string& byte_to_unicode(uint8_t byte) {
    return byte_map().to_unicode[byte];
}

int unicode_to_byte(uint32_t cpt) {
    return cpt < byte_map().to_byte.size() ? byte_map().to_byte[cpt] : -1;
}

bool is_whitespace(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

namespace {

// One anchored PCRE2 pattern whose capture groups name the class of a single character.
class Classifier {
  public:
    Classifier() {
        const char* pattern = "(\\p{M})|(\\p{P})|(\\p{S})|([\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}])";
        int err = 0;
        PCRE2_SIZE off = 0;
        code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED,
                              PCRE2_UTF | PCRE2_UCP | PCRE2_ANCHORED, &err, &off, nullptr);
        if (!code_) throw Error("tokenizer: cannot compile the character class pattern");
        pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE);
    }
    ~Classifier() { pcre2_code_free(code_); }

    CharClass classify(uint32_t cpt) const {
        if (cpt >= 0xD800 && cpt <= 0xDFFF) return CharClass::Control;  // surrogates: Cs
        const std::string s = cpt_to_utf8(cpt);
        pcre2_match_data* md = pcre2_match_data_create_from_pattern(code_, nullptr);
        const int rc =
            pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), 0, 0, md, nullptr);
        CharClass result = CharClass::Other;
        if (rc > 1) {
            static constexpr CharClass kByGroup[] = {CharClass::AccentMark, CharClass::Punctuation,
                                                     CharClass::Symbol, CharClass::Control};
            result = kByGroup[rc - 2];
        }
        pcre2_match_data_free(md);
        return result;
    }

  private:
    pcre2_code* code_ = nullptr;
};

struct NfdRange {
    uint32_t first, last, base;
};

constexpr NfdRange kNfd[] = {
#include "tokenizer/unicode_tables.inc"
};

}  // namespace

CharClass char_class(uint32_t cpt) {
    if (cpt < 0x80) {
        if (cpt < 0x20 || cpt == 0x7F) return CharClass::Control;
        if ((cpt >= '0' && cpt <= '9') || (cpt >= 'A' && cpt <= 'Z') ||
            (cpt >= 'a' && cpt <= 'z') || cpt == ' ') {
            return CharClass::Other;
        }
        switch (cpt) {
            case '$':
            case '+':
            case '<':
            case '=':
            case '>':
            case '^':
            case '`':
            case '|':
            case '~':
                return CharClass::Symbol;
            default:
                return CharClass::Punctuation;
        }
    }
    static const Classifier classifier;
    return classifier.classify(cpt);
}

uint32_t to_lower(uint32_t cpt) {
    if (cpt < 0x80) return (cpt >= 'A' && cpt <= 'Z') ? cpt + 32 : cpt;
    static const locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
    if (!loc) return cpt;
    return static_cast<uint32_t>(towlower_l(static_cast<wint_t>(cpt), loc));
}

uint32_t nfd_base(uint32_t cpt) {
    if (cpt < 0xC0) return cpt;
    const auto* end = std::end(kNfd);
    const auto* it = std::upper_bound(std::begin(kNfd), end, cpt,
                                      [](uint32_t c, const NfdRange& r) { return c < r.first; });
    if (it == std::begin(kNfd)) return cpt;
    --it;
    return cpt <= it->last ? it->base : cpt;
}

}  // namespace lokal::tokenizer
