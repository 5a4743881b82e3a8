#include "convert/hf_vocab.h"

#include <array>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "base/error.h"
#include "convert/spm_model.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace lokal::convert {

namespace {

// GGUF token types.
constexpr int32_t kNormal = 1, kControl = 3, kUserDefined = 4, kUnused = 5;

json read_json(const fs::path& p, bool required) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) {
        if (required) throw Error("missing " + p.string(), ErrorKind::NotFound);
        return nullptr;
    }
    std::ifstream in(p);
    try {
        return json::parse(in);
    } catch (const json::exception& e) {
        throw Error(p.string() + " is not valid JSON (" + e.what() + ")");
    }
}

struct Token {
    std::string text;
    int32_t type = kUnused;
    float score = 0.0f;
    bool set = false;
};

// tokenizer_config's special tokens are strings or {"content": ...} objects.
std::optional<std::string> token_text(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string()) {
        return v["content"].get<std::string>();
    }
    return std::nullopt;
}

class VocabBuilder {
  public:
    explicit VocabBuilder(int64_t n) : tokens_(n) {}

    void put(int64_t id, std::string text, int32_t type, float score = 0.0f) {
        if (id < 0) throw Error("tokenizer: negative token id");
        if (id >= (int64_t)tokens_.size()) tokens_.resize(id + 1);
        tokens_[id] = Token{std::move(text), type, score, true};
    }
    // Added tokens: special ones are control tokens, the rest user-defined.
    void add_added_tokens(const json& added) {
        if (!added.is_array()) return;
        for (const json& a : added) {
            if (!a.is_object() || !a.contains("id") || !a.contains("content")) continue;
            const bool special = a.value("special", false);
            put(a["id"].get<int64_t>(), a["content"].get<std::string>(),
                special ? kControl : kUserDefined, 0.0f);
        }
    }
    int64_t find(const std::string& text) const {
        for (size_t i = 0; i < tokens_.size(); ++i) {
            if (tokens_[i].set && tokens_[i].text == text) return (int64_t)i;
        }
        return -1;
    }
    void write(gguf::Writer& w, bool with_scores) {
        std::vector<std::string> texts;
        std::vector<int32_t> types;
        std::vector<float> scores;
        for (size_t i = 0; i < tokens_.size(); ++i) {
            Token& t = tokens_[i];
            if (!t.set) t = Token{"[PAD" + std::to_string(i) + "]", kUnused, 0.0f, true};
            texts.push_back(t.text);
            types.push_back(t.type);
            scores.push_back(t.score);
        }
        w.set_string_array("tokenizer.ggml.tokens", std::move(texts));
        if (with_scores) w.set_f32_array("tokenizer.ggml.scores", scores);
        w.set_i32_array("tokenizer.ggml.token_type", types);
    }
    std::vector<Token>& tokens() { return tokens_; }

  private:
    std::vector<Token> tokens_;
};

void write_wordpiece(const HfFiles& hf, int64_t n_vocab, gguf::Writer& w) {
    const json& model = hf.tokenizer["model"];
    VocabBuilder v(n_vocab);
    for (const auto& [text, id] : model["vocab"].items()) v.put(id.get<int64_t>(), text, kNormal);
    v.add_added_tokens(hf.tokenizer.value("added_tokens", json::array()));
    // llama.cpp's WordPiece spelling: a word-initial piece gains U+2581, a continuation loses its
    // "##"; control tokens keep their text.
    for (Token& t : v.tokens()) {
        if (!t.set || t.type == kControl) continue;
        if (t.text.rfind("##", 0) == 0) {
            t.text.erase(0, 2);
        } else {
            t.text = "\xE2\x96\x81" + t.text;
        }
    }
    w.set_string("tokenizer.ggml.model", "bert");
    // llama.cpp names BERT's uncased WordPiece pre-tokenizer (whitespace and punctuation splits)
    // after the first model it met with it; WordPiece vocabularies ignore the name.
    const json norm = hf.tokenizer.value("normalizer", json());
    const bool lowercase = norm.is_object() && norm.value("lowercase", false);
    w.set_string("tokenizer.ggml.pre", lowercase ? "jina-v2-en" : "default");
    v.write(w, false);
    const int64_t type_count = hf.config.value("type_vocab_size", 1);
    w.set_u32("tokenizer.ggml.token_type_count", (uint32_t)type_count);
}

