// The models a server has in memory. A model loads on first use (two requests for a model that
// is still loading wait for the one load), stays for its keep_alive after the last request that
// used it (default 5 minutes; 0 unloads at once, negative keeps it forever), and the least
// recently used idle model file (with every name that shares it) is unloaded when more files than
// LOKAL_MAX_LOADED_MODELS would be loaded.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "chat/builtin_format.h"
#include "chat/prompt.h"
#include "engine/batch_scheduler.h"
#include "grammar/token_trie.h"
#include "jinja/template.h"
#include "model/encoder.h"
#include "model/model.h"
#include "store/model_defaults.h"

namespace lokal::store {
class Store;
}

namespace lokal::server {

using Clock = std::chrono::system_clock;

// Thrown for a model name the store does not have (the server answers 404, naming the "model"
// field).
struct ModelNotFound : Error {
    explicit ModelNotFound(const std::string& message) : Error(message, ErrorKind::NotFound) {}
};

// The weights of one model file and the scheduler that runs them: the expensive part of a
// loaded model, loaded once per file (blob) and shared by every name that references it
// (models created FROM one another, cp copies). The scheduler works on tokens, so names that
// render prompts differently share it, and its prefix cache, safely.
struct LoadedWeights {
    std::unique_ptr<model::Model> model;
    std::unique_ptr<model::Model> draft;  // the speculative-decoding draft model, if any
    std::unique_ptr<engine::BatchScheduler> scheduler;  // destroyed before the model
};

// One model name in memory: its own template, system prompt and parameters over weights that
// may be shared with other names (model and scheduler point into one LoadedWeights).
struct LoadedModel {
    std::string name;  // as clients name it, e.g. "gemma3:270m"
    std::string key;   // the manager's key: ModelManager::key_for(name)
    std::string path;
    std::shared_ptr<model::Model> model;
    store::StoredModelDefaults defaults;
    std::string chat_template;  // the model's own (tokenizer.chat_template), may be empty
    // How its conversations are rendered: a stored TEMPLATE (Jinja or Go), else the file's
    // template parsed once, else the built-in format of its family; the stored SYSTEM.
    chat::PromptFormat prompt_format;
    std::shared_ptr<engine::BatchScheduler> scheduler;  // null for embedding-only models
    size_t size_bytes = 0;
    Clock::time_point loaded_at;

    // Embeddings run one at a time, beside the generation scheduler.
    std::mutex embed_mutex;
    std::unique_ptr<model::Encoder> encoder;
    std::unique_ptr<model::Context> embed_ctx;
    std::vector<float> embed(const std::vector<int32_t>& tokens);
    // For structured output: the vocabulary as a byte trie, built on first use (under
    // embed_mutex).
    std::shared_ptr<const grammar::TokenTrie> token_trie;
};

struct ServerModelParams {
    int n_parallel = 4;
    int n_ctx = 4096;
    int n_threads = 0;
    kernels::KvType kv_type = kernels::KvType::F16;
    int max_queue = 64;
    int draft_max = 16;  // speculative decoding: most tokens guessed ahead (0: off)
    // A draft model (path or store reference) guessing for every model that shares its
    // vocabulary and has no DRAFT of its own (Modelfile); empty: prompt lookup.
    // `strict_draft`: a model it cannot serve fails to load (lokal run); else that model runs
    // with prompt lookup and the load log says why.
    std::string draft;
    bool strict_draft = false;
    int max_loaded = 3;
    std::chrono::seconds default_keep_alive{300};
    // Models may be named by a file path on this machine: the local CLI; a server only with
    // --allow-paths (otherwise any client could load, and probe, the server's files).
    bool allow_paths = false;
    bool log_loads = false;  // say on stderr where each model's layers run (serve, unless -q)
    // The persistent prompt cache (engine/prompt_cache_store.h): on unless --no-prompt-cache
    // or LOKAL_CACHE=0, in LOKAL_CACHE_DIR or beside the model store (~/.lokal/cache).
    bool prompt_cache = true;
};

// Where the prompt cache lives: LOKAL_CACHE_DIR, else "cache" beside the store's directory.
// Empty when neither that nor HOME is known.
std::string default_prompt_cache_dir();

// Removes the repacked-weights cache files of blobs that are no longer in `store` (after a
// model was removed): they are as large as the models they stood for.
void forget_removed_models_repacked_weights(const store::Store& store);

struct LoadedInfo {
    std::string name;
    size_t size_bytes = 0;
    Clock::time_point expires_at;  // time_point::max() when kept forever
    int active = 0;
    const LoadedModel* model = nullptr;
};

class ModelManager {
  public:
    explicit ModelManager(ServerModelParams params);
    ~ModelManager();

