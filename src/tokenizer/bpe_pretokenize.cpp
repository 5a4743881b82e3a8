#include "tokenizer/bpe_pretokenize.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>

#include "base/error.h"
#include "tokenizer/unicode.h"

namespace lokal::tokenizer {

namespace {

// The regexes, as published with each model's tokenizer.json (case-insensitive contractions
// spelled out). `\s` means Unicode White_Space; see expand_whitespace().
constexpr const char* kGpt2 =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
constexpr const char* kLlama3 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
    "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kQwen2 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
    "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kTekken =
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?("
    "(?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*["
    "\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kGpt4o =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?:'["
    "sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}"
    "\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|"
    "'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kBloom = " ?[^(\\s|.,!?…。，、।۔،)]+";

struct PreSet {
    std::vector<std::string_view> names;
    std::vector<const char*> regexes;
    PreTokenizerInfo info;
};

PreTokenizerInfo flags(bool clean_spaces, bool ignore_merges = false, bool add_bos = false) {
    PreTokenizerInfo i;
    i.known = true;
    i.clean_spaces = clean_spaces;
    i.ignore_merges = ignore_merges;
    i.add_bos = add_bos;
    return i;
}

const std::vector<PreSet>& pre_sets() {
    static const std::vector<PreSet> sets = [] {
        std::vector<PreSet> s = {
            {{"", "default"},
             {"[\\p{P}\\$\\+<=>\\^~\\|]+", kGpt2, "\\p{N}+", "[0-9][0-9][0-9]"},
             flags(true)},
            {{"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0",
              "lfm2"},
             {kLlama3},
             flags(true, true, true)},
            {{"dbrx", "smaug-bpe"}, {kLlama3}, flags(true)},
            {{"deepseek-llm"},
             {"[\r\n]",
              "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}"
              "\\x{1C4}"
              "-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}\\x{37F}"
              "\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}"
              "\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-"
              "\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-"
              "\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-"
              "\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-"
              "\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}"
              "-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-"
              "\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-"
              "\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}"
              "\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}"
              "\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}"
              "-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-"
              "\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-"
              "\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-"
              "\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
              "\\s?[!-/"
              ":-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
              "\\s+$", "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+", "\\p{N}+"},
             flags(false)},
            {{"deepseek-coder"},
             {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+",
              "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+", "\\p{N}"},
             flags(false)},
            {{"deepseek-v3"},
             {"\\p{N}{1,3}", "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+",
              "[!\"#$%&'()*+,\\-./"
              ":;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}"
              "\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"},
             flags(false)},
            {{"falcon"}, {"[\\p{P}\\$\\+<=>\\^~\\|`]+", kGpt2, "[0-9][0-9][0-9]"}, flags(true)},
            {{"starcoder", "refact", "codeshell", "exaone", "minerva-7b"},
             {"\\p{N}", kGpt2},
             flags(true)},
            {{"command-r", "smollm"}, {"\\p{N}", kGpt2}, flags(false)},
            {{"gpt-2", "phi-2", "jina-es", "jina-de", "jina-v2-es", "jina-v2-de", "mpt", "olmo",
              "jais", "gigachat", "exaone4"},
             {kGpt2},
             flags(true)},
            {{"jina-v1-en", "jina-v2-code", "roberta-bpe"}, {kGpt2}, flags(true)},
            {{"qwen2", "deepseek-r1-qwen", "kormo"}, {kQwen2}, flags(false)},
            {{"stablelm2", "megrez"}, {kQwen2}, flags(true)},
            {{"poro-chat"}, {kBloom}, flags(false)},
            {{"bloom", "gpt3-finnish"}, {kBloom}, flags(true)},
            {{"viking"}, {kBloom, "\\p{N}"}, flags(false)},
            {{"chatglm-bpe", "glm4"}, {kLlama3}, flags(true)},
            {{"tekken"}, {kTekken}, flags(false, true, true)},
            {{"gpt-4o", "llama4"}, {kGpt4o}, flags(false)},
        };
        for (auto& set : s) {
            for (std::string_view n : set.names) {
                if (n == "jina-v1-en") set.info.add_sep = true;
                if (n == "chatglm-bpe") set.info.no_bos = true;
            }
        }
        return s;
    }();
    return sets;
}

const PreSet* find_set(std::string_view pre) {
    for (const PreSet& s : pre_sets()) {
        if (std::find(s.names.begin(), s.names.end(), pre) != s.names.end()) return &s;
    }
    return nullptr;
}

// White_Space, as a character-class body (llama.cpp's \s; PCRE2's UCP \s misses U+0085).
constexpr const char* kWhitespaceClass =
    "\\t\\n\\x0B\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}"
    "\\x{205F}\\x{3000}";

// Rewrites \s and \S into explicit White_Space classes.
std::string expand_whitespace(std::string_view re) {
    std::string out;
    bool in_class = false;
    for (size_t i = 0; i < re.size(); ++i) {
        const char c = re[i];
        if (c == '\\' && i + 1 < re.size()) {
            const char e = re[i + 1];
            ++i;
            if (e == 's') {
                out += in_class ? std::string(kWhitespaceClass)
                                : "[" + std::string(kWhitespaceClass) + "]";
            } else if (e == 'S' && !in_class) {
                out += "[^" + std::string(kWhitespaceClass) + "]";
            } else {
                out.push_back('\\');
                out.push_back(e);
            }
            continue;
        }
        if (c == '[' && !in_class) {
            in_class = true;
            out.push_back(c);
            if (i + 1 < re.size() && re[i + 1] == '^') out.push_back(re[++i]);
            if (i + 1 < re.size() && re[i + 1] == ']') out.push_back(re[++i]);  // literal ']'
            continue;
        }
        if (c == ']' && in_class) in_class = false;
        out.push_back(c);
    }
    return out;
}

struct Regex {
    pcre2_code* code = nullptr;
    ~Regex() { pcre2_code_free(code); }
};

}  // namespace

PreTokenizerInfo pre_tokenizer_info(std::string_view pre) {
    const PreSet* s = find_set(pre);
    return s ? s->info : PreTokenizerInfo{};
}

struct PreTokenizer::Impl {
    std::vector<std::unique_ptr<Regex>> regexes;
};

PreTokenizer::PreTokenizer(std::string_view pre) : impl_(std::make_unique<Impl>()) {
    const PreSet* set = find_set(pre);
    if (!set) throw Error("tokenizer: unsupported BPE pre-tokenizer '" + std::string(pre) + "'");
    for (const char* source : set->regexes) {
        const std::string pattern = expand_whitespace(source);
        int err = 0;
        PCRE2_SIZE err_off = 0;
        auto re = std::make_unique<Regex>();
        re->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                 PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY | PCRE2_NO_UTF_CHECK,
                                 &err, &err_off, nullptr);
        if (!re->code) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof(msg));
            throw Error("tokenizer: bad pre-tokenizer regex for '" + std::string(pre) +
                        "': " + reinterpret_cast<const char*>(msg));
        }
        pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
        impl_->regexes.push_back(std::move(re));
    }
}

