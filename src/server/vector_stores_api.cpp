// OpenAI's /v1/vector_stores: create (with file_ids; `embedding_model` is a lokal extension,
// default --embed-model or the store's first embedding model), list, retrieve, modify, delete;
// /files add (indexed synchronously: the answer is the file's final status), list, retrieve,
// delete (its chunks go with it); /search (hybrid retrieval over the store's chunks).
#include "server/api_util.h"
#include "server/file_search.h"
#include "server/http_error.h"
#include "server/request_options.h"
#include "server/server_embedder.h"

namespace lokal::server {

namespace {

using json = nlohmann::ordered_json;

void send_json(httplib::Response& res, const json& j) {
    res.set_content(j.dump(-1, ' ', false, kReplaceInvalidUtf8), "application/json");
}

VectorStoreInfo store_or_404(const std::string& id) {
    auto vs = vector_stores().get(id);
    if (!vs) throw HttpError(404, "No such vector store: " + id, "vector_store_id");
    return *vs;
}

UploadedFile uploaded_or_404(const std::string& id, const std::string& field_name) {
    auto f = uploaded_files().get(id);
    if (!f) throw HttpError(404, "No such File object: " + id, field_name);
    return *f;
}

std::optional<std::string> optional_string(const json& body, const char* name) {
    const json* v = field(body, name);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_string()) throw HttpError(400, std::string("'") + name + "' must be a string", name);
    return v->get<std::string>();
}

std::optional<json> optional_metadata(const json& body) {
    const json* v = field(body, "metadata");
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_object()) throw HttpError(400, "'metadata' must be an object", "metadata");
    return *v;
}

VectorStoreFile index_file(ServerState& state, const VectorStoreInfo& vs, const UploadedFile& f) {
    auto content = uploaded_files().content(f.id);
    if (!content) throw HttpError(404, "No such File object: " + f.id, "file_id");
    ServerEmbedder embedder(state.models, vs.embedding_model);
    return vector_stores().add_file(vs.id, f, *content, embedder);
}

void create(ServerState& state, const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    const std::string name = optional_string(body, "name").value_or("");
    std::string model = optional_string(body, "embedding_model").value_or("");
    if (model.empty()) model = default_embedding_model(state);
    try {
        state.models.acquire(model, std::nullopt);  // loads it now: a bad model fails here
    } catch (const ModelNotFound& e) {
        throw HttpError(400, std::string("embedding model: ") + e.what(), "embedding_model");
    }
    std::vector<UploadedFile> files;
    if (const json* ids = field(body, "file_ids"); ids && !ids->is_null()) {
        if (!ids->is_array()) throw HttpError(400, "'file_ids' must be a list", "file_ids");
        for (const json& id : *ids) {
            if (!id.is_string()) throw HttpError(400, "'file_ids' must hold strings", "file_ids");
            files.push_back(uploaded_or_404(id.get<std::string>(), "file_ids"));
        }
    }
    const VectorStoreInfo vs =
        vector_stores().create(name, model, optional_metadata(body).value_or(json::object()));
    for (const UploadedFile& f : files) index_file(state, vs, f);
    send_json(res, vector_store_object(store_or_404(vs.id)));
}

void add_file(ServerState& state, const httplib::Request& req, httplib::Response& res) {
    const VectorStoreInfo vs = store_or_404(req.matches[1]);
    const json body = parse_body(req);
    const UploadedFile f = uploaded_or_404(required_string(body, "file_id"), "file_id");
    send_json(res, vector_store_file_object(vs.id, index_file(state, vs, f)));
}

const VectorStoreFile& file_entry_or_404(const VectorStoreInfo& vs, const std::string& file_id) {
    for (const VectorStoreFile& f : vs.files) {
        if (f.file_id == file_id) return f;
    }
    throw HttpError(404, "No such vector store file: " + file_id + " in " + vs.id, "file_id");
}

