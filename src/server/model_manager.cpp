#include "server/model_manager.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <utility>

#include "base/error.h"
#include "model/compute_device.h"
#include "model/repack_cache.h"
#include "server/prompt.h"
#include "store/reference.h"
#include "store/resolve.h"
#include "store/store.h"

namespace lokal::server {

std::vector<float> LoadedModel::embed(const std::vector<int32_t>& tokens) {
    std::lock_guard<std::mutex> lock(embed_mutex);
    if (model->config().encoder_only) {
        if (!encoder) encoder = std::make_unique<model::Encoder>(*model);
        return encoder->embed(tokens);
    }
    if (!embed_ctx) {
        model::ContextParams cp;
        cp.n_ctx = std::min(model->config().n_ctx_train, 8192);
        embed_ctx = std::make_unique<model::Context>(*model, cp);
    }
    if ((int)tokens.size() > embed_ctx->n_ctx()) {
        throw Error("the input is " + std::to_string(tokens.size()) +
                    " tokens but the embedding context holds " +
                    std::to_string(embed_ctx->n_ctx()));
    }
    return embed_ctx->embed(tokens, model->config().pooling == model::Pooling::None
                                        ? model::Pooling::Mean
                                        : model->config().pooling);
}

ModelManager::ModelManager(ServerModelParams params) : params_(std::move(params)) {
    reaper_ = std::thread([this] { reaper(); });
}

ModelManager::~ModelManager() {
    shutdown();
}

void ModelManager::shutdown() {
    std::map<std::string, Entry> gone;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
        stopping_ = true;
        for (auto& [name, e] : models_) {
            if (e.model && e.model->scheduler) e.model->scheduler->shutdown();
        }
    }
    changed_.notify_all();
    if (reaper_.joinable()) reaper_.join();
    std::lock_guard<std::mutex> lock(mutex_);
    gone.swap(models_);
}

ModelManager::Lease::~Lease() {
    manager_->release(model_->key, keep_alive_);
}

std::string ModelManager::key_for(const std::string& name) {
    if (store::looks_like_file_path(name) || !store::is_valid_ref(name)) return name;
    std::string key = store::parse_ref(name).full();
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return key;
}

namespace {

// One name for one file, however the path to it is spelt.
std::string file_id(const std::string& path) {
    std::error_code ec;
    return std::filesystem::weakly_canonical(path, ec).string();
}

}  // namespace

void forget_removed_models_repacked_weights(const store::Store& store) {
    const std::string dir = model::repack_cache_params_from_env().dir;
    if (dir.empty()) return;
    model::prune_repack_cache(dir, [&](const std::string& blob) {
        return store.has_blob("sha256:" + blob.substr(7));  // blob: "sha256-<hex>"
    });
}

std::string default_prompt_cache_dir() {
    if (const char* dir = std::getenv("LOKAL_CACHE_DIR"); dir && *dir) return dir;
    try {
        std::filesystem::path root = store::Store::default_root();
        if (!root.has_filename()) root = root.parent_path();  // "models/"
        return (root.parent_path() / "cache").string();
    } catch (const Error&) {
        return {};
    }
}

std::string ModelManager::draft_file_for(const store::StoredModelDefaults& defaults) const {
    if (params_.draft_max == 0) return {};  // drafting is off: no draft to load
    if (defaults.draft) return *defaults.draft;
    return params_.draft.empty() ? std::string() : resolve_file(params_.draft);
}

std::unique_ptr<model::Model> ModelManager::load_draft(const model::Model& target,
                                                       const std::string& draft_path) const {
    auto draft = model::Model::load(draft_path);
    try {
        engine::check_draft_vocabulary(target, *draft);
    } catch (const Error& e) {
        if (params_.strict_draft) throw;
        std::fprintf(stderr, "lokal: %s; guessing by prompt lookup instead\n", e.what());
        return nullptr;
    }
    if (params_.log_loads) {
        std::fprintf(stderr, "lokal: draft model %s guesses ahead\n", draft_path.c_str());
    }
    return draft;
}

