// OpenAI's /v1/files: POST a multipart upload (fields "file" and "purpose"), GET the list, GET one
// file's object or content, DELETE (which also takes it out of every vector store). Files live in
// the model store's files/ directory (file_store.h), so they outlast a restart.
#include "server/api_util.h"
#include "server/file_search.h"
#include "server/http_error.h"

namespace lokal::server {

namespace {

using json = nlohmann::ordered_json;

void send_json(httplib::Response& res, const json& j) {
    res.set_content(j.dump(-1, ' ', false, kReplaceInvalidUtf8), "application/json");
}

bool known_purpose(const std::string& p) {
    for (const char* ok : {"assistants", "user_data", "batch", "fine-tune", "vision", "evals"}) {
        if (p == ok) return true;
    }
    return false;
}

void upload(ServerState& state, const httplib::Request& req, httplib::Response& res) {
    if (!req.is_multipart_form_data()) {
        throw HttpError(400, "the upload must be multipart/form-data with 'file' and 'purpose'");
    }
    if (!req.has_file("file") || req.get_file_value("file").filename.empty()) {
        throw HttpError(400, "'file' is required (a form field with a filename)", "file");
    }
    if (!req.has_file("purpose")) throw HttpError(400, "'purpose' is required", "purpose");
    const std::string purpose = req.get_file_value("purpose").content;
    if (!known_purpose(purpose)) {
        throw HttpError(400, "'purpose' must be assistants or user_data", "purpose");
    }
    const httplib::MultipartFormData file = req.get_file_value("file");
    // The body limit was checked on Content-Length; a chunked upload is checked here.
    if (file.content.size() > state.options.max_body_bytes) {
        throw HttpError(413,
                        "the file is larger than this server accepts (" +
                            std::to_string(state.options.max_body_bytes) +
                            " bytes; lokal serve --max-body)",
                        "file");
    }
    send_json(res, file_object(uploaded_files().add(file.filename, purpose, file.content)));
}

UploadedFile file_or_404(const std::string& id) {
    auto f = uploaded_files().get(id);
    if (!f) throw HttpError(404, "No such File object: " + id, "file_id");
    return *f;
}

}  // namespace

void register_files_routes(httplib::Server& http, ServerState& state) {
    http.Post("/v1/files",
              guarded(state, [&state](const auto& req, auto& res) { upload(state, req, res); }));
    http.Get("/v1/files", guarded(state, [](const auto& req, auto& res) {
                 const std::string purpose = req.get_param_value("purpose");
                 json data = json::array();
                 for (const UploadedFile& f : uploaded_files().list()) {
                     if (purpose.empty() || f.purpose == purpose) data.push_back(file_object(f));
                 }
                 send_json(res, list_page(data, list_request(req, 10000, 10000)));
             }));
    http.Get(R"(/v1/files/([^/]+))", guarded(state, [](const auto& req, auto& res) {
                 send_json(res, file_object(file_or_404(req.matches[1])));
             }));
    http.Get(R"(/v1/files/([^/]+)/content)", guarded(state, [](const auto& req, auto& res) {
                 const std::string id = req.matches[1];
                 file_or_404(id);
                 auto content = uploaded_files().content(id);
                 if (!content) throw HttpError(404, "No such File object: " + id, "file_id");
                 res.set_content(*content, "application/octet-stream");
             }));
    http.Delete(R"(/v1/files/([^/]+))", guarded(state, [](const auto& req, auto& res) {
                    const std::string id = req.matches[1];
                    file_or_404(id);
                    for (const VectorStoreInfo& vs : vector_stores().list()) {
                        vector_stores().remove_file(vs.id, id);
                    }
                    uploaded_files().remove(id);
                    send_json(res, deleted_object(id, "file"));
                }));
}

}  // namespace lokal::server
