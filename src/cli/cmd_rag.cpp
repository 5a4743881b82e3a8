#include "cli/cmd_rag.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/error.h"
#include "cli/options.h"
#include "rag/indexer.h"
#include "rag/knowledge_base.h"
#include "rag/model_embedder.h"
#include "rag/model_reranker.h"
#include "rag/rag_prompt.h"
#include "rag/search.h"
#include "rag/vector_index.h"
#include "store/store.h"

namespace lokal::cli {
namespace fs = std::filesystem;
namespace {

struct RagOptions {
    std::string dir;
    std::string name;
    std::string embed;
    std::string query;
    std::string mode = "hybrid";
    std::string rerank;  // a reranker model: the second stage, over rerank_candidates hits
    int rerank_candidates = 0;
    std::string model = "gemma3:270m";
    int k = 5;
    int n_threads = 2;
    int max_file_mb = 20;
    int chunk_chars = 400;
    bool json = false;
    bool show_prompt = false;
    int n_predict = -1;
    float temperature = 0.2f;
    std::optional<uint64_t> seed;
};

fs::path rag_dir() {
    if (const char* env = std::getenv("LOKAL_RAG_DIR"); env && *env) return env;
    return store::Store::default_root().parent_path() / "rag";
}

void check_name(const std::string& name) {
    const bool ok = !name.empty() && name.size() <= 128 && name[0] != '.' &&
                    name.find_first_not_of(
                        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789._-") == std::string::npos;
    if (!ok) throw Error("'" + name + "' is not a knowledge base name (letters, digits, . _ -)");
}

fs::path kb_path(const std::string& name) {
    check_name(name);
    return rag_dir() / (name + ".sqlite");
}

// The HNSW graph beside the knowledge base (used from VectorIndexOptions' min_chunks on).
rag::VectorIndexOptions vector_options(const std::string& name) {
    rag::VectorIndexOptions v;
    v.graph_file = (rag_dir() / (name + ".hnsw")).string();
    return v;
}

// An existing knowledge base; NotFound otherwise.
std::unique_ptr<rag::KnowledgeBase> open_existing(const std::string& name) {
    const fs::path p = kb_path(name);
    if (!fs::exists(p)) {
        throw Error("no knowledge base '" + name + "' (make one with lokal rag index)",
                    ErrorKind::NotFound);
    }
    return std::make_unique<rag::KnowledgeBase>(p.string());
}

std::string model_reference(const std::string& given) {
    std::error_code ec;
    if (fs::is_regular_file(given, ec)) return fs::absolute(given).lexically_normal().string();
    return given;
}

int index_command(const RagOptions& o) {
    const fs::path root = fs::absolute(o.dir).lexically_normal();
    std::string name = o.name;
    if (name.empty())
        name = root.filename().empty() ? root.parent_path().filename() : root.filename();
    const fs::path path = kb_path(name);
    fs::create_directories(path.parent_path());
    rag::KnowledgeBase kb(path.string());
    const std::optional<std::string> stored_model = kb.meta("embed_model");
    std::string model = o.embed.empty() ? stored_model.value_or("") : model_reference(o.embed);
    if (model.empty())
        throw Error("give an embedding model with --embed (a .gguf or a store name)");
    if (stored_model && *stored_model != model) {
        throw Error("knowledge base '" + name + "' was built with " + *stored_model +
                    "; index with that model, or lokal rag rm it first");
    }
    if (const auto r = kb.meta("root"); r && *r != root.string()) {
        throw Error("knowledge base '" + name + "' indexes " + *r + "; choose another --name");
    }
    rag::ModelEmbedder embedder(model, o.n_threads);
    kb.set_meta("root", root.string());
    kb.set_meta("embed_model", model);
    kb.set_meta("dim", std::to_string(embedder.dim()));

    rag::IndexOptions io;
    io.walk.max_file_bytes = (uint64_t)o.max_file_mb << 20;
    io.chunk.max_chars = (size_t)o.chunk_chars;
    const bool tty = isatty(STDERR_FILENO) != 0;
    const rag::IndexStats s =
        rag::index_folder(kb, root, embedder, io, [&](const rag::IndexProgress& p) {
            if (!tty) return;
            std::fprintf(stderr, "\rindexing: %zu/%zu files, %zu chunks, %.1f chunks/s   ",
                         p.files_done, p.files_total, p.chunks_embedded,
                         p.seconds > 0 ? (double)p.chunks_embedded / p.seconds : 0.0);
        });
    if (tty) std::fprintf(stderr, "\n");
    for (const rag::Skip& sk : s.skipped) {
        std::fprintf(stderr, "skipped %s: %s\n", sk.path.c_str(), sk.reason.c_str());
    }
    if (s.files_indexed > 0 || s.files_removed > 0 ||
        !fs::exists(vector_options(name).graph_file)) {
        if (rag::rebuild_vector_index(kb, vector_options(name))) {
            std::fprintf(stderr, "built the HNSW graph of %lld vectors\n",
                         (long long)kb.chunk_count());
        }
    }
    std::fprintf(
        stderr,
        "indexed %s into '%s': %zu files (%zu new or changed, %zu unchanged, %zu removed, "
        "%zu skipped), %zu chunks embedded in %.1f s (%.1f chunks/s); %lld chunks in all\n",
        root.c_str(), name.c_str(), s.files_seen, s.files_indexed, s.files_unchanged,
        s.files_removed, s.skipped.size(), s.chunks_embedded, s.seconds,
        s.seconds > 0 ? (double)s.chunks_embedded / s.seconds : 0.0, (long long)kb.chunk_count());
    return 0;
}

std::vector<rag::Hit> retrieve(rag::KnowledgeBase& kb, const RagOptions& o) {
    const rag::SearchMode mode = rag::search_mode(o.mode);
    std::vector<float> qv;
    if (mode != rag::SearchMode::Bm25) {
        const auto model = kb.meta("embed_model");
        if (!model) throw Error("the knowledge base has no embedding model; index it again");
        rag::ModelEmbedder embedder(*model, o.n_threads);
        qv = embedder.embed({o.query}).front();
    }
    if (o.rerank.empty()) return rag::search(kb, qv, o.query, o.k, mode, vector_options(o.name));
    // The reranker reads more candidates than are kept, so it can lift a chunk the first stage
    // placed below k.
    const int candidates = o.rerank_candidates > 0 ? o.rerank_candidates : std::max(20, 4 * o.k);
    rag::ModelReranker reranker(model_reference(o.rerank), o.n_threads);
    return reranker.rerank(
        o.query,
        rag::search(kb, qv, o.query, std::max(candidates, o.k), mode, vector_options(o.name)), o.k);
}

int search_command(const RagOptions& o) {
    auto kb = open_existing(o.name);
    const std::vector<rag::Hit> hits = retrieve(*kb, o);
    if (o.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const rag::Hit& h : hits) {
            out.push_back({{"path", h.chunk.path},
                           {"start_line", h.chunk.start_line},
                           {"end_line", h.chunk.end_line},
                           {"page", h.chunk.page},
                           {"score", h.score},
                           {"vector_rank", h.vector_rank},
                           {"bm25_rank", h.bm25_rank},
                           {"text", h.chunk.text}});
        }
        std::printf("%s\n", out.dump(2).c_str());
        return 0;
    }
    for (size_t i = 0; i < hits.size(); ++i) {
        const rag::Hit& h = hits[i];
        std::printf("[%zu] %s (score %.4f)\n%s\n\n", i + 1, rag::citation(h.chunk).c_str(), h.score,
                    h.chunk.text.c_str());
    }
    return 0;
}

int ask_command(const RagOptions& o) {
    auto kb = open_existing(o.name);
    const std::vector<rag::Hit> hits = retrieve(*kb, o);
    RunOptions run;
    run.model = o.model;
    run.prompt = rag::answer_prompt(o.query, hits);
    run.n_predict = o.n_predict;
    run.temperature = o.temperature;
    run.seed = o.seed;
    run.n_threads = o.n_threads;
    run.given = {"--temperature", "--num-predict"};
    if (o.seed) run.given.insert("--seed");
    if (o.show_prompt)
        std::fprintf(stderr, "--- prompt ---\n%s\n--- end of prompt ---\n", run.prompt->c_str());
    run.local = true;  // as before: the answer comes from this process
    const int rc = run_command(run, server::ServerOptions{});
    std::fflush(stdout);
    std::printf("\nSources:\n");
    for (size_t i = 0; i < hits.size(); ++i) {
        std::printf("[%zu] %s\n", i + 1, rag::citation(hits[i].chunk).c_str());
    }
    return rc;
}

int ls_command() {
    const fs::path dir = rag_dir();
    std::printf("%-24s %8s %8s  %s\n", "NAME", "FILES", "CHUNKS", "FOLDER (EMBEDDING MODEL)");
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return 0;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (e.path().extension() == ".sqlite") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& p : files) {
        rag::KnowledgeBase kb(p.string());
        std::printf("%-24s %8zu %8lld  %s (%s)\n", p.stem().c_str(), kb.files().size(),
                    (long long)kb.chunk_count(), kb.meta("root").value_or("?").c_str(),
                    kb.meta("embed_model").value_or("?").c_str());
    }
    return 0;
}

int rm_command(const RagOptions& o) {
    const fs::path p = kb_path(o.name);
    if (!fs::exists(p)) throw Error("no knowledge base '" + o.name + "'", ErrorKind::NotFound);
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(p.string() + suffix);
    fs::remove(vector_options(o.name).graph_file);
    std::printf("deleted '%s'\n", o.name.c_str());
    return 0;
}

}  // namespace