std::vector<std::string> bpe_merges(const json& model) {
    std::vector<std::string> merges;
    const json& m = model.value("merges", json::array());
    for (const json& e : m) {
        if (e.is_string()) {
            merges.push_back(e.get<std::string>());
        } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
            merges.push_back(e[0].get<std::string>() + " " + e[1].get<std::string>());
        } else {
            throw Error("tokenizer.json: a merge is neither \"a b\" nor [\"a\", \"b\"]");
        }
    }
    return merges;
}

void write_bpe(const HfFiles& hf, int64_t n_vocab, gguf::Writer& w) {
    const json& model = hf.tokenizer["model"];
    VocabBuilder v(n_vocab);
    const bool byte_fallback = model.value("byte_fallback", false);
    for (const auto& [text, id] : model["vocab"].items()) {
        const bool is_byte = byte_fallback && text.size() == 6 && text.rfind("<0x", 0) == 0;
        v.put(id.get<int64_t>(), text, is_byte ? 6 : kNormal);
    }
    v.add_added_tokens(hf.tokenizer.value("added_tokens", json::array()));
    if (byte_fallback) {
        // SentencePiece-style BPE without its tokenizer.model: pieces are stored best first, so
        // the id orders them as the scores would.
        for (size_t i = 0; i < v.tokens().size(); ++i) v.tokens()[i].score = -(float)i;
        w.set_string("tokenizer.ggml.model", "llama");
        w.set_string("tokenizer.ggml.pre", "default");
        v.write(w, true);
    } else {
        w.set_string("tokenizer.ggml.model", "gpt2");
        w.set_string("tokenizer.ggml.pre", detect_bpe_pre(hf.tokenizer));
        v.write(w, false);
    }
    w.set_string_array("tokenizer.ggml.merges", bpe_merges(model));
}

void write_spm(const HfFiles& hf, const SpmModel& spm, int64_t n_vocab, gguf::Writer& w) {
    VocabBuilder v(n_vocab);
    for (size_t i = 0; i < spm.pieces.size(); ++i) {
        const SpmPiece& p = spm.pieces[i];
        v.put((int64_t)i, p.text, p.type, p.score);
    }
    if (!hf.tokenizer.is_null()) {
        // Added tokens past the SentencePiece model (chat markers) come from tokenizer.json.
        for (const json& a : hf.tokenizer.value("added_tokens", json::array())) {
            const int64_t id = a.value("id", (int64_t)-1);
            if (id >= (int64_t)spm.pieces.size() || id < 0) continue;
            v.tokens()[id].type = a.value("special", false) ? kControl : kUserDefined;
        }
        json extra = json::array();
        for (const json& a : hf.tokenizer.value("added_tokens", json::array())) {
            if (a.value("id", (int64_t)-1) >= (int64_t)spm.pieces.size()) extra.push_back(a);
        }
        v.add_added_tokens(extra);
    }
    w.set_string("tokenizer.ggml.model", "llama");
    w.set_string("tokenizer.ggml.pre", "default");
    v.write(w, true);
    // Stated only when it is not the loaders' SentencePiece default (true), as llama.cpp's
    // converter does; tokenizer_config.json's add_prefix_space overrides the model's flag.
    const json& cfg = hf.tokenizer_config;
    const auto stated = cfg.is_object() ? cfg.find("add_prefix_space") : cfg.end();
    if (cfg.is_object() && stated != cfg.end() && stated->is_boolean()) {
        w.set_bool("tokenizer.ggml.add_space_prefix", stated->get<bool>());
    } else if (!spm.add_dummy_prefix) {
        w.set_bool("tokenizer.ggml.add_space_prefix", false);
    }
}