    // A model in use: it is not unloaded while a lease on it exists. keep_alive (seconds; < 0
    // forever) applies from the moment the lease is dropped.
    class Lease {
      public:
        Lease(ModelManager* m, std::shared_ptr<LoadedModel> model, std::optional<double> keep)
            : manager_(m), model_(std::move(model)), keep_alive_(keep) {}
        ~Lease();
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        LoadedModel& operator*() const { return *model_; }
        LoadedModel* operator->() const { return model_.get(); }

      private:
        ModelManager* manager_;
        std::shared_ptr<LoadedModel> model_;
        std::optional<double> keep_alive_;
    };

    // Loads the model if needed. Throws ModelNotFound for an unknown name, lokal::Error when
    // the file cannot be loaded.
    std::unique_ptr<Lease> acquire(const std::string& name, std::optional<double> keep_alive);
    // Unloads now if idle, else as soon as its last request ends (keep_alive 0).
    void unload(const std::string& name);
    std::vector<LoadedInfo> loaded() const;
    // One key per model, however it is named: `m` and `m:latest`, `library/m`, and any case
    // (`Stories:260K` is `stories:260k`, as in Ollama), are one model; a file path is itself.
    static std::string key_for(const std::string& name);
    const ServerModelParams& params() const { return params_; }
    // Cancels everything and unloads every model.
    void shutdown();

  private:
    struct Entry {
        std::shared_ptr<LoadedModel> model;  // null while loading
        std::string file;                    // its weights' file, canonical; empty until known
        bool loading = false;
        std::string load_error;
        int active = 0;
        Clock::time_point expires_at = Clock::time_point::max();
        Clock::time_point last_used;
    };
    void release(const std::string& name, std::optional<double> keep_alive);
    // True when the store no longer names the file this model was loaded from: the model was
    // removed or re-created, by this server or by another process (`lokal rm`). Such a model is
    // not listed, not handed out, and is unloaded once idle, so its blob's space is freed.
    bool is_stale(const LoadedModel& m) const;
    // Unloads the least recently used idle files until at most max_loaded files are held (the
    // one being loaded included); returns the models to destroy once the lock is released.
    std::vector<std::shared_ptr<LoadedModel>> evict_for_new_locked();
    void reaper();
    // The file a name loads; ModelNotFound when there is none.
    std::string resolve_file(const std::string& name) const;
    std::shared_ptr<LoadedModel> load(const std::string& name, const std::string& path);
    // The weights of `path` with `draft` (a draft model's file; empty: none) guessing for them:
    // loaded now unless another name holds that pair already (the draft lives
    // in the scheduler).
    std::shared_ptr<LoadedWeights> weights_for(const std::string& path, const std::string& draft);
    // The draft model at draft_path for target; null when its vocabulary differs and the draft
    // is not strict.
    std::unique_ptr<model::Model> load_draft(const model::Model& target,
                                             const std::string& draft_path) const;
    // The draft file for a model: its Modelfile's DRAFT, else --draft; empty for none.
    std::string draft_file_for(const store::StoredModelDefaults& defaults) const;

    ServerModelParams params_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::map<std::string, Entry> models_;
    // Loads of weights are one at a time, so two names of one blob never load it twice.
    std::mutex weights_mutex_;
    std::map<std::string, std::weak_ptr<LoadedWeights>> weights_;  // by file (and draft) path
    bool stopping_ = false;
    std::thread reaper_;
};

}  // namespace lokal::server
