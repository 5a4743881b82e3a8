#include "tokenizer/vocab.h"

#include <algorithm>
#include <cctype>

#include "base/error.h"
#include "gguf/gguf_file.h"
#include "tokenizer/bpe_pretokenize.h"
#include "tokenizer/unicode.h"

namespace lokal::tokenizer {

namespace {

// GGUF token types (tokenizer.ggml.token_type).
enum GgufTokenType {
    kNormal = 1,
    kUnknown = 2,
    kControl = 3,
    kUserDefined = 4,
    kUnused = 5,
    kByte = 6
};

uint32_t attr_from_type(int64_t t) {
    switch (t) {
        case kNormal:
            return kAttrNormal;
        case kUnknown:
            return kAttrUnknown;
        case kControl:
            return kAttrControl;
        case kUserDefined:
            return kAttrUserDefined;
        case kUnused:
            return kAttrUnused;
        case kByte:
            return kAttrByte;
        default:
            return 0;  // undefined: rendered like a control token
    }
}

std::string merge_key(std::string_view left, std::string_view right) {
    std::string key;
    key.reserve(left.size() + right.size() + 1);
    key.append(left);
    key.push_back('\xFF');  // never part of valid UTF-8
    key.append(right);
    return key;
}

// Texts of tokens that end a turn or the text (matched when the GGUF names no eot/eom).
constexpr std::string_view kEotTexts[] = {
    "<|eot_id|>",      "<|im_end|>", "<|end|>", "<end_of_turn>",        "<|endoftext|>",
    "<|end_of_text|>", "<EOT>",      "_<EOT>",  "<｜end▁of▁sentence｜>"};
constexpr std::string_view kEogTexts[] = {"<|eot_id|>",
                                          "<|im_end|>",
                                          "<|end|>",
                                          "<|return|>",
                                          "<|call|>",
                                          "<end_of_turn>",
                                          "<|endoftext|>",
                                          "<|eom_id|>",
                                          "<EOT>",
                                          "_<EOT>",
                                          "<|end_of_text|>",
                                          "<end_of_utterance>",
                                          "<｜end▁of▁sentence｜>",
                                          "</s>"};

}  // namespace

int32_t Vocab::find(std::string_view s) const {
    const auto it = to_id.find(std::string(s));
    return it == to_id.end() ? -1 : it->second;
}

int32_t Vocab::rank(std::string_view left, std::string_view right) const {
    const auto it = merge_rank.find(merge_key(left, right));
    return it == merge_rank.end() ? -1 : it->second;
}

int32_t Vocab::byte_token(uint8_t byte) const {
    if (type == ModelType::Spm) {
        static constexpr char kHex[] = "0123456789ABCDEF";
        const char buf[7] = {'<', '0', 'x', kHex[byte >> 4], kHex[byte & 15], '>', 0};
        const int32_t id = find(buf);
        if (id >= 0) return id;
        return find(std::string(1, static_cast<char>(byte)));
    }
    return find(byte_to_unicode(byte));
}

Vocab Vocab::from_gguf(const gguf::File& f) {
    Vocab v;
    v.model = f.get_string("tokenizer.ggml.model").value_or("");
    v.pre = f.get_string("tokenizer.ggml.pre").value_or("");
    if (v.model.empty()) throw Error("tokenizer: the GGUF has no tokenizer.ggml.model");

    if (v.model == "llama") {
        v.type = ModelType::Spm;
        v.bos = 1, v.eos = 2, v.unk = 0;
        v.add_space_prefix = true;
        v.add_bos = true;
    } else if (v.model == "gpt2") {
        v.type = ModelType::Bpe;
        v.bos = 11, v.eos = 11;
        const PreTokenizerInfo info = pre_tokenizer_info(v.pre);
        if (!info.known) {
            throw Error("tokenizer: unsupported BPE pre-tokenizer '" + v.pre + "'");
        }
        v.clean_spaces = info.clean_spaces;
        v.ignore_merges = info.ignore_merges;
        v.add_bos = info.add_bos;
        v.add_sep = info.add_sep;
        if (info.no_bos) v.bos = -1;
    } else if (v.model == "bert") {
        v.type = ModelType::WordPiece;
        v.bos = 101, v.unk = 100, v.sep = 102, v.pad = 0;
        v.add_bos = true;
        v.add_sep = true;
        v.clean_spaces = true;
    } else {
        throw Error("tokenizer: unsupported tokenizer model '" + v.model +
                    "' (supported: llama, gpt2, bert)");
    }
    if (auto b = f.get_bool("tokenizer.ggml.add_space_prefix")) v.add_space_prefix = *b;

    const auto* tokens = f.get_string_array("tokenizer.ggml.tokens");
    if (!tokens || tokens->empty()) throw Error("tokenizer: the GGUF has no tokenizer.ggml.tokens");
    const size_t n = tokens->size();
    if (n > static_cast<size_t>(INT32_MAX)) throw Error("tokenizer: vocabulary too large");

    const std::vector<double> scores = f.get_float_array("tokenizer.ggml.scores");
    if (!scores.empty() && scores.size() < n) {
        throw Error("tokenizer: tokenizer.ggml.scores has fewer entries than tokens");
    }
    const auto* types = f.get_int_array("tokenizer.ggml.token_type");
    if (types && types->size() < n) {
        throw Error("tokenizer: tokenizer.ggml.token_type has fewer entries than tokens");
    }

    v.text.resize(n);
    v.score.assign(n, 0.0f);
    v.attr.assign(n, kAttrNormal);
    v.to_id.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        std::string word = (*tokens)[i];
        if (word.empty()) word = "[EMPTY_" + std::to_string(i) + "]";
        if (!v.to_id.emplace(word, static_cast<int32_t>(i)).second) {
            throw Error("tokenizer: duplicate token '" + word + "' in the vocabulary");
        }
        v.max_token_len = std::max(v.max_token_len, word.size());
        v.text[i] = std::move(word);
        if (!scores.empty()) v.score[i] = static_cast<float>(scores[i]);
        if (types) v.attr[i] = attr_from_type((*types)[i]);
    }

