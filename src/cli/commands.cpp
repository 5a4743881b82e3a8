// Argument parsing and dispatch for every `lokal` subcommand. Errors meant for the user are
// lokal::Error: printed as one line, exit code 1.
#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "base/error.h"
#include "cli/cmd_cache.h"
#include "cli/cmd_rag.h"
#include "cli/cmd_server_client.h"
#include "cli/cmd_quantize.h"
#include "cli/cmd_convert.h"
#include "cli/cmd_fit.h"
#include "cli/cmd_store.h"
#include "cli/options.h"
#include "kernels/cpu/kv_cache.h"
#include "server/request_options.h"
#include "server/server.h"

namespace lokal::cli {
namespace {

// A readable refusal for negative numbers (CLI11's NonNegativeNumber prints its upper bound).
const CLI::Validator kNotNegative(
    [](std::string& value) {
        try {
            return std::stod(value) < 0 ? "must not be negative" : std::string();
        } catch (const std::exception&) {
            return std::string("is not a number");
        }
    },
    "NONNEGATIVE");

// --keepalive: a duration as Ollama's keep_alive takes it ("5m", "30s", "1h30m", "-1", seconds).
const CLI::Validator kDuration(
    [](std::string& value) {
        try {
            server::parse_keep_alive(nlohmann::ordered_json{{"keep_alive", value}});
            return std::string();
        } catch (const std::exception&) {
            return "is not a duration (e.g. 5m, 30s, 1h, -1 for ever, or seconds): '" + value + "'";
        }
    },
    "DURATION");

}  // namespace

kernels::KvType kv_type_option(const std::string& name) {
    if (auto t = kernels::parse_kv_type(name)) return *t;
    throw Error("unknown KV cache type '" + name +
                "' (--cache-type, LOKAL_KV_CACHE_TYPE): use f16 (the default), q8_0 or f32");
}

namespace {

// --cache-type: the KV cache's element type. q8_0 halves its memory (at 8.5 bits per element,
// against 16) for a small loss of precision; f32 doubles it.
void add_cache_type_option(CLI::App* cmd, std::string& target) {
    cmd->add_option("--cache-type", target, "KV cache type: f16 (default), q8_0 or f32")
        ->check(CLI::Validator(
            [](std::string& v) {
                return kernels::parse_kv_type(v) ? std::string()
                                                 : "must be f16, q8_0 or f32, not '" + v + "'";
            },
            "f16|q8_0|f32", "cache type"));
}

// --draft-max: speculative decoding's longest guess (prompt lookup; the answer is unchanged).
void add_draft_max_option(CLI::App* cmd, int& target) {
    cmd->add_option("--draft-max", target,
                    "Speculative decoding: most tokens guessed ahead per step from earlier "
                    "text (0: off; the answer is the same either way)")
        ->check(CLI::Range(0, 62));
}

// --device: where models run (sets LOKAL_DEVICE for the whole process before any model loads).
void add_device_option(CLI::App* cmd, std::string& target) {
    cmd->add_option("--device", target,
                    "Where models run: auto (the best GPU, else the CPU), cpu, vulkan or "
                    "vulkan:N (env LOKAL_DEVICE; `lokal devices` lists them)")
        ->check(CLI::Validator(
            [](std::string& v) {
                const bool indexed = v.starts_with("vulkan:") && v.size() > 7 &&
                                     v.find_first_not_of("0123456789", 7) == std::string::npos;
                return v == "auto" || v == "cpu" || v == "vulkan" || indexed
                           ? std::string()
                           : "must be auto, cpu, vulkan or vulkan:N, not '" + v + "'";
            },
            "auto|cpu|vulkan|vulkan:N", "device"));
}

// --gpu-layers: how many layers go to the GPU (sets LOKAL_GPU_LAYERS for the process).
void add_gpu_layers_option(CLI::App* cmd, int& target) {
    cmd->add_option("--gpu-layers,--n-gpu-layers", target,
                    "Layers to run on the GPU, the rest on the CPU (-1: as many as fit; env "
                    "LOKAL_GPU_LAYERS; Ollama's num_gpu)")
        ->check(CLI::Range(-1, 1 << 20));
}

}  // namespace

int run(int argc, char** argv) {
    CLI::App app{"lokal — run large language models on your own machine"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "lokal 0.1.0");

    std::string device;   // --device on any command that loads a model
    int gpu_layers = -2;  // --gpu-layers; -2: not given
    bool no_prompt_cache = false;  // --no-prompt-cache on run and serve
    RunOptions run;
    auto* run_cmd = app.add_subcommand("run", "Generate text or chat with a model");
    run_cmd->add_option("model", run.model, "Model file (.gguf)")->required();
    run_cmd->add_option("-p,--prompt", run.prompt, "Prompt; without it, read stdin or chat");
    run_cmd->add_option("prompt_words", run.prompt_words,
                        "The prompt as words after the model (as `ollama run M why is the sky "
                        "blue`)");
    run_cmd->add_option("-n,--num-predict", run.n_predict,
                        "Maximum tokens to generate (-1: no limit)");
    run_cmd->add_option("--temperature,--temp", run.temperature, "Sampling temperature (0: greedy)")
        ->check(kNotNegative);
    run_cmd->add_option("--top-k", run.top_k, "Top-k sampling (0: off)")->check(kNotNegative);
    run_cmd->add_option("--top-p", run.top_p, "Nucleus sampling threshold (1: off)")
        ->check(CLI::Range(0.0, 1.0));
    run_cmd->add_option("--min-p", run.min_p, "Min-p sampling threshold (0: off)")
        ->check(CLI::Range(0.0, 1.0));
    run_cmd->add_option("--repeat-penalty", run.repeat_penalty, "Repetition penalty (1: off)");
    run_cmd->add_option("--seed", run.seed, "Random seed for reproducible sampling");
    run_cmd->add_option("-c,--ctx", run.n_ctx, "Context length in tokens (0: model default)")
        ->check(kNotNegative);
    run_cmd->add_option("-t,--threads", run.n_threads, "Threads (0: one per physical core)")
        ->check(kNotNegative);
    add_device_option(run_cmd, device);
    add_gpu_layers_option(run_cmd, gpu_layers);
    add_cache_type_option(run_cmd, run.cache_type);
    add_draft_max_option(run_cmd, run.draft_max);
    run_cmd->add_option("--draft", run.draft,
                        "Draft model (file or store name) for speculative decoding: a smaller "
                        "model with the same vocabulary guesses, this one checks");
    run_cmd->add_flag("--raw", run.raw, "Feed the prompt as plain text, no chat format");
    run_cmd->add_flag("-v,--verbose", run.verbose, "Print timings to stderr");
    run_cmd->add_flag("--no-prompt-cache", no_prompt_cache,
                      "Neither restore nor save KV snapshots (env LOKAL_CACHE=0)");
    run_cmd->add_option("--system", run.system, "System prompt for chat models");
    run_cmd->add_option("--stop", run.stop, "Stop generating at this string (repeatable)");
    run_cmd->add_option("--format", run.format,
                        "Structured output: json, or a JSON schema (a file or inline)");
    run_cmd->add_option("--grammar", run.grammar, "Constrain output to a GBNF grammar file");
    run_cmd->add_flag("--think{true}", run.think,
                      "Let a thinking model reason first, shown apart from the answer "
                      "(--think=false asks it not to; high/medium/low for effort levels)");
    run_cmd->add_flag("--hidethinking", run.hide_thinking,
                      "Think (as --think) but print only the answer");
    run_cmd->add_flag("--nowordwrap", run.no_word_wrap,
                      "Do not wrap long lines (accepted for Ollama's CLI; lokal never wraps)");
    run_cmd
        ->add_option("--keepalive", run.keep_alive,
                     "How long the model stays loaded after the run, as Ollama's (5m, 30s, "
                     "1h, -1); with a running lokal serve, how long it keeps the model; "
                     "in-process the model leaves with the process")
        ->check(kDuration);
    run_cmd->add_flag("--local", run.local,
                      "Load the model in this process even when a lokal serve is running (it is "
                      "used otherwise; --device, --draft, --threads, --cache-type, --raw, "
                      "--grammar, --logprobs, --verbose and model file paths always run here)");
    run_cmd->add_option("--logprobs", run.logprobs,
                        "Print each token's log-probability and the N most likely alternatives "
                        "to stderr (0: just the chosen token's)");

    TokenizeOptions tok;
    auto* tok_cmd = app.add_subcommand("tokenize", "Show how a model tokenizes text");
    tok_cmd->add_option("model", tok.model, "Model or vocab file (.gguf)")->required();
    tok_cmd->add_option("text", tok.text, "Text to tokenize");
    tok_cmd->add_option("--file", tok.file, "Read the text from a file");
    tok_cmd->add_flag("--ids", tok.ids, "Print only the ids, space separated, on one line");
    tok_cmd->add_flag("--no-bos", tok.no_bos, "Do not add BOS/EOS special tokens");
    tok_cmd->add_flag("--parse-special", tok.parse_special, "Match special tokens in the text");

    ShowOptions show;
    auto* show_cmd = app.add_subcommand("show", "Show a model's architecture and metadata");
    show_cmd->add_option("model", show.model, "Model file (.gguf) or stored model name")
        ->required();
    show_cmd->add_flag("--modelfile", show.modelfile, "Print a Modelfile that recreates the model");
    show_cmd->add_flag("--template", show.chat_template, "Print the model's chat template");
    show_cmd->add_flag("--system", show.system, "Print the stored system prompt");
    show_cmd->add_flag("--parameters", show.parameters, "Print the stored parameters");
    show_cmd->add_flag("--license", show.license, "Print the model's license");
    show_cmd->add_flag("-v,--verbose", show.verbose,
                       "Also print every metadata key and value and every tensor");

    LogitsOptions lg;
    auto* lg_cmd = app.add_subcommand("logits", "Evaluate tokens in one batch and print logits");
    lg_cmd->add_option("model", lg.model, "Model file (.gguf)")->required();
    lg_cmd->add_option("--text", lg.text, "Text to tokenize and evaluate");
    lg_cmd->add_option("--tokens", lg.tokens, "Token ids, e.g. \"1 2 3\"");
    lg_cmd->add_flag("--all-positions", lg.all_positions, "Logits at every position");
    lg_cmd->add_option("--top", lg.top, "Only the top K [id, logit] pairs per position");
    lg_cmd->add_flag("--json", lg.json, "JSON output (the only format)");
    lg_cmd->add_option("-t,--threads", lg.n_threads, "Threads (0: one per physical core)");
    add_device_option(lg_cmd, device);
    add_gpu_layers_option(lg_cmd, gpu_layers);
    lg_cmd->add_option("-c,--ctx", lg.n_ctx, "Context length (0: enough for the tokens)");

    auto* devices_cmd = app.add_subcommand(
        "devices", "List the CPU and the Vulkan GPUs, and which one LOKAL_DEVICE picks");

    BenchOptions bench;
    auto* bench_cmd = app.add_subcommand("bench", "Measure prompt and generation speed");
    bench_cmd->add_option("model", bench.model, "Model file (.gguf)")->required();
    bench_cmd->add_option("-p,--n-prompt", bench.n_prompt, "Prompt tokens (0: skip)");
    bench_cmd->add_option("-n,--n-gen", bench.n_gen, "Generated tokens (0: skip)");
    bench_cmd->add_option("-t,--threads", bench.n_threads, "Threads (0: one per physical core)");
    add_device_option(bench_cmd, device);
    add_gpu_layers_option(bench_cmd, gpu_layers);
    bench_cmd->add_option("-r,--repetitions", bench.reps, "Repetitions")
        ->check(CLI::Range(1, 1000));
    bench_cmd->add_flag("--json", bench.json, "JSON output");
    add_cache_type_option(bench_cmd, bench.cache_type);
    bench_cmd->add_option("-d,--n-depth", bench.depth, "Context tokens before each test")
        ->check(CLI::Range(0, 1 << 20));
    bench_cmd
        ->add_option("--parallel", bench.parallel,
                     "Also measure generation with N sequences batched together")
        ->check(CLI::Range(1, 256));

    PerplexityOptions ppl;
    auto* ppl_cmd = app.add_subcommand("perplexity", "Perplexity of a model on a text file");
    ppl_cmd->add_option("model", ppl.model, "Model file (.gguf)")->required();
    ppl_cmd->add_option("file", ppl.file, "Text file")->required();
    ppl_cmd->add_option("-c,--ctx", ppl.n_ctx, "Chunk (context) length in tokens");
    ppl_cmd->add_option("-t,--threads", ppl.n_threads, "Threads (0: one per physical core)");
    add_device_option(ppl_cmd, device);
    add_gpu_layers_option(ppl_cmd, gpu_layers);
    ppl_cmd->add_option("--chunks", ppl.max_chunks, "Score at most this many chunks");
    add_cache_type_option(ppl_cmd, ppl.cache_type);

    EmbedOptions emb;
    auto* emb_cmd = app.add_subcommand("embed", "Sentence embeddings from an embedding model");
    emb_cmd->add_option("model", emb.model, "Model file (.gguf)")->required();
    emb_cmd->add_option("texts", emb.texts, "Texts to embed")->required();
    emb_cmd->add_option("-t,--threads", emb.n_threads, "Threads (0: one per physical core)");
    add_device_option(emb_cmd, device);
    emb_cmd->add_option("--pooling", emb.pooling, "Decoder models: mean (default), last or cls");

    TemplateOptions tmpl;
    auto* tmpl_cmd = app.add_subcommand("template", "Chat template tools");
    auto* tmpl_render = tmpl_cmd->add_subcommand(
        "render", "Render a chat template as Hugging Face's apply_chat_template does");
    tmpl_render->add_option("template", tmpl.template_path, "Template file (.jinja)")->required();
    tmpl_render->add_option("-i,--input", tmpl.input_path,
                            "JSON case: messages, tools, add_generation_prompt, bos_token, "
                            "eos_token, now, extra variables (default: stdin)");
    tmpl_cmd->require_subcommand(1);

    server::ServerOptions srv;
    auto env = [](const char* name) -> std::string {
        const char* v = std::getenv(name);
        return v ? v : "";
    };
    std::string h = env("LOKAL_HOST");
    if (h.empty()) h = env("OLLAMA_HOST");  // a fallback, as the store's OLLAMA_MODELS
    for (const char* scheme : {"http://", "https://"}) {
        if (h.starts_with(scheme)) h = h.substr(std::string_view(scheme).size());
    }
    if (!h.empty()) {
        // host or host:port, as OLLAMA_HOST
        const auto colon = h.rfind(':');
        if (colon != std::string::npos && h.find(']') == std::string::npos) {
            srv.host = h.substr(0, colon);
            srv.port = std::atoi(h.c_str() + colon + 1);
        } else {
            srv.host = h;
        }
    }
    srv.api_key = env("LOKAL_API_KEY");
    srv.origins = env("LOKAL_ORIGINS");
    if (srv.origins.empty()) srv.origins = env("OLLAMA_ORIGINS");
    if (auto n = env("LOKAL_MAX_LOADED_MODELS"); !n.empty())
        srv.models.max_loaded = std::atoi(n.c_str());
    if (auto n = env("LOKAL_NUM_PARALLEL"); !n.empty())
        srv.models.n_parallel = std::atoi(n.c_str());
    auto* srv_cmd =
        app.add_subcommand("serve", "Serve models over Ollama- and OpenAI-compatible HTTP APIs");
    srv_cmd->add_option("--host", srv.host, "Address to listen on (env LOKAL_HOST, OLLAMA_HOST)");
    srv_cmd->add_option("--port", srv.port, "Port")->check(CLI::Range(0, 65535));
    srv_cmd
        ->add_option("--parallel", srv.models.n_parallel,
                     "Sequences evaluated together per model (env LOKAL_NUM_PARALLEL)")
        ->check(CLI::Range(1, 256));
    srv_cmd->add_option("--ctx", srv.models.n_ctx, "Default context per request, in tokens")
        ->check(CLI::Range(16, 1 << 20));
    srv_cmd->add_option("-t,--threads", srv.models.n_threads, "Threads (0: one per physical core)");
    add_device_option(srv_cmd, device);
    add_gpu_layers_option(srv_cmd, gpu_layers);
    std::string srv_cache_type = env("LOKAL_KV_CACHE_TYPE");  // as OLLAMA_KV_CACHE_TYPE
    if (srv_cache_type.empty()) srv_cache_type = "f16";
    add_cache_type_option(srv_cmd, srv_cache_type);
    add_draft_max_option(srv_cmd, srv.models.draft_max);
    srv_cmd->add_option("--draft", srv.models.draft,
                        "Draft model for speculative decoding, used for every model that shares "
                        "its vocabulary (the others guess by prompt lookup)");
    srv_cmd->add_option("--max-queue", srv.models.max_queue,
                        "Waiting requests per model before 503");
    srv_cmd->add_option("--api-key", srv.api_key, "Require this bearer key (env LOKAL_API_KEY)");
    srv_cmd->add_option("--tls-cert", srv.tls_cert, "PEM certificate: serve HTTPS");
    srv_cmd->add_option("--tls-key", srv.tls_key, "PEM private key for --tls-cert");
    srv_cmd->add_option("--max-body", srv.max_body_bytes, "Largest request body in bytes");
    srv_cmd->add_option("--embed-model", srv.embed_model,
                        "Embedding model for new vector stores (/v1/vector_stores) that name "
                        "none; default: the first embedding model in the store");
    srv_cmd->add_flag("-q,--quiet", srv.quiet, "No request log");
    srv_cmd->add_flag("--no-prompt-cache", no_prompt_cache,
                      "Neither restore nor save KV snapshots (env LOKAL_CACHE=0)");
    srv_cmd->add_flag("--metrics-public", srv.metrics_public,
                      "Serve /metrics without the API key (for a Prometheus scraper)");
    srv_cmd->add_flag("--allow-paths", srv.models.allow_paths,
                      "Let API clients name models (and Modelfile FROM/ADAPTER) by a file path "
                      "on this machine");

    // pull, list, rm, cp, create (cmd_store.cpp).
    auto run_store_command = add_store_commands(app, srv);
    // quantize (cmd_quantize.cpp).
    auto run_quantize_command = add_quantize_commands(app);
    auto run_convert_command = add_convert_command(app);
    auto run_fit_command = add_fit_command(app);  // cmd_fit.cpp
    // ps, stop: asking a running server (cmd_server_client.cpp).
    auto run_server_client_command = add_server_client_commands(app, srv);
    auto run_cache_command = add_cache_commands(app);  // cmd_cache.cpp
    auto run_rag_command = add_rag_commands(app);      // cmd_rag.cpp

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // CLI11 prints the message (or the help); a usage error exits 1 like every other error.
        return app.exit(e) == 0 ? 0 : 1;
    }
    if (!device.empty()) setenv("LOKAL_DEVICE", device.c_str(), 1);
    if (no_prompt_cache) setenv("LOKAL_CACHE", "0", 1);
    if (gpu_layers >= -1) setenv("LOKAL_GPU_LAYERS", std::to_string(gpu_layers).c_str(), 1);
    if (!run.prompt_words.empty()) {
        std::string words = run.prompt ? *run.prompt : std::string();
        for (const std::string& w : run.prompt_words) words += (words.empty() ? "" : " ") + w;
        run.prompt = words;
    }
    for (const char* name : {"--num-predict", "--temperature", "--top-k", "--top-p", "--min-p",
                             "--repeat-penalty", "--seed", "--ctx", "--system"}) {
        if (run_cmd->get_option(name)->count() > 0) run.given.insert(name);
    }
    for (const char* name : {"--device", "--gpu-layers", "--draft", "--draft-max", "--threads",
                             "--cache-type", "--raw", "--verbose", "--grammar", "--logprobs",
                             "--no-prompt-cache"}) {
        const CLI::Option* opt = run_cmd->get_option_no_throw(name);
        if (opt && opt->count() > 0) run.local = true;
    }
    // A file path is this machine's file, which a server may not see (or may refuse).
    if (run.model.ends_with(".gguf") || run.model.starts_with('/') || run.model.starts_with("./") ||
        run.model.starts_with("../") || std::filesystem::is_regular_file(run.model)) {
        run.local = true;
    }
    try {
        if (*run_cmd) return run_command(run, srv);
        if (*tok_cmd) return tokenize_command(tok);
        if (*show_cmd) return show_command(show);
        if (*lg_cmd) return logits_command(lg);
        if (*bench_cmd) return bench_command(bench);
        if (*devices_cmd) return devices_command();
        if (*ppl_cmd) return perplexity_command(ppl);
        if (*emb_cmd) return embed_command(emb);
        if (*srv_cmd) {
            srv.models.kv_type = kv_type_option(srv_cache_type);
            return server::serve(srv);
        }
        if (*tmpl_render) return template_render_command(tmpl);
        if (auto rc = run_store_command()) return *rc;
        if (auto rc = run_convert_command()) return *rc;
        if (auto rc = run_fit_command()) return *rc;
        if (auto rc = run_server_client_command()) return *rc;
        if (auto rc = run_cache_command()) return *rc;
        if (auto rc = run_rag_command()) return *rc;
        if (auto rc = run_quantize_command()) return *rc;
    } catch (const Error& e) {
        std::fprintf(stderr, "lokal: error: %s\n", e.what());
        return 1;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "lokal: error: out of memory\n");
        return 1;
    }
    return 1;
}

}  // namespace lokal::cli
