// pull, push, list, rm, cp and create: the store's commands, with `ollama`-like output.
#include "cli/cmd_store.h"
#include "cli/server_connection.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <filesystem>
#include "base/error.h"
#include "server/model_manager.h"
#include "store/create.h"
#include "store/create_quantized.h"
#include "store/modelfile.h"

#include "store/pull.h"
#include "store/push.h"
#include "store/resolve.h"
#include "store/store.h"

namespace lokal::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Decimal units, as `ollama list` prints them.
std::string human_bytes(uint64_t n) {
    const char* units[] = {"B", "KB", "MB", "GB", "TB"};
    double v = static_cast<double>(n);
    int u = 0;
    while (v >= 1000 && u < 4) {
        v /= 1000;
        ++u;
    }
    char buf[32];
    if (u == 0) {
        std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
    } else {
        std::snprintf(buf, sizeof buf, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
    }
    return buf;
}

std::string human_duration(double s) {
    char buf[32];
    if (s < 60) {
        std::snprintf(buf, sizeof buf, "%.0fs", s);
    } else if (s < 3600) {
        std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60,
                      static_cast<int>(s) % 60);
    } else {
        std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600,
                      static_cast<int>(s) % 3600 / 60);
    }
    return buf;
}

std::string ago_seconds(long long secs) {
    if (secs < 0) secs = 0;
    auto say = [](long long n, const char* unit) {
        return std::to_string(n) + " " + unit + (n == 1 ? "" : "s") + " ago";
    };
    if (secs < 60) return secs < 2 ? "Less than a second ago" : say(secs, "second");
    if (secs < 3600) return say(secs / 60, "minute");
    if (secs < 86400) return say(secs / 3600, "hour");
    if (secs < 86400 * 14) return say(secs / 86400, "day");
    if (secs < 86400 * 60) return say(secs / (86400 * 7), "week");
    if (secs < 86400 * 730) return say(secs / (86400 * 30), "month");
    return say(secs / (86400 * 365), "year");
}

std::string ago(fs::file_time_type t) {
    return ago_seconds(
        std::chrono::duration_cast<std::chrono::seconds>(fs::file_time_type::clock::now() - t)
            .count());
}

// An ISO 8601 time as the server writes it (UTC, or with an offset), as "N minutes ago".
std::string ago_iso(const std::string& iso) {
    std::tm tm{};
    const char* rest = strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (!rest) return iso;
    long long t = timegm(&tm);
    while (*rest && *rest != 'Z' && *rest != '+' && *rest != '-') ++rest;  // fraction
    if ((*rest == '+' || *rest == '-') && std::strlen(rest) >= 6) {
        const int sign = *rest == '+' ? 1 : -1;
        t -= sign * (std::atoi(rest + 1) * 3600LL + std::atoi(rest + 4) * 60LL);
    }
    return ago_seconds(static_cast<long long>(std::time(nullptr)) - t);
}

std::string short_label(const std::string& digest) {
    return digest.starts_with("sha256:") ? digest.substr(7, 12) : digest;
}

// Progress on stderr: on a terminal one redrawn line per layer with a bar, bytes, rate and ETA;
// otherwise a line every 20%; nothing with --quiet.
class CliProgress : public store::PullEvents {
  public:
    // `verb` labels each layer: "pulling" or "pushing".
    explicit CliProgress(bool quiet, std::string verb = "pulling")
        : quiet_(quiet), tty_(isatty(STDERR_FILENO) == 1), verb_(std::move(verb)) {}