    if (v.type == ModelType::Bpe) {
        const auto* merges = f.get_string_array("tokenizer.ggml.merges");
        if (!merges) throw Error("tokenizer: BPE vocabulary without tokenizer.ggml.merges");
        v.merge_rank.reserve(merges->size());
        for (size_t i = 0; i < merges->size(); ++i) {
            const std::string& m = (*merges)[i];
            const size_t sp = m.find(' ', 1);
            if (sp == std::string::npos) continue;
            v.merge_rank.emplace(
                merge_key(std::string_view(m).substr(0, sp), std::string_view(m).substr(sp + 1)),
                static_cast<int32_t>(i));
        }
    }

    // Special ids: defaults that fall outside the vocabulary are dropped; GGUF values override.
    const auto special = [&](const char* key, int32_t& id) {
        if (!v.valid(id)) id = -1;
        if (auto x = f.get_int(key)) {
            if (*x >= 0 && *x < v.n_tokens()) id = static_cast<int32_t>(*x);
        }
    };
    special("tokenizer.ggml.bos_token_id", v.bos);
    if (v.type == ModelType::WordPiece) special("tokenizer.ggml.cls_token_id", v.bos);
    special("tokenizer.ggml.eos_token_id", v.eos);
    special("tokenizer.ggml.eot_token_id", v.eot);
    special("tokenizer.ggml.eom_token_id", v.eom);
    special("tokenizer.ggml.unknown_token_id", v.unk);
    special("tokenizer.ggml.seperator_token_id", v.sep);
    special("tokenizer.ggml.padding_token_id", v.pad);

    if (auto b = f.get_bool("tokenizer.ggml.add_bos_token")) v.add_bos = *b;
    if (auto b = f.get_bool("tokenizer.ggml.add_eos_token")) v.add_eos = *b;
    if (auto b = f.get_bool("tokenizer.ggml.add_sep_token")) v.add_sep = *b;
    if (v.add_bos && v.bos < 0) throw Error("tokenizer: add_bos_token is set but there is no BOS");
    if (v.add_eos && v.eos < 0) throw Error("tokenizer: add_eos_token is set but there is no EOS");

    if (v.type == ModelType::WordPiece) {
        v.lowercase = f.get_bool("tokenizer.ggml.normalizer.lowercase").value_or(true);
        v.strip_accents =
            f.get_bool("tokenizer.ggml.normalizer.strip_accents").value_or(v.lowercase);
    }

    // End of generation: eos/eot/eom and the tokens whose text says so, made control tokens even
    // where the vocabulary calls them user-defined (phi-3's "</s>"), as llama.cpp does: without
    // parse_special such text in a user's message then stays text.
    // The first of these texts present, in this order, is the end-of-turn token.
    for (std::string_view t : kEotTexts) {
        if (v.eot >= 0) break;
        v.eot = v.find(t);
    }
    if (v.eom < 0) v.eom = v.find("<|eom_id|>");
    const auto make_control = [&](int32_t id) {
        v.attr[id] = (v.attr[id] & ~kAttrUserDefined) | kAttrControl;
    };
    for (int32_t id : {v.eot, v.eom}) {
        if (id >= 0) make_control(id);
    }
    for (std::string_view t : kEogTexts) {
        const int32_t id = v.find(t);
        if (id < 0) continue;
        v.eog.insert(id);
        make_control(id);
    }
    for (int32_t id : {v.eos, v.eot, v.eom}) {
        if (id >= 0) v.eog.insert(id);
    }

    for (int32_t id = 0; id < v.n_tokens(); ++id) {
        if (v.attr[id] & (kAttrControl | kAttrUserDefined | kAttrUnknown))
            v.special_ids.push_back(id);
    }
    std::stable_sort(v.special_ids.begin(), v.special_ids.end(),
                     [&](int32_t a, int32_t b) { return v.text[a].size() > v.text[b].size(); });

    // Phi-3's special tokens swallow the whitespace after them (its tokenizer_config says rstrip).
    std::string name = f.get_string("general.name").value_or("");
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
        for (int32_t id : v.special_ids) v.attr[id] |= kAttrRStrip;
        const auto set = [&](const char* t, bool on) {
            const int32_t id = v.find(t);
            if (id < 0) return;
            if (on) {
                v.attr[id] |= kAttrRStrip;
            } else {
                v.attr[id] &= ~kAttrRStrip;
            }
        };
        set("</s>", true);
        for (const char* t : {"<unk>", "<s>", "<|endoftext|>"}) set(t, false);
    }
    return v;
}

}  // namespace lokal::tokenizer