std::function<std::optional<int>()> add_rag_commands(CLI::App& app) {
    auto o = std::make_shared<RagOptions>();
    auto* rag = app.add_subcommand("rag", "Local retrieval-augmented generation over a folder");
    rag->require_subcommand(1);
    auto threads = [&](CLI::App* c) {
        c->add_option("-t,--threads", o->n_threads, "Threads for the embedding model")
            ->check(CLI::Range(0, 1024));
    };
    auto* index = rag->add_subcommand("index", "Index (or update the index of) a folder");
    index->add_option("dir", o->dir, "Folder")->required();
    index->add_option("--name", o->name, "Knowledge base name (default: the folder's name)");
    index->add_option("--embed", o->embed,
                      "Embedding model: a .gguf or a store name (default: the one the knowledge "
                      "base was built with)");
    index->add_option("--max-file-mb", o->max_file_mb, "Skip files larger than this")
        ->check(CLI::Range(1, 1 << 20));
    // Small encoders (MiniLM: 256 tokens) embed a passage of a few sentences best.
    index->add_option("--chunk-chars", o->chunk_chars, "Largest chunk, in characters (default 400)")
        ->check(CLI::Range(100, 1 << 20));
    threads(index);
    auto add_query = [&](CLI::App* c, const char* what) {
        c->add_option("kb", o->name, "Knowledge base")->required();
        c->add_option("query", o->query, what)->required();
        c->add_option("-k", o->k, "Chunks to retrieve")->check(CLI::Range(1, 1000));
        c->add_option("--mode", o->mode, "Retrieval: vector, bm25 or hybrid")
            ->check(CLI::IsMember({"vector", "bm25", "hybrid"}));
        c->add_option("--rerank", o->rerank,
                      "Reorder the hits with a reranker model (a .gguf or a store name, e.g. "
                      "bge-reranker)");
        c->add_option("--rerank-candidates", o->rerank_candidates,
                      "Hits the reranker reads (default: 4 x k, at least 20)")
            ->check(CLI::Range(1, 10000));
        threads(c);
    };
    auto* search = rag->add_subcommand("search", "The chunks that best match a query");
    add_query(search, "Query");
    search->add_flag("--json", o->json, "Print the hits as JSON");
    auto* ask =
        rag->add_subcommand("ask", "Answer a question from a knowledge base, citing sources");
    add_query(ask, "Question");
    ask->add_option("-m,--model", o->model, "The model that answers (default gemma3:270m)");
    ask->add_flag("--show-prompt", o->show_prompt, "Print the prompt (with the chunks) to stderr");
    ask->add_option("-n,--num-predict", o->n_predict, "Maximum tokens to generate (-1: no limit)");
    ask->add_option("--temperature,--temp", o->temperature, "Sampling temperature (0: greedy)")
        ->check(CLI::NonNegativeNumber);
    ask->add_option("--seed", o->seed, "Random seed");
    auto* ls = rag->add_subcommand("ls", "List knowledge bases");
    auto* rm = rag->add_subcommand("rm", "Delete a knowledge base");
    rm->add_option("kb", o->name, "Knowledge base")->required();
    return [=]() -> std::optional<int> {
        if (*index) return index_command(*o);
        if (*search) return search_command(*o);
        if (*ask) return ask_command(*o);
        if (*ls) return ls_command();
        if (*rm) return rm_command(*o);
        return std::nullopt;
    };
}

}  // namespace lokal::cli