// `query`: a string, or a list of strings (searched as one text).
std::string search_query(const json& body) {
    const json* q = field(body, "query");
    if (!q) throw HttpError(400, "'query' is required", "query");
    if (q->is_string()) return q->get<std::string>();
    std::string out;
    if (q->is_array()) {
        for (const json& s : *q) {
            if (!s.is_string()) throw HttpError(400, "'query' must be a string", "query");
            out += (out.empty() ? "" : " ") + s.get<std::string>();
        }
        return out;
    }
    throw HttpError(400, "'query' must be a string or a list of strings", "query");
}

void search(ServerState& state, const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    store_or_404(id);
    const json body = parse_body(req);
    const std::string query = search_query(body);
    if (query.empty()) throw HttpError(400, "'query' is empty", "query");
    int k = 10;
    if (const json* n = field(body, "max_num_results"); n && !n->is_null()) {
        if (!n->is_number_integer() || n->get<int64_t>() < 1 || n->get<int64_t>() > 50) {
            throw HttpError(400, "'max_num_results' must be an integer from 1 to 50",
                            "max_num_results");
        }
        k = n->get<int>();
    }
    const StoreHits hits = search_vector_stores(state, {id}, query, k, "vector_store_id");
    send_json(res, search_results_page(query, hits.results));
}

}  // namespace

void register_vector_store_routes(httplib::Server& http, ServerState& state) {
    const std::string one = R"(/v1/vector_stores/([^/]+))";
    http.Post("/v1/vector_stores",
              guarded(state, [&state](const auto& req, auto& res) { create(state, req, res); }));
    http.Get("/v1/vector_stores", guarded(state, [](const auto& req, auto& res) {
                 json data = json::array();
                 for (const VectorStoreInfo& vs : vector_stores().list()) {
                     data.push_back(vector_store_object(vs));
                 }
                 send_json(res, list_page(data, list_request(req, 20, 100)));
             }));
    http.Get(one, guarded(state, [](const auto& req, auto& res) {
                 send_json(res, vector_store_object(store_or_404(req.matches[1])));
             }));
    http.Post(one, guarded(state, [](const auto& req, auto& res) {
                  const std::string id = req.matches[1];
                  store_or_404(id);
                  const json body = parse_body(req);
                  vector_stores().update(id, optional_string(body, "name"),
                                         optional_metadata(body));
                  send_json(res, vector_store_object(store_or_404(id)));
              }));
    http.Delete(one, guarded(state, [](const auto& req, auto& res) {
                    const std::string id = req.matches[1];
                    if (!vector_stores().remove(id)) store_or_404(id);
                    send_json(res, deleted_object(id, "vector_store.deleted"));
                }));
    http.Post(one + "/files",
              guarded(state, [&state](const auto& req, auto& res) { add_file(state, req, res); }));
    http.Get(one + "/files", guarded(state, [](const auto& req, auto& res) {
                 const VectorStoreInfo vs = store_or_404(req.matches[1]);
                 const std::string filter = req.get_param_value("filter");
                 json data = json::array();
                 for (const VectorStoreFile& f : vs.files) {
                     if (filter.empty() || f.status == filter) {
                         data.push_back(vector_store_file_object(vs.id, f));
                     }
                 }
                 send_json(res, list_page(data, list_request(req, 20, 100)));
             }));
    http.Get(one + "/files/([^/]+)", guarded(state, [](const auto& req, auto& res) {
                 const VectorStoreInfo vs = store_or_404(req.matches[1]);
                 send_json(res,
                           vector_store_file_object(vs.id, file_entry_or_404(vs, req.matches[2])));
             }));
    http.Delete(one + "/files/([^/]+)", guarded(state, [](const auto& req, auto& res) {
                    const VectorStoreInfo vs = store_or_404(req.matches[1]);
                    const std::string file_id = req.matches[2];
                    if (!vector_stores().remove_file(vs.id, file_id))
                        file_entry_or_404(vs, file_id);
                    send_json(res, deleted_object(file_id, "vector_store.file.deleted"));
                }));
    http.Post(one + "/search",
              guarded(state, [&state](const auto& req, auto& res) { search(state, req, res); }));
}

}  // namespace lokal::server