std::shared_ptr<LoadedWeights> ModelManager::weights_for(const std::string& path,
                                                         const std::string& draft) {
    std::lock_guard<std::mutex> lock(weights_mutex_);
    const std::string id = draft.empty() ? file_id(path) : file_id(path) + "\n" + file_id(draft);
    if (auto shared = weights_[id].lock()) return shared;
    auto w = std::make_shared<LoadedWeights>();
    try {
        w->model = model::Model::load(path);
    } catch (const Error& e) {
        // The file is in the store: failing to load it is the server's problem, not the request's.
        throw Error(e.what(), e.kind() == ErrorKind::Io ? ErrorKind::Io : ErrorKind::Internal);
    }
    if (!w->model->config().encoder_only) {
        engine::SchedulerParams sp;
        sp.n_parallel = params_.n_parallel;
        sp.n_ctx = params_.n_ctx;
        sp.n_threads = params_.n_threads;
        sp.kv_type = params_.kv_type;
        sp.max_queue = params_.max_queue;
        sp.draft_max = params_.draft_max;
        if (params_.prompt_cache) {
            engine::PromptCacheParams pc;
            pc.dir = default_prompt_cache_dir();
            pc = engine::prompt_cache_params_from_env(pc);
            if (!pc.dir.empty()) pc.model = engine::model_cache_key(path);
            sp.prompt_cache = pc;
        }
        if (!draft.empty()) {
            w->draft = load_draft(*w->model, draft);
            sp.draft_model = w->draft.get();
        }
        w->scheduler = std::make_unique<engine::BatchScheduler>(*w->model, sp);
        const model::ComputeDevice& device = model::compute_device();
        if (device.gpu && params_.log_loads) {
            std::fprintf(
                stderr, "lokal: %s: %d of %d layers on %s%s\n", path.c_str(),
                w->scheduler->gpu_layers(), w->model->config().n_layer, device.name.c_str(),
                w->scheduler->gpu_layers() < w->model->config().n_layer ? ", the rest on the CPU"
                                                                        : "");
        }
    }
    std::erase_if(weights_, [](const auto& kv) { return kv.second.expired(); });
    weights_[id] = w;
    return w;
}

std::string ModelManager::resolve_file(const std::string& name) const {
    std::string path;
    try {
        path = store::resolve_model(
            name, params_.allow_paths ? store::PathAccess::Allowed : store::PathAccess::StoreOnly);
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::NotFound) throw;
        throw ModelNotFound("model '" + name + "' not found; pull it first (lokal pull " + name +
                            ")");
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw ModelNotFound("model '" + name + "' not found");
    }
    return path;
}

std::shared_ptr<LoadedModel> ModelManager::load(const std::string& name, const std::string& path) {
    std::error_code ec;
    auto m = std::make_shared<LoadedModel>();
    m->name = store::is_valid_ref(name) && !store::looks_like_file_path(name)
                  ? store::parse_ref(name).display()
                  : name;
    m->key = key_for(name);
    m->path = path;
    m->defaults = store::stored_model_defaults(name);
    std::shared_ptr<LoadedWeights> weights = weights_for(path, draft_file_for(m->defaults));
    m->model = std::shared_ptr<model::Model>(weights, weights->model.get());
    if (weights->scheduler) {
        m->scheduler = std::shared_ptr<engine::BatchScheduler>(weights, weights->scheduler.get());
    }
    chat::PromptFormat& format = m->prompt_format;
    format.family = chat::detect_family(m->model->file());
    format.system = m->defaults.system;
    try {
        m->chat_template = m->model->file().get_string("tokenizer.chat_template").value_or("");
    } catch (const Error&) {
        // not a string: the model has no usable template
    }
    // A TEMPLATE stored with the model (Modelfile, /api/create; Jinja or Go syntax) replaces
    // the file's own.
    if (m->defaults.template_text && !m->defaults.template_text->empty()) {
        try {
            format.tmpl = chat::parse_prompt_template(*m->defaults.template_text);
            format.text = *m->defaults.template_text;
            if (format.tmpl.jinja) m->chat_template = *m->defaults.template_text;
        } catch (const Error& e) {
            std::fprintf(stderr,
                         "lokal: %s: its TEMPLATE does not parse (%s); using the model "
                         "file's own chat template\n",
                         name.c_str(), e.what());
        }
    }
    if (!format.tmpl.go && !format.tmpl.jinja && !m->chat_template.empty()) {
        try {
            format.tmpl.jinja = jinja::Template::parse(m->chat_template);
            format.text = m->chat_template;
        } catch (const Error& e) {
            std::fprintf(stderr,
                         "lokal: %s: its chat template does not parse (%s); using the "
                         "built-in format\n",
                         name.c_str(), e.what());
        }
    }
    m->size_bytes = std::filesystem::file_size(path, ec);
    m->loaded_at = Clock::now();
    return m;
}

bool ModelManager::is_stale(const LoadedModel& m) const {
    std::error_code ec;
    if (params_.allow_paths && std::filesystem::is_regular_file(m.name, ec)) return false;
    try {
        return store::resolve_model(m.name, store::PathAccess::StoreOnly) != m.path;
    } catch (const Error&) {
        return true;
    }
}

std::vector<std::shared_ptr<LoadedModel>> ModelManager::evict_for_new_locked() {
    // Names that share one file (models created FROM one another, cp copies) are one load: the
    // limit counts files, and a file is unloaded with all of its names, once none is in use.
    struct File {
        std::vector<std::string> names;
        bool busy = false;
        Clock::time_point last_used;
    };
    std::vector<std::shared_ptr<LoadedModel>> dropped;
    for (;;) {
        std::map<std::string, File> files;
        for (const auto& [name, e] : models_) {
            if (e.file.empty()) continue;  // its file is still being looked up
            File& f = files[e.file];
            f.names.push_back(name);
            f.busy = f.busy || !e.model || e.active > 0;
            f.last_used = std::max(f.last_used, e.last_used);
        }
        if ((int)files.size() <= params_.max_loaded) return dropped;
        const File* victim = nullptr;
        for (const auto& [file, f] : files) {
            if (!f.busy && (!victim || f.last_used < victim->last_used)) victim = &f;
        }
        if (!victim) return dropped;
        for (const std::string& name : victim->names) {
            dropped.push_back(std::move(models_[name].model));
            models_.erase(name);
        }
    }
}