    void status(const std::string& msg) override {
        if (quiet_) return;
        std::fprintf(stderr, "%s%s\n", tty_ ? "\r\033[K" : "", msg.c_str());
    }
    void layer_begin(const std::string& digest, uint64_t total, uint64_t done) override {
        label_ = verb_ + " " + short_label(digest);
        total_ = total;
        start_done_ = done;
        start_ = Clock::now();
        last_draw_ = {};
        next_step_ = 20;
        if (quiet_) return;
        if (tty_) {
            draw(done, true);
        } else if (done > 0 && done == total) {
            // already present: layer_end prints the line
        } else if (done > 0) {
            std::fprintf(stderr, "%s: resuming at %s of %s\n", label_.c_str(),
                         human_bytes(done).c_str(), total ? human_bytes(total).c_str() : "?");
        } else {
            std::fprintf(stderr, "%s: %s\n", label_.c_str(),
                         total ? human_bytes(total).c_str() : "size unknown");
        }
    }
    void layer_progress(const std::string&, uint64_t done, uint64_t total) override {
        total_ = total;
        if (quiet_) return;
        if (tty_) {
            draw(done, false);
        } else if (total > 0 && done * 100 / total >= next_step_ && done < total) {
            uint64_t pct = done * 100 / total;
            std::fprintf(stderr, "%s: %3llu%% %s/%s\n", label_.c_str(),
                         static_cast<unsigned long long>(pct), human_bytes(done).c_str(),
                         human_bytes(total).c_str());
            while (next_step_ <= pct) next_step_ += 20;
        }
    }
    void layer_end(const std::string&, uint64_t total) override {
        if (quiet_) return;
        if (tty_) {
            total_ = total;
            draw(total, true);
            std::fputc('\n', stderr);
        } else {
            std::fprintf(stderr, "%s: 100%% %s\n", label_.c_str(), human_bytes(total).c_str());
        }
    }
    void retry(const std::string& what, int attempt, int delay_ms) override {
        if (quiet_) return;
        std::fprintf(stderr, "%s%s; retrying in %s (attempt %d)\n", tty_ ? "\r\033[K" : "",
                     what.c_str(), human_duration(delay_ms / 1000.0).c_str(), attempt + 1);
    }

  private:
    void draw(uint64_t done, bool force) {
        auto now = Clock::now();
        if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
        last_draw_ = now;
        double secs = std::chrono::duration<double>(now - start_).count();
        double rate = secs > 0.05 ? static_cast<double>(done - start_done_) / secs : 0;
        std::string line = label_ + ": ";
        if (total_ > 0) {
            uint64_t pct = done * 100 / total_;
            const int width = 25;
            int fill = static_cast<int>(done * width / total_);
            line += (pct < 10 ? "  " : pct < 100 ? " " : "") + std::to_string(pct) + "% ▕";
            for (int i = 0; i < width; ++i) line += i < fill ? "█" : " ";
            line += "▏ " + human_bytes(done) + "/" + human_bytes(total_);
        } else {
            line += human_bytes(done);
        }
        if (rate > 0 && done < total_) {
            line += "  " + human_bytes(static_cast<uint64_t>(rate)) + "/s";
            if (total_ > done) line += "  " + human_duration((total_ - done) / rate);
        }
        std::fprintf(stderr, "\r\033[K%s", line.c_str());
        std::fflush(stderr);
    }

    bool quiet_;
    bool tty_;
    std::string verb_;
    std::string label_;
    uint64_t total_ = 0;
    uint64_t start_done_ = 0;
    uint64_t next_step_ = 20;
    Clock::time_point start_;
    Clock::time_point last_draw_;
};

struct StoreOptions {
    std::string pull_ref;
    bool pull_quiet = false;
    bool pull_insecure = false;
    std::string push_ref;
    bool push_quiet = false;
    bool push_insecure = false;
    std::vector<std::string> rm_refs;
    std::string cp_src, cp_dst;
    std::string create_name;
    std::string create_file = "Modelfile";
    bool create_quiet = false;
    std::string create_quantize;  // a quantization type (Q4_K_M, ...), as Ollama's create -q
};

