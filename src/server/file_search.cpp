#include "server/file_search.h"

#include <algorithm>

#include "chat/capabilities.h"
#include "gguf/gguf_file.h"
#include "server/http_error.h"
#include "server/server_embedder.h"
#include "store/resolve.h"
#include "store/store.h"

namespace lokal::server {

using json = nlohmann::ordered_json;

FileStore& uploaded_files() {
    static FileStore files(FileStore::default_dir());
    return files;
}

VectorStoreRegistry& vector_stores() {
    static VectorStoreRegistry stores(VectorStoreRegistry::default_dir());
    return stores;
}

PageRequest list_request(const httplib::Request& req, int default_limit, int max_limit) {
    return page_request(req.get_param_value("limit"), req.get_param_value("order"),
                        req.get_param_value("after"), req.get_param_value("before"), default_limit,
                        max_limit);
}

std::string default_embedding_model(const ServerState& state) {
    if (!state.options.embed_model.empty()) return state.options.embed_model;
    for (const auto& e : store::Store::open_default().list()) {
        try {
            std::string name = e.ref.display();
            auto f = gguf::File::open(store::resolve_model(name, store::PathAccess::StoreOnly));
            const auto caps = chat::model_capabilities(*f);
            if (std::find(caps.begin(), caps.end(), "embedding") != caps.end()) return name;
        } catch (const std::exception&) {
            // A model that cannot be read is not a candidate.
        }
    }
    throw HttpError(400,
                    "no embedding model: pass 'embedding_model', start the server with "
                    "--embed-model, or add an embedding model to the store (lokal pull)",
                    "embedding_model");
}

StoreHits search_vector_stores(ServerState& state, const std::vector<std::string>& store_ids,
                               const std::string& query, int k, const std::string& field) {
    StoreHits all;
    for (const std::string& id : store_ids) {
        const auto vs = vector_stores().get(id);
        if (!vs) throw HttpError(404, "vector store '" + id + "' not found", field);
        std::vector<float> qv;
        if (!query.empty()) {
            ServerEmbedder embedder(state.models, vs->embedding_model);
            qv = embedder.embed({query}).front();
        }
        StoreHits h = vector_stores().search(id, query, qv, k);
        for (size_t i = 0; i < h.hits.size(); ++i) {
            all.hits.push_back(std::move(h.hits[i]));
            all.results.push_back(std::move(h.results[i]));
        }
    }
    // Best first across the stores, then the best k.
    std::vector<size_t> order(all.hits.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return all.results[a].score > all.results[b].score;
    });
    if ((int)order.size() > k) order.resize((size_t)k);
    StoreHits out;
    for (size_t i : order) {
        out.hits.push_back(all.hits[i]);
        out.results.push_back(all.results[i]);
    }
    return out;
}

namespace {

std::string content_text(const json& content) {
    if (content.is_string()) return content.get<std::string>();
    std::string out;
    if (!content.is_array()) return out;
    for (const json& p : content) {
        if (p.is_object() && p.contains("text") && p["text"].is_string()) {
            if (!out.empty()) out += "\n";
            out += p["text"].get<std::string>();
        }
    }
    return out;
}

}  // namespace

std::string last_user_text(const json* messages) {
    if (!messages) return "";
    if (messages->is_string()) return messages->get<std::string>();
    if (!messages->is_array()) return "";
    for (auto it = messages->rbegin(); it != messages->rend(); ++it) {
        if (it->is_object() && it->value("role", "") == "user" && it->contains("content")) {
            return content_text((*it)["content"]);
        }
    }
    return "";
}

}  // namespace lokal::server
