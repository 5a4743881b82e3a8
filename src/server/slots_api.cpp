// llama-server's POST /slots/{id}?action=save|restore|erase: a slot's cached prompt to a named
// KV snapshot in the prompt cache's directory and back (engine/prompt_cache_store.h), answered
// in llama-server's JSON shape. lokal serves many models: "model" in the body names one, else
// the one loaded now.
#include <cstdlib>

#include "engine/batch_scheduler.h"
#include "engine/prompt_cache_store.h"
#include "server/api_util.h"
#include "server/http_error.h"
#include "server/request_options.h"

namespace lokal::server {
namespace {

using json = nlohmann::ordered_json;

std::string model_for(ServerState& state, const json& body) {
    if (field(body, "model")) return required_string(body, "model");
    const auto loaded = state.models.loaded();
    if (loaded.size() == 1) return loaded.front().name;
    throw HttpError(400,
                    "'model' is required: this server has " + std::to_string(loaded.size()) +
                        " models loaded, and /slots must be told which",
                    "model");
}

int slot_id(const httplib::Request& req) {
    const std::string text = req.matches[1];
    char* end = nullptr;
    const long id = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || id < 0 || id > 1 << 20) {
        throw HttpError(400, "bad slot id: " + text);
    }
    return (int)id;
}

void slot_action(ServerState& state, const httplib::Request& req, httplib::Response& res) {
    const int id = slot_id(req);
    const std::string action = req.has_param("action") ? req.get_param_value("action") : "";
    if (action != "save" && action != "restore" && action != "erase") {
        throw HttpError(400, "action must be save, restore or erase", "action");
    }
    const json body = req.body.empty() ? json::object() : parse_body(req);
    auto lease = state.models.acquire(model_for(state, body), std::nullopt);
    LoadedModel& m = **lease;
    if (!m.scheduler) throw HttpError(400, "'" + m.name + "' is an embedding model", "model");
    json out;
    if (action == "erase") {
        out = {{"id_slot", id}, {"n_erased", m.scheduler->slot_erase(id)}};
    } else {
        const std::string name = required_string(body, "filename");
        if (!engine::valid_snapshot_name(name)) {
            throw HttpError(400, "invalid filename: one file name, no directories", "filename");
        }
        if (!m.scheduler->prompt_cache()) {
            throw HttpError(501, "the prompt cache is off (--no-prompt-cache or LOKAL_CACHE=0)");
        }
        if (action == "save") {
            const engine::SlotFileResult r = m.scheduler->slot_save(id, name);
            out = {{"id_slot", id},
                   {"filename", name},
                   {"n_saved", r.n_tokens},
                   {"n_written", r.bytes},
                   {"timings", {{"save_ms", r.ms}}}};
        } else {
            const engine::SlotFileResult r = m.scheduler->slot_restore(id, name);
            out = {{"id_slot", id},
                   {"filename", name},
                   {"n_restored", r.n_tokens},
                   {"n_read", r.bytes},
                   {"timings", {{"restore_ms", r.ms}}}};
        }
    }
    res.set_content(out.dump(), "application/json");
}

}  // namespace

void register_slots_routes(httplib::Server& http, ServerState& state) {
    http.Post(R"(/slots/([^/]+))", guarded(state, [&state](const auto& req, auto& res) {
                  slot_action(state, req, res);
              }));
}

}  // namespace lokal::server
