// Fill-in-the-middle (code completion at a cursor): the special tokens a code model was trained
// with, found in its vocabulary, and the prompt made of them: prefix, suffix, then the middle the
// model writes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lokal::tokenizer {
class Tokenizer;
}
namespace lokal::gguf {
class File;
}

namespace lokal::chat {

struct FimTokens {
    int32_t prefix = -1;
    int32_t suffix = -1;
    int32_t middle = -1;
};

// From the GGUF's tokenizer.ggml.fim_{pre,suf,mid}_token_id when given (`ids`), else by their
// text in the vocabulary: <|fim_prefix|> (Qwen2.5-Coder, CodeGemma), <fim_prefix> (StarCoder),
// <｜fim▁begin｜> (DeepSeek-Coder), ▁<PRE> (Code Llama). nullopt: the model cannot fill in.
std::optional<FimTokens> find_fim_tokens(const tokenizer::Tokenizer& tok,
                                         const FimTokens& ids = {});

// The FIM token ids a GGUF names (tokenizer.ggml.fim_pre/suf/mid_token_id); -1 where absent.
FimTokens fim_token_ids(const gguf::File& file);

// Whether a GGUF's vocabulary can fill in the middle, read from its header only (/api/show's
// "insert" capability).
bool gguf_can_fill_in_middle(const gguf::File& file);

// BOS (if the vocabulary adds one), prefix token, prefix text, suffix token, suffix text, middle
// token. The texts are code: special-token text in them stays text.
std::vector<int32_t> fim_prompt(const tokenizer::Tokenizer& tok, const FimTokens& fim,
                                std::string_view prefix, std::string_view suffix);

// Repository-level FIM (Qwen2.5-Coder): <|repo_name|> opens the context and <|file_sep|> starts
// each file of it.
struct FimRepoTokens {
    int32_t repo = -1;
    int32_t file_sep = -1;
};

// From tokenizer.ggml.fim_{rep,sep}_token_id, else by their text; nullopt when the vocabulary
// lacks either.
std::optional<FimRepoTokens> find_fim_repo_tokens(const tokenizer::Tokenizer& tok,
                                                  const gguf::File& file);

// A file of the project given as context for the code being completed.
struct FimContextFile {
    std::string filename;
    std::string text;
};

// What llama-server's /infill fills in: the prefix and suffix around the cursor, files of the
// project as context, and text that begins the middle.
struct InfillInput {
    std::string_view prefix;
    std::string_view suffix;
    std::string_view middle_start;
    std::span<const FimContextFile> context;
};

// fim_prompt with context and a started middle. With repository tokens the context is laid out
// as a repository (<|repo_name|>project, then <|file_sep|>name\ntext per file, then a
// <|file_sep|> for the file being edited); without them the files' texts are put before the
// prefix token as they are. `middle_start` follows the middle token.
std::vector<int32_t> infill_prompt(const tokenizer::Tokenizer& tok, const FimTokens& fim,
                                   const std::optional<FimRepoTokens>& repo,
                                   const InfillInput& in);

}  // namespace lokal::chat
