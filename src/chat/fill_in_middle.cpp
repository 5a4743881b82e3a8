#include "chat/fill_in_middle.h"

#include <algorithm>
#include <string>

#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace lokal::chat {

namespace {

struct FimSpelling {
    const char* prefix;
    const char* suffix;
    const char* middle;
};

constexpr FimSpelling kSpellings[] = {
    {"<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"},
    {"<fim_prefix>", "<fim_suffix>", "<fim_middle>"},
    {"<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"},
    {"▁<PRE>", "▁<SUF>", "▁<MID>"},
    {"<PRE>", "<SUF>", "<MID>"},
};

bool valid(const tokenizer::Tokenizer& tok, const FimTokens& f) {
    const int32_t n = tok.n_vocab();
    return f.prefix >= 0 && f.prefix < n && f.suffix >= 0 && f.suffix < n && f.middle >= 0 &&
           f.middle < n;
}

}  // namespace

std::optional<FimTokens> find_fim_tokens(const tokenizer::Tokenizer& tok, const FimTokens& ids) {
    if (valid(tok, ids)) return ids;
    for (const FimSpelling& s : kSpellings) {
        const auto p = tok.find_token(s.prefix), x = tok.find_token(s.suffix),
                   m = tok.find_token(s.middle);
        if (p && x && m) return FimTokens{*p, *x, *m};
    }
    return std::nullopt;
}

FimTokens fim_token_ids(const gguf::File& file) {
    auto id = [&](const char* key) { return (int32_t)file.get_int(key).value_or(-1); };
    return {id("tokenizer.ggml.fim_pre_token_id"), id("tokenizer.ggml.fim_suf_token_id"),
            id("tokenizer.ggml.fim_mid_token_id")};
}

bool gguf_can_fill_in_middle(const gguf::File& file) {
    const FimTokens ids = fim_token_ids(file);
    if (ids.prefix >= 0 && ids.suffix >= 0 && ids.middle >= 0) return true;
    const auto tokens = file.get_string_array("tokenizer.ggml.tokens");
    if (!tokens) return false;
    auto has = [&](const char* t) {
        return std::find(tokens->begin(), tokens->end(), std::string(t)) != tokens->end();
    };
    return std::any_of(std::begin(kSpellings), std::end(kSpellings), [&](const FimSpelling& s) {
        return has(s.prefix) && has(s.suffix) && has(s.middle);
    });
}

std::vector<int32_t> fim_prompt(const tokenizer::Tokenizer& tok, const FimTokens& fim,
                                std::string_view prefix, std::string_view suffix) {
    std::vector<int32_t> out;
    if (tok.add_bos() && tok.bos() >= 0) out.push_back(tok.bos());
    out.push_back(fim.prefix);
    for (int32_t t : tok.encode(prefix, false, false)) out.push_back(t);
    out.push_back(fim.suffix);
    for (int32_t t : tok.encode(suffix, false, false)) out.push_back(t);
    out.push_back(fim.middle);
    return out;
}

std::optional<FimRepoTokens> find_fim_repo_tokens(const tokenizer::Tokenizer& tok,
                                                  const gguf::File& file) {
    const int32_t n = tok.n_vocab();
    auto id = [&](const char* key, const char* text) -> int32_t {
        const int64_t v = file.get_int(key).value_or(-1);
        if (v >= 0 && v < n) return (int32_t)v;
        return tok.find_token(text).value_or(-1);
    };
    const FimRepoTokens r{id("tokenizer.ggml.fim_rep_token_id", "<|repo_name|>"),
                          id("tokenizer.ggml.fim_sep_token_id", "<|file_sep|>")};
    if (r.repo < 0 || r.file_sep < 0) return std::nullopt;
    return r;
}

std::vector<int32_t> infill_prompt(const tokenizer::Tokenizer& tok, const FimTokens& fim,
                                   const std::optional<FimRepoTokens>& repo,
                                   const InfillInput& in) {
    std::vector<int32_t> out;
    auto text = [&](std::string_view s) {
        for (int32_t t : tok.encode(s, false, false)) out.push_back(t);
    };
    if (tok.add_bos() && tok.bos() >= 0) out.push_back(tok.bos());
    if (!in.context.empty()) {
        if (repo) {
            // The names follow llama-server's layout, so a model sees the same prompt there.
            out.push_back(repo->repo);
            text("myproject\n");
            for (const FimContextFile& f : in.context) {
                out.push_back(repo->file_sep);
                text(f.filename + "\n" + f.text);
            }
            out.push_back(repo->file_sep);
            text("filename\n");
        } else {
            for (const FimContextFile& f : in.context) text(f.text);
        }
    }
    out.push_back(fim.prefix);
    text(in.prefix);
    out.push_back(fim.suffix);
    text(in.suffix);
    out.push_back(fim.middle);
    text(in.middle_start);
    return out;
}

}  // namespace lokal::chat