int pull_command(const StoreOptions& o) {
    store::Store s = store::Store::open_default();
    CliProgress progress(o.pull_quiet);
    store::PullOptions opts = store::PullOptions::from_env();
    opts.insecure = o.pull_insecure;
    store::ModelRef ref = store::pull(s, o.pull_ref, progress, opts);
    if (o.pull_ref.starts_with("http://") || o.pull_ref.starts_with("https://")) {
        if (!o.pull_quiet) std::fprintf(stderr, "stored as %s\n", ref.display().c_str());
    }
    return 0;
}

int push_command(const StoreOptions& o) {
    store::Store s = store::Store::open_default();
    CliProgress progress(o.push_quiet, "pushing");
    store::PullOptions opts = store::PullOptions::from_env();
    opts.insecure = o.push_insecure;
    store::push(s, o.push_ref, progress, opts);
    return 0;
}

}  // namespace

std::string resolve_or_pull(const std::string& name_or_path) {
    std::error_code ec;
    const bool path_like = std::filesystem::is_regular_file(name_or_path, ec) ||
                           name_or_path.find('/') == 0 || name_or_path.ends_with(".gguf") ||
                           name_or_path.starts_with(".") || name_or_path.starts_with("~");
    if (!path_like) {
        store::Store s = store::Store::open_default();
        if (!s.read_manifest(store::parse_ref(name_or_path))) {
            std::fprintf(stderr, "%s is not in the store yet; pulling it\n", name_or_path.c_str());
            CliProgress progress(false);
            store::pull(s, name_or_path, progress);
        }
    }
    return store::resolve_model(name_or_path);
}

namespace {

int list_command(const server::ServerOptions& srv, bool local) {
    std::vector<std::vector<std::string>> rows = {{"NAME", "ID", "SIZE", "MODIFIED"}};
    if (std::optional<ServerAddress> a = local ? std::nullopt : running_server(srv)) {
        // The server's store (the one it serves, which may not be this user's).
        const nlohmann::json tags = call_server(*a, "GET", "/api/tags");
        for (const auto& m : tags.value("models", nlohmann::json::array())) {
            std::string digest = m.value("digest", "");
            if (digest.starts_with("sha256:")) digest.erase(0, 7);
            rows.push_back({m.value("name", ""), digest.substr(0, 12),
                            human_bytes(m.value("size", uint64_t{0})),
                            ago_iso(m.value("modified_at", ""))});
        }
    } else {
        store::Store s = store::Store::open_default();
        for (const store::ListEntry& e : s.list()) {
            rows.push_back({e.ref.display(), e.id, human_bytes(e.size), ago(e.modified)});
        }
    }
    std::vector<size_t> width(4, 0);
    for (const auto& r : rows) {
        for (size_t i = 0; i < 4; ++i) width[i] = std::max(width[i], r[i].size());
    }
    std::string out;
    for (const auto& r : rows) {
        std::string line;
        for (size_t i = 0; i < 4; ++i) {
            line += r[i];
            if (i < 3) line += std::string(width[i] - r[i].size() + 4, ' ');
        }
        out += line + "\n";
    }
    std::fputs(out.c_str(), stdout);
    return 0;
}

int rm_command(const StoreOptions& o) {
    store::Store s = store::Store::open_default();
    std::string missing;
    // Check every name first, so a typo removes nothing.
    std::vector<store::ModelRef> refs;
    for (const std::string& name : o.rm_refs) refs.push_back(store::parse_ref(name));
    for (size_t i = 0; i < refs.size(); ++i) {
        if (s.remove(refs[i])) {
            std::printf("deleted '%s'\n", o.rm_refs[i].c_str());
        } else {
            missing += (missing.empty() ? "'" : ", '") + o.rm_refs[i] + "'";
        }
    }
    server::forget_removed_models_repacked_weights(s);
    if (!missing.empty()) throw Error("model " + missing + " not found", ErrorKind::NotFound);
    return 0;
}

int cp_command(const StoreOptions& o) {
    store::Store s = store::Store::open_default();
    store::ModelRef src = store::parse_ref(o.cp_src);
    store::ModelRef dst = store::parse_ref(o.cp_dst);
    if (!s.read_manifest(src))
        throw Error("model '" + o.cp_src + "' not found", ErrorKind::NotFound);
    s.copy(src, dst);
    std::printf("copied '%s' to '%s'\n", o.cp_src.c_str(), o.cp_dst.c_str());
    return 0;
}

int create_command(const StoreOptions& o) {
    std::ifstream in(o.create_file, std::ios::binary);
    if (!in) throw Error("cannot read Modelfile '" + o.create_file + "'");
    std::ostringstream ss;
    ss << in.rdbuf();
    store::Modelfile mf = store::parse_modelfile(ss.str());
    store::Store s = store::Store::open_default();
    fs::path base = fs::absolute(fs::path(o.create_file)).parent_path();
    bool quiet = o.create_quiet;
    auto say = [quiet](const std::string& msg) {
        if (!quiet) std::fprintf(stderr, "%s\n", msg.c_str());
    };
    if (o.create_quantize.empty()) {
        store::create_model(s, o.create_name, mf, base, store::PathAccess::Allowed, say);
    } else {
        store::create_quantized_model(s, o.create_name, mf, base, store::PathAccess::Allowed,
                                      o.create_quantize, say);
    }
    if (!quiet) std::fprintf(stderr, "success\n");
    return 0;
}

}  // namespace