// The special token texts tokenizer_config.json names ("bos" -> "<s>"); a missing bos is the
// cls token and a missing eos the sep token, as BERT-style tokenizers state them.
std::map<std::string, std::string> special_texts(const HfFiles& hf) {
    std::map<std::string, std::string> t;
    if (!hf.tokenizer_config.is_object()) return t;
    for (const char* typ : {"bos", "eos", "unk", "sep", "pad", "cls", "mask"}) {
        const auto it = hf.tokenizer_config.find(std::string(typ) + "_token");
        if (it == hf.tokenizer_config.end()) continue;
        if (auto text = token_text(*it)) t[typ] = *text;
    }
    if (!hf.tokenizer.is_null()) {
        if (!t.count("bos") && t.count("cls")) t["bos"] = t["cls"];
        if (!t.count("eos") && t.count("sep")) t["eos"] = t["sep"];
    }
    return t;
}

std::string special_id_of(const json& item) {
    if (!item.is_object() || !item.contains("SpecialToken")) return "";
    return item["SpecialToken"].value("id", "");
}

// Whether the tokenizer adds bos / eos / sep around a text, from tokenizer.json's post-processor
// (its TemplateProcessing read for simple templates only).
std::map<std::string, bool> added_specials(const HfFiles& hf, std::map<std::string, std::string>& t) {
    std::map<std::string, bool> add;
    if (!hf.tokenizer.is_object()) return add;
    const json pp = hf.tokenizer.value("post_processor", json());
    if (!pp.is_object()) return add;
    const json procs = pp.contains("processors") ? pp["processors"] : json::array({pp});
    for (const json& p : procs) {
        const std::string type = p.is_object() ? p.value("type", "") : "";
        if (type == "ByteLevel") {
            add.emplace("bos", false);
            add.emplace("eos", false);
        } else if (type == "RobertaProcessing") {
            add["bos"] = add["eos"] = add["sep"] = true;
        } else if (type == "TemplateProcessing") {
            const json single = p.value("single", json::array());
            const json pair = p.value("pair", json::array());
            std::string first, last;
            if (!single.empty()) first = special_id_of(single.front());
            if (!single.empty()) last = special_id_of(single.back());
            if (!first.empty()) {
                if (!t.count("bos")) t["bos"] = first;
                if (!t.count("cls")) t["cls"] = first;
                add["bos"] = first == t["bos"] || first == t["cls"];
            }
            if (!last.empty()) {
                if (!t.count("eos")) t["eos"] = last;
                add["eos"] = last == t["eos"];
            }
            // The pair template between A and B: a separator when the single one ends bare.
            std::vector<json> middle(pair.begin(), pair.end());
            if (!first.empty() && !middle.empty() && special_id_of(middle.front()) == first) {
                middle.erase(middle.begin());
            }
            if (!last.empty() && !middle.empty() && special_id_of(middle.back()) == last) {
                middle.pop_back();
            }
            if (middle.size() >= 3) {
                const std::vector<json> inner(middle.begin() + 1, middle.end() - 1);
                bool add_sep = false;
                const auto is_sep = [&](const std::string& id) {
                    return !id.empty() && ((t.count("sep") && id == t["sep"]) ||
                                           (t.count("eos") && id == t["eos"]));
                };
                if (is_sep(special_id_of(inner[0])) && last.empty()) add_sep = true;
                if (inner.size() == 2 && is_sep(special_id_of(inner[1]))) add_sep = true;
                add["sep"] = add_sep;
            }
        }
    }
    return add;
}

