// Options of each CLI command, filled by the argument parser in commands.cpp, and the functions
// that run them. Each returns the process exit code; user errors are thrown as lokal::Error.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "server/server.h"

namespace lokal::kernels {
enum class KvType;
}

namespace lokal::cli {

// The KV cache type a --cache-type value names (f16, q8_0, f32); throws lokal::Error otherwise.
kernels::KvType kv_type_option(const std::string& name);

// The whole of a text file (tokenize --file, perplexity); throws lokal::Error naming the path.
std::string read_text_file(const std::string& path);

struct RunOptions {
    std::string model;
    std::optional<std::string> prompt;      // -p; else stdin when it is not a terminal; else chat
    std::vector<std::string> prompt_words;  // words after the model, joined into the prompt
    int n_predict = -1;                     // -1: until end of generation or the context is full
    float temperature = 0.8f;
    int top_k = 40;
    float top_p = 0.9f;
    float min_p = 0.0f;
    float repeat_penalty = 1.0f;  // off, as in llama.cpp; greedy output is then pure argmax
    std::optional<uint64_t> seed;
    int n_ctx = 0;
    int n_threads = 0;
    std::string cache_type = "f16";  // KV cache: f16, q8_0 or f32
    int draft_max = 16;              // speculative decoding: most tokens guessed ahead (0: off)
    std::string draft;               // --draft: a draft model guessing instead of prompt lookup
    bool raw = false;
    bool verbose = false;
    std::string system;
    std::vector<std::string> stop;
    std::optional<std::string> format;   // json, a JSON schema file, or an inline schema
    std::optional<std::string> grammar;  // a GBNF grammar file
    int logprobs = -1;                   // -1: none; 0: the chosen tokens'; n: also the top n
    std::string think;                   // --think: "true", "false", or an effort; empty: not given
    bool hide_thinking = false;          // --hidethinking: think, but print only the answer
    bool no_word_wrap = false;           // --nowordwrap: accepted; lokal does not wrap
    std::string keep_alive;              // --keepalive: checked; run loads in-process
    // A stored model's MESSAGEs (role, content): the conversation the chat starts from.
    std::vector<std::pair<std::string, std::string>> history;
    // --local, or an option only the in-process path has (--device, --draft, --threads,
    // --cache-type, --verbose, --raw, --grammar, --logprobs, a model file path, ...): no server.
    bool local = false;
    // Options the user gave on the command line; a stored model's Modelfile PARAMETERs fill in
    // the others.
    std::set<std::string> given;
};

struct TokenizeOptions {
    std::string model;
    std::optional<std::string> text;
    std::optional<std::string> file;
    bool ids = false;
    bool no_bos = false;
    bool parse_special = false;
};

struct ShowOptions {
    std::string model;
    bool modelfile = false;      // print a Modelfile that recreates a stored model
    bool chat_template = false;  // print the model's chat template (tokenizer.chat_template)
    bool system = false;         // print the stored SYSTEM
    bool parameters = false;     // print the stored PARAMETERs
    bool license = false;        // print the license (stored, else the GGUF's)
    bool verbose = false;        // also every metadata key and every tensor
};

struct LogitsOptions {
    std::string model;
    std::optional<std::string> text;
    std::optional<std::string> tokens;
    bool all_positions = false;
    int top = 0;
    bool json = false;
    int n_threads = 0;
    int n_ctx = 0;
};

// Talks to the `lokal serve` at `srv`'s address when one answers and `o.local` is not set;
// otherwise loads the model in this process.
int run_command(const RunOptions& o, const server::ServerOptions& srv);
int tokenize_command(const TokenizeOptions& o);
int show_command(const ShowOptions& o);
int logits_command(const LogitsOptions& o);

}  // namespace lokal::cli

namespace lokal::cli {

struct BenchOptions {
    std::string model;
    int n_prompt = 512;
    int n_gen = 128;
    int n_threads = 0;
    int reps = 5;
    int parallel = 1;  // > 1: also generation with this many sequences decoded together
    int depth = 0;     // tokens already in the context when each test starts
    std::string cache_type = "f16";
    bool json = false;
};

struct PerplexityOptions {
    std::string model;
    std::string file;
    int n_ctx = 512;
    int n_threads = 0;
    int max_chunks = -1;
    std::string cache_type = "f16";
};

int bench_command(const BenchOptions& o);
int perplexity_command(const PerplexityOptions& o);

}  // namespace lokal::cli

namespace lokal::cli {

struct EmbedOptions {
    std::string model;
    std::vector<std::string> texts;
    int n_threads = 0;
    std::string pooling;  // decoder models: mean (default), last or cls
};

int embed_command(const EmbedOptions& o);

struct TemplateOptions {
    std::string template_path;
    std::string input_path;  // empty or "-": stdin
};
int template_render_command(const TemplateOptions& o);

// `lokal devices`: the CPU and the Vulkan devices, and which one LOKAL_DEVICE picks.
int devices_command();

}  // namespace lokal::cli