std::unique_ptr<ModelManager::Lease> ModelManager::acquire(const std::string& name,
                                                           std::optional<double> keep_alive) {
    const std::string key = key_for(name);
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        if (stopping_) throw Error("the server is shutting down");
        auto it = models_.find(key);
        if (it == models_.end()) break;
        Entry& e = it->second;
        if (e.loading) {
            changed_.wait(lock);
            continue;
        }
        if (e.active == 0 && is_stale(*e.model)) {
            std::shared_ptr<LoadedModel> stale = std::move(e.model);
            models_.erase(it);
            lock.unlock();
            stale.reset();  // unloaded outside the lock, then loaded afresh (or not found)
            lock.lock();
            continue;
        }
        ++e.active;
        e.last_used = Clock::now();
        e.expires_at = Clock::time_point::max();
        return std::make_unique<Lease>(this, e.model, keep_alive);
    }
    models_[key].loading = true;
    lock.unlock();
    std::shared_ptr<LoadedModel> m;
    std::exception_ptr failure;
    try {
        const std::string path = resolve_file(name);
        std::vector<std::shared_ptr<LoadedModel>> evicted;
        {
            // Room is made once the file is known: a name whose file is loaded already takes
            // none.
            std::lock_guard<std::mutex> relock(mutex_);
            models_[key].file = file_id(path);
            evicted = evict_for_new_locked();
        }
        evicted.clear();  // unloaded outside the lock
        m = load(name, path);
    } catch (...) {
        failure = std::current_exception();
    }
    lock.lock();
    if (failure) {
        models_.erase(key);
        changed_.notify_all();
        std::rethrow_exception(failure);
    }
    Entry& e = models_[key];
    e.loading = false;
    e.model = m;
    e.active = 1;
    e.last_used = Clock::now();
    changed_.notify_all();
    return std::make_unique<Lease>(this, m, keep_alive);
}

void ModelManager::release(const std::string& name, std::optional<double> keep_alive) {
    std::shared_ptr<LoadedModel> drop;  // destroyed outside the lock
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = models_.find(name);
        if (it == models_.end()) return;
        Entry& e = it->second;
        e.active = std::max(0, e.active - 1);
        e.last_used = Clock::now();
        const double keep = keep_alive.value_or((double)params_.default_keep_alive.count());
        if (keep < 0) {
            e.expires_at = Clock::time_point::max();
        } else {
            e.expires_at = e.last_used + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(keep));
        }
        if (e.active == 0 && keep == 0) {
            drop = std::move(e.model);
            models_.erase(it);
        }
    }
    changed_.notify_all();
}

void ModelManager::unload(const std::string& name) {
    std::shared_ptr<LoadedModel> drop;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = models_.find(key_for(name));
    if (it == models_.end() || it->second.loading) return;
    if (it->second.active == 0) {
        drop = std::move(it->second.model);
        models_.erase(it);
    } else {
        it->second.expires_at = Clock::now();
    }
}

std::vector<LoadedInfo> ModelManager::loaded() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<LoadedInfo> out;
    for (const auto& [name, e] : models_) {
        if (!e.model || is_stale(*e.model)) continue;
        LoadedInfo i;
        i.name = e.model->name;
        i.size_bytes = e.model->size_bytes;
        i.expires_at = e.expires_at;
        i.active = e.active;
        i.model = e.model.get();
        out.push_back(i);
    }
    return out;
}

void ModelManager::reaper() {
    constexpr int kStaleCheckEvery = 8;  // wake-ups: the store is read about every 2 s
    std::unique_lock<std::mutex> lock(mutex_);
    for (int wakeup = 1; !stopping_; ++wakeup) {
        changed_.wait_for(lock, std::chrono::milliseconds(250));
        const auto now = Clock::now();
        const bool check_store = wakeup % kStaleCheckEvery == 0;
        std::vector<std::shared_ptr<LoadedModel>> drop;
        for (auto it = models_.begin(); it != models_.end();) {
            Entry& e = it->second;
            if (e.model && e.active == 0 &&
                (e.expires_at <= now || (check_store && is_stale(*e.model)))) {
                drop.push_back(std::move(e.model));
                it = models_.erase(it);
            } else {
                ++it;
            }
        }
        if (!drop.empty()) {
            lock.unlock();
            drop.clear();
            lock.lock();
        }
    }
}

}  // namespace lokal::server