// Special token ids (llama.cpp's converter's rules): texts from tokenizer_config.json looked up
// among the added tokens (then the whole vocabulary), then config.json's and
// generation_config.json's *_token_id fields for the ones still missing.
void write_special_ids(const HfFiles& hf, const std::vector<std::string>& texts, gguf::Writer& w) {
    struct Row {
        const char* hf;
        const char* gguf;
    };
    // cls is not written: llama.cpp reads a BERT model's [CLS] as its bos.
    constexpr std::array<Row, 6> kRows = {{{"bos", "bos_token_id"},
                                           {"eos", "eos_token_id"},
                                           {"unk", "unknown_token_id"},
                                           {"sep", "seperator_token_id"},
                                           {"pad", "padding_token_id"},
                                           {"mask", "mask_token_id"}}};
    std::map<std::string, std::string> t = special_texts(hf);
    std::map<std::string, bool> add = added_specials(hf, t);
    auto find_text = [&](const std::string& s) -> int64_t {
        if (hf.tokenizer.is_object()) {
            for (const json& a : hf.tokenizer.value("added_tokens", json::array())) {
                if (a.is_object() && a.value("content", "") == s) return a.value("id", (int64_t)-1);
            }
        }
        for (size_t i = 0; i < texts.size(); ++i) {
            if (texts[i] == s) return (int64_t)i;
        }
        return -1;
    };
    auto id_field = [&](const json& j, const std::string& key) -> std::optional<int64_t> {
        if (!j.is_object()) return std::nullopt;
        const json* v = j.contains(key) ? &j[key] : nullptr;
        if (!v && j.contains("text_config") && j["text_config"].contains(key)) {
            v = &j["text_config"][key];
        }
        if (!v) return std::nullopt;
        if (v->is_number_integer()) return v->get<int64_t>();
        if (v->is_array() && !v->empty() && (*v)[0].is_number_integer()) {
            return (*v)[0].get<int64_t>();
        }
        return std::nullopt;
    };
    for (const Row& r : kRows) {
        std::optional<int64_t> id;
        if (t.count(r.hf)) {
            const int64_t i = find_text(t[r.hf]);
            if (i >= 0) id = i;
        }
        const std::string id_key = std::string(r.hf) + "_token_id";
        if (!id) id = id_field(hf.config, id_key);
        if (!id) id = id_field(hf.generation_config, id_key);
        if (id && *id >= 0 && *id < (int64_t)texts.size()) {
            w.set_u32(std::string("tokenizer.ggml.") + r.gguf, (uint32_t)*id);
        }
    }
    for (const char* typ : {"bos", "eos", "sep"}) {
        const std::string flag = std::string("add_") + typ + "_token";
        if (!add.count(typ) && hf.tokenizer_config.is_object() &&
            hf.tokenizer_config.contains(flag) && hf.tokenizer_config[flag].is_boolean()) {
            add[typ] = hf.tokenizer_config[flag].get<bool>();
        }
    }
    for (const char* typ : {"bos", "eos", "sep"}) {
        if (add.count(typ)) w.set_bool(std::string("tokenizer.ggml.add_") + typ + "_token", add[typ]);
    }
}

// tokenizer.json's normalizer flags (lowercase, strip_accents), wherever the normalizer states them.
void write_normalizer(const json& n, gguf::Writer& w) {
    if (!n.is_object()) return;
    const std::string type = n.value("type", "");
    if (type == "Lowercase") w.set_bool("tokenizer.ggml.normalizer.lowercase", true);
    if (type == "StripAccents") w.set_bool("tokenizer.ggml.normalizer.strip_accents", true);
    if (type == "BertNormalizer") {
        for (const char* key : {"lowercase", "strip_accents"}) {
            if (n.contains(key) && n[key].is_boolean()) {
                w.set_bool(std::string("tokenizer.ggml.normalizer.") + key, n[key].get<bool>());
            }
        }
    }
    if (type == "Sequence") {
        for (const json& sub : n.value("normalizers", json::array())) write_normalizer(sub, w);
    }
}

// tokenizer_config.json's chat_template, else chat_template.jinja, else chat_template.json's.
void write_chat_template(const HfFiles& hf, gguf::Writer& w) {
    json tmpl;
    if (hf.tokenizer_config.is_object() && hf.tokenizer_config.contains("chat_template")) {
        tmpl = hf.tokenizer_config["chat_template"];
    } else if (std::ifstream in(hf.dir / "chat_template.jinja"); in) {
        std::stringstream ss;
        ss << in.rdbuf();
        tmpl = ss.str();
    } else {
        const json j = read_json(hf.dir / "chat_template.json", false);
        if (j.is_object() && j.contains("chat_template")) tmpl = j["chat_template"];
    }
    if (tmpl.is_string()) {
        w.set_string("tokenizer.chat_template", tmpl.get<std::string>());
        return;
    }
    // The list form: [{"name": "default", "template": ...}, {"name": "tool_use", ...}].
    if (!tmpl.is_array()) return;
    for (const json& e : tmpl) {
        if (!e.is_object() || !e.contains("name") || !e.contains("template")) continue;
        const std::string name = e["name"].get<std::string>();
        const std::string key =
            name == "default" ? "tokenizer.chat_template" : "tokenizer.chat_template." + name;
        w.set_string(key, e["template"].get<std::string>());
    }
}

}  // namespace