std::function<std::optional<int>()> add_store_commands(CLI::App& app,
                                                       const server::ServerOptions& srv) {
    auto o = std::make_shared<StoreOptions>();
    auto* pull = app.add_subcommand("pull", "Download a model from a registry into the store");
    pull->add_option("model", o->pull_ref,
                     "Model name (gemma3:270m, hf.co/user/repo:Q4_K_M) or https URL of a .gguf")
        ->required();
    pull->add_flag("-q,--quiet", o->pull_quiet, "No progress output");
    pull->add_flag("--insecure", o->pull_insecure,
                   "Use plain http to the registry (a private registry without TLS)");
    auto* push = app.add_subcommand("push", "Upload a model from the store to a registry");
    push->add_option("model", o->push_ref, "Model name (host:port/namespace/model:tag)")
        ->required();
    push->add_flag("-q,--quiet", o->push_quiet, "No progress output");
    push->add_flag("--insecure", o->push_insecure,
                   "Use plain http to the registry (a private registry without TLS)");
    auto* list = app.add_subcommand("list", "List the models in the store");
    list->alias("ls");
    auto list_local = std::make_shared<bool>(false);
    list->add_flag("--local", *list_local,
                   "Read this machine's store even when a lokal serve is running");
    auto* rm = app.add_subcommand("rm", "Remove models from the store");
    rm->add_option("models", o->rm_refs, "Model names")->required();
    auto* cp = app.add_subcommand("cp", "Copy a model under a new name");
    cp->add_option("source", o->cp_src, "Existing model")->required();
    cp->add_option("destination", o->cp_dst, "New name")->required();
    auto* create = app.add_subcommand("create", "Create a model from a Modelfile");
    create->add_option("name", o->create_name, "Name of the new model")->required();
    create->add_option("-f,--file", o->create_file, "Modelfile (default: ./Modelfile)");
    // -q is Ollama's short form of --quantize here (as `ollama create -q q4_K_M`).
    create->add_flag("--quiet", o->create_quiet, "No progress output");
    create->add_option("-q,--quantize", o->create_quantize,
                       "Quantize the model (Q4_K_M, Q8_0, ...; see lokal quantize)");
    return [=]() -> std::optional<int> {
        if (*pull) return pull_command(*o);
        if (*push) return push_command(*o);
        if (*list) return list_command(srv, *list_local);
        if (*rm) return rm_command(*o);
        if (*cp) return cp_command(*o);
        if (*create) return create_command(*o);
        return std::nullopt;
    };
}

}  // namespace lokal::cli
