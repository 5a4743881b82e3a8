#include "tokenizer/tokenizer.h"

#include "base/error.h"
#include "tokenizer/bpe_pretokenize.h"
#include "tokenizer/encoders.h"
#include "tokenizer/special_split.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace lokal::tokenizer {

namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581, SentencePiece's space

std::string escape_spaces(std::string_view s) {
    std::string out;
    out.reserve(s.size() + s.size() / 4);
    for (char c : s) {
        if (c == ' ') {
            out.append(kSpaceMark);
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string unescape_spaces(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        if (s.substr(i, 3) == kSpaceMark) {
            out.push_back(' ');
            i += 3;
        } else {
            out.push_back(s[i++]);
        }
    }
    return out;
}

// GPT-2 alphabet back to bytes; characters outside it are kept as they are.
std::string unmap_bytes(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    size_t pos = 0;
    while (pos < s.size()) {
        const size_t start = pos;
        const uint32_t c = utf8_decode(s, pos);
        const int b = unicode_to_byte(c);
        if (b >= 0) {
            out.push_back(static_cast<char>(b));
        } else {
            out.append(s.substr(start, pos - start));
        }
    }
    return out;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// "<0xAB>" -> 0xAB, else -1.
int byte_of_token(std::string_view t) {
    if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return -1;
    const int hi = hex_digit(t[3]), lo = hex_digit(t[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

// clean_up_tokenization_spaces, as llama.cpp applies it.
std::string clean_spaces(const std::string& in) {
    std::string s;
    s.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {  // " ?" " !" " ." " ,"
        const char x = in[i];
        if (i > 0 && in[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) {
            s.pop_back();
        }
        s.push_back(x);
    }
    std::string t;
    t.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {  // " ' " -> "'"
        const char x = s[i];
        if (x == '\'' && i > 0 && i + 1 < s.size() && s[i - 1] == ' ' && s[i + 1] == ' ') {
            t.pop_back();
            t.push_back(x);
            ++i;
            continue;
        }
        t.push_back(x);
    }
    std::string u;
    u.reserve(t.size());
    for (size_t i = 0; i < t.size(); ++i) {  // " 's" " 'm" " 're" " 've"
        const char x = t[i];
        if (x == '\'' && i > 0 && t[i - 1] == ' ' && i + 1 < t.size()) {
            const char x1 = t[i + 1];
            const char x2 = i + 2 < t.size() ? t[i + 2] : '\0';
            if (x1 == 's' || x1 == 'm' || ((x1 == 'r' || x1 == 'v') && x2 == 'e')) u.pop_back();
        }
        u.push_back(x);
    }
    return u;
}

}  // namespace

Tokenizer::~Tokenizer() = default;

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const gguf::File& f) {
    std::unique_ptr<Tokenizer> t(new Tokenizer());
    t->vocab_ = std::make_unique<Vocab>(Vocab::from_gguf(f));
    if (t->vocab_->type == ModelType::Bpe) t->pre_ = std::make_unique<PreTokenizer>(t->vocab_->pre);
    return t;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
    const Vocab& v = *vocab_;
    std::vector<int32_t> out;
    const std::vector<Fragment> frags = split_special(v, text, parse_special);
    switch (v.type) {
        case ModelType::Spm: {
            if (add_special && v.add_bos) out.push_back(v.bos);
            bool prev_special = true;  // the text start counts as "after a special token"
            for (const Fragment& f : frags) {
                if (f.token >= 0) {
                    out.push_back(f.token);
                    prev_special = true;
                    continue;
                }
                std::string raw;
                if (v.add_space_prefix && prev_special) raw = " ";
                raw.append(f.text);
                spm_encode(v, escape_spaces(raw), out);
                prev_special = false;
            }
            if (add_special && v.add_eos) out.push_back(v.eos);
            break;
        }
        case ModelType::Bpe: {
            if (add_special && v.add_bos) out.push_back(v.bos);
            for (const Fragment& f : frags) {
                if (f.token >= 0) {
                    out.push_back(f.token);
                } else {
                    bpe_encode(v, *pre_, f.text, out);
                }
            }
            if (add_special && v.add_eos) out.push_back(v.eos);
            break;
        }
        case ModelType::WordPiece: {
            if (add_special && v.bos >= 0) out.push_back(v.bos);
            for (const Fragment& f : frags) {
                if (f.token >= 0) {
                    out.push_back(f.token);
                } else {
                    wordpiece_encode(v, f.text, out);
                }
            }
            if (add_special && v.sep >= 0) out.push_back(v.sep);
            break;
        }
    }
    return out;
}

std::string Tokenizer::token_to_piece(int32_t id, bool render_special) const {
    const Vocab& v = *vocab_;
    if (!v.valid(id)) return {};
    const uint32_t attr = v.attr[id];
    const std::string& text = v.text[id];
    if (attr & (kAttrControl | kAttrUnknown)) return render_special ? text : std::string();
    if (attr & kAttrUserDefined) return text;
    if (attr & kAttrByte) {
        const int b = byte_of_token(text);
        return b >= 0 ? std::string(1, static_cast<char>(b)) : std::string();
    }
    if (!(attr & kAttrNormal)) return {};
    return v.type == ModelType::Bpe ? unmap_bytes(text) : unescape_spaces(text);
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool render_special,
                              bool clean) const {
    std::string out;
    bool strip_space = vocab_->add_space_prefix;  // the space encode() put in front
    for (int32_t id : ids) {
        std::string piece = token_to_piece(id, render_special);
        if (piece.empty()) continue;
        if (strip_space && piece.front() == ' ') piece.erase(0, 1);
        strip_space = false;
        out += piece;
    }
    if (clean && vocab_->clean_spaces) out = clean_spaces(out);
    return out;
}

int32_t Tokenizer::n_vocab() const {
    return vocab_->n_tokens();
}
int32_t Tokenizer::bos() const {
    return vocab_->bos;
}
int32_t Tokenizer::eos() const {
    return vocab_->eos;
}
int32_t Tokenizer::eot() const {
    return vocab_->eot;
}
int32_t Tokenizer::unk() const {
    return vocab_->unk;
}
int32_t Tokenizer::sep() const {
    return vocab_->sep;
}
bool Tokenizer::add_bos() const {
    return vocab_->add_bos;
}
std::vector<int32_t> Tokenizer::encode_pair(std::string_view first, std::string_view second) const {
    const Vocab& v = *vocab_;
    const int32_t end = v.add_eos ? v.eos : (v.add_sep ? v.sep : -1);
    std::vector<int32_t> out;
    if (v.add_bos && v.bos >= 0) out.push_back(v.bos);
    for (int32_t t : encode(first, false, false)) out.push_back(t);
    if (end >= 0) out.push_back(end);
    if (v.add_eos && v.add_sep && v.sep >= 0) out.push_back(v.sep);
    for (int32_t t : encode(second, false, false)) out.push_back(t);
    if (end >= 0) out.push_back(end);
    return out;
}

bool Tokenizer::add_eos() const {
    return vocab_->add_eos;
}

bool Tokenizer::is_eog(int32_t id) const {
    return id >= 0 && vocab_->eog.count(id) > 0;
}

bool Tokenizer::is_control(int32_t id) const {
    return vocab_->valid(id) && (vocab_->attr[id] & (kAttrControl | kAttrUnknown));
}

std::optional<int32_t> Tokenizer::find_token(std::string_view text) const {
    const int32_t id = vocab_->find(text);
    if (id < 0) return std::nullopt;
    return id;
}

const std::string& Tokenizer::token_text(int32_t id) const {
    if (!vocab_->valid(id))
        throw Error("tokenizer: token id " + std::to_string(id) + " out of range");
    return vocab_->text[id];
}

std::string_view Tokenizer::model() const {
    return vocab_->model;
}
std::string_view Tokenizer::pre() const {
    return vocab_->pre;
}

}  // namespace lokal::tokenizer