HfFiles HfFiles::read(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        throw Error("no such model folder '" + dir.string() + "'", ErrorKind::NotFound);
    }
    HfFiles f;
    f.dir = dir;
    f.config = read_json(dir / "config.json", true);
    if (!f.config.is_object()) throw Error((dir / "config.json").string() + " is not an object");
    f.tokenizer = read_json(dir / "tokenizer.json", false);
    f.tokenizer_config = read_json(dir / "tokenizer_config.json", false);
    f.generation_config = read_json(dir / "generation_config.json", false);
    return f;
}

std::string detect_bpe_pre(const json& tokenizer) {
    struct Known {
        const char* regex;
        const char* pre;
    };
    // Split regexes as Hugging Face tokenizers state them, and the name llama.cpp gives each.
    static const std::array<Known, 3> kKnown = {{
        {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
         "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
         "llama-bpe"},
        {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
         "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
         "qwen2"},
        {"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
         "gpt-2"},
    }};
    const json pre = tokenizer.value("pre_tokenizer", json());
    const json seq = pre.is_object() ? pre.value("pretokenizers", json::array()) : json::array();
    std::vector<const json*> parts;
    if (pre.is_object() && pre.value("type", "") == "Sequence" && seq.is_array()) {
        for (const json& p : seq) {
            if (p.is_object()) parts.push_back(&p);
        }
    } else if (pre.is_object()) {
        parts.push_back(&pre);
    }
    for (const json* p : parts) {
        if (p->value("type", "") != "Split") continue;
        const json& pat = p->value("pattern", json());
        const std::string regex = pat.is_object() ? pat.value("Regex", "") : "";
        for (const Known& k : kKnown) {
            if (regex == k.regex) return k.pre;
        }
        throw Error("tokenizer.json: unknown pre-tokenizer split regex '" + regex + "'",
                    ErrorKind::Unsupported);
    }
    for (const json* p : parts) {
        if (p->value("type", "") == "ByteLevel" && p->value("use_regex", true)) return "gpt-2";
    }
    throw Error("tokenizer.json: unknown pre-tokenizer", ErrorKind::Unsupported);
}

void write_vocab(const HfFiles& hf, int64_t n_vocab, gguf::Writer& w) {
    std::error_code ec;
    const fs::path spm_path = hf.dir / "tokenizer.model";
    const std::string type = hf.tokenizer.is_object() && hf.tokenizer.contains("model")
                                 ? hf.tokenizer["model"].value("type", "")
                                 : "";
    if (type == "WordPiece") {
        write_wordpiece(hf, n_vocab, w);
    } else if (fs::is_regular_file(spm_path, ec)) {
        write_spm(hf, read_spm_model(spm_path), n_vocab, w);
    } else if (type == "BPE") {
        write_bpe(hf, n_vocab, w);
    } else if (hf.tokenizer.is_null()) {
        throw Error("no tokenizer.json or tokenizer.model in " + hf.dir.string(),
                    ErrorKind::NotFound);
    } else {
        throw Error("tokenizer.json: unsupported tokenizer model type '" + type + "'",
                    ErrorKind::Unsupported);
    }
    if (hf.tokenizer.is_object()) write_normalizer(hf.tokenizer.value("normalizer", json()), w);
    write_special_ids(hf, w.find("tokenizer.ggml.tokens")->strings, w);
    write_chat_template(hf, w);
}

}  // namespace lokal::convert