PreTokenizer::~PreTokenizer() = default;

std::vector<std::string> PreTokenizer::split(std::string_view text) const {
    // Work on code points (bad UTF-8 becomes U+FFFD); the regexes see a valid UTF-8 copy in which
    // code points PCRE2 cannot take (surrogates) are U+FFFD.
    const std::vector<uint32_t> cpts = utf8_to_cpts(text);
    std::string subject;
    subject.reserve(text.size() + 8);
    std::vector<uint32_t> byte_of(cpts.size() + 1);
    for (size_t i = 0; i < cpts.size(); ++i) {
        byte_of[i] = static_cast<uint32_t>(subject.size());
        const uint32_t c = cpts[i];
        utf8_append(subject, (c >= 0xD800 && c <= 0xDFFF) ? kReplacementChar : c);
    }
    byte_of[cpts.size()] = static_cast<uint32_t>(subject.size());
    std::vector<uint32_t> cpt_at(subject.size() + 1, 0);
    for (size_t i = 0; i <= cpts.size(); ++i) cpt_at[byte_of[i]] = static_cast<uint32_t>(i);

    // Pieces as [begin, end) code point ranges.
    std::vector<std::pair<uint32_t, uint32_t>> pieces;
    if (!cpts.empty()) pieces.push_back({0, static_cast<uint32_t>(cpts.size())});

    pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
    std::vector<std::pair<uint32_t, uint32_t>> next;
    for (const auto& re : impl_->regexes) {
        next.clear();
        next.reserve(pieces.size() * 2);
        for (const auto& [pb, pe] : pieces) {
            const auto* seg = reinterpret_cast<PCRE2_SPTR>(subject.data() + byte_of[pb]);
            const size_t seg_len = byte_of[pe] - byte_of[pb];
            size_t pos = 0;   // bytes into the segment
            size_t last = 0;  // end of the previous match
            while (pos <= seg_len) {
                const int rc =
                    pcre2_match(re->code, seg, seg_len, pos, PCRE2_NO_UTF_CHECK, md, nullptr);
                if (rc < 0) break;
                const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
                const size_t ms = ov[0], me = ov[1];
                if (me == ms) {  // empty match: step one character and search on
                    if (ms >= seg_len) break;
                    pos = byte_of[cpt_at[byte_of[pb] + ms] + 1] - byte_of[pb];
                    continue;
                }
                if (ms > last) {
                    next.push_back({cpt_at[byte_of[pb] + last], cpt_at[byte_of[pb] + ms]});
                }
                next.push_back({cpt_at[byte_of[pb] + ms], cpt_at[byte_of[pb] + me]});
                last = pos = me;
            }
            if (last < seg_len) next.push_back({cpt_at[byte_of[pb] + last], pe});
        }
        pieces.swap(next);
    }
    pcre2_match_data_free(md);

    std::vector<std::string> words;
    words.reserve(pieces.size());
    std::string raw;
    for (const auto& [b, e] : pieces) {
        raw.clear();
        for (uint32_t i = b; i < e; ++i) utf8_append(raw, cpts[i]);
        std::string word;
        word.reserve(raw.size() * 2);
        for (char c : raw) word += byte_to_unicode(static_cast<uint8_t>(c));
        words.push_back(std::move(word));
    }
    return words;
}

}  // namespace lokal::tokenizer
