#include "server/vector_store_wire.h"

#include <algorithm>

#include "base/error.h"
#include "server/http_error.h"

namespace lokal::server {

using json = nlohmann::ordered_json;

namespace {

bool hex_id(std::string_view id, std::string_view prefix) {
    if (!id.starts_with(prefix)) return false;
    const std::string_view hex = id.substr(prefix.size());
    return !hex.empty() && hex.size() <= 32 && std::all_of(hex.begin(), hex.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
}

json ids_or_null(const json& data, bool first) {
    if (data.empty()) return nullptr;
    return (first ? data.front() : data.back())["id"];
}

std::vector<std::string> string_list(const json& v, const std::string& at) {
    if (!v.is_array()) throw HttpError(400, "'" + at + "' must be a list of strings", at);
    std::vector<std::string> out;
    for (const json& s : v) {
        if (!s.is_string()) throw HttpError(400, "'" + at + "' must be a list of strings", at);
        out.push_back(s.get<std::string>());
    }
    return out;
}

FileSearchTool file_search_tool(const json& spec, const std::string& at) {
    if (!spec.is_object()) throw HttpError(400, "'" + at + "' must be an object", at);
    FileSearchTool t;
    if (!spec.contains("vector_store_ids")) {
        throw HttpError(400, "'" + at + ".vector_store_ids' is required", at + ".vector_store_ids");
    }
    t.vector_store_ids = string_list(spec["vector_store_ids"], at + ".vector_store_ids");
    if (t.vector_store_ids.empty()) {
        throw HttpError(400, "'" + at + ".vector_store_ids' is empty", at + ".vector_store_ids");
    }
    if (spec.contains("max_num_results") && !spec["max_num_results"].is_null()) {
        const json& n = spec["max_num_results"];
        if (!n.is_number_integer() || n.get<int64_t>() < 1 || n.get<int64_t>() > 50) {
            throw HttpError(400, "'" + at + ".max_num_results' must be an integer from 1 to 50",
                            at + ".max_num_results");
        }
        t.max_num_results = n.get<int>();
    }
    return t;
}

}  // namespace

bool is_file_id(std::string_view id) {
    return hex_id(id, "file-");
}
bool is_vector_store_id(std::string_view id) {
    return hex_id(id, "vs_");
}

json file_object(const UploadedFile& f) {
    return {{"id", f.id},
            {"object", "file"},
            {"bytes", f.bytes},
            {"created_at", f.created_at},
            {"filename", f.filename},
            {"purpose", f.purpose},
            {"status", "processed"},
            {"expires_at", nullptr},
            {"status_details", nullptr}};
}

json vector_store_object(const VectorStoreInfo& vs) {
    int in_progress = 0, completed = 0, failed = 0;
    uint64_t usage = 0;
    for (const VectorStoreFile& f : vs.files) {
        in_progress += f.status == "in_progress";
        completed += f.status == "completed";
        failed += f.status == "failed";
        usage += f.usage_bytes;
    }
    return {{"id", vs.id},
            {"object", "vector_store"},
            {"created_at", vs.created_at},
            {"name", vs.name},
            {"usage_bytes", usage},
            {"file_counts",
             {{"in_progress", in_progress},
              {"completed", completed},
              {"failed", failed},
              {"cancelled", 0},
              {"total", (int)vs.files.size()}}},
            {"status", in_progress > 0 ? "in_progress" : "completed"},
            {"expires_after", nullptr},
            {"expires_at", nullptr},
            {"last_active_at", vs.created_at},
            {"metadata", vs.metadata},
            {"embedding_model", vs.embedding_model}};
}

json vector_store_file_object(const std::string& vector_store_id, const VectorStoreFile& f) {
    return {{"id", f.file_id},
            {"object", "vector_store.file"},
            {"usage_bytes", f.usage_bytes},
            {"created_at", f.created_at},
            {"vector_store_id", vector_store_id},
            {"status", f.status},
            {"last_error", f.last_error.empty()
                               ? json(nullptr)
                               : json{{"code", "server_error"}, {"message", f.last_error}}},
            {"chunking_strategy", {{"type", "auto"}}},
            {"attributes", json::object()}};
}

json deleted_object(const std::string& id, const char* object) {
    return {{"id", id}, {"object", object}, {"deleted", true}};
}

PageRequest page_request(const std::string& limit, const std::string& order,
                         const std::string& after, const std::string& before, int default_limit,
                         int max_limit) {
    PageRequest page;
    page.limit = default_limit;
    if (!limit.empty()) {
        size_t used = 0;
        int n = 0;
        try {
            n = std::stoi(limit, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != limit.size() || n < 1 || n > max_limit) {
            throw HttpError(
                400, "'limit' must be an integer from 1 to " + std::to_string(max_limit), "limit");
        }
        page.limit = n;
    }
    if (!order.empty() && order != "asc" && order != "desc") {
        throw HttpError(400, "'order' must be 'asc' or 'desc'", "order");
    }
    page.ascending = order == "asc";
    page.after = after;
    page.before = before;
    return page;
}

json list_page(const json& oldest_first, const PageRequest& page) {
    std::vector<const json*> items;
    for (const json& item : oldest_first) items.push_back(&item);
    if (!page.ascending) std::reverse(items.begin(), items.end());
    auto position = [&](const std::string& id) {
        return std::find_if(items.begin(), items.end(),
                            [&](const json* item) { return (*item)["id"] == id; });
    };
    auto begin = items.begin(), end = items.end();
    if (!page.after.empty()) {  // an unknown cursor: nothing after it
        const auto at = position(page.after);
        begin = at == end ? end : at + 1;
    }
    if (!page.before.empty()) end = std::max(begin, position(page.before));
    // Before a cursor, the page is the items just before it; after one (or from the start), the
    // items that follow.
    const auto n = std::min<std::ptrdiff_t>(page.limit, end - begin);
    const bool backwards = !page.before.empty() && page.after.empty();
    const auto first = backwards ? end - n : begin;
    json data = json::array();
    for (auto it = first; it != first + n; ++it) data.push_back(**it);
    const bool more = backwards ? first != begin : first + n != end;
    return {{"object", "list"},
            {"data", data},
            {"first_id", ids_or_null(data, true)},
            {"last_id", ids_or_null(data, false)},
            {"has_more", more}};
}

json search_results_page(const std::string& query, const std::vector<SearchResult>& results) {
    json data = json::array();
    for (const SearchResult& r : results) {
        json content = json::array();
        for (const std::string& t : r.texts) content.push_back({{"type", "text"}, {"text", t}});
        data.push_back({{"file_id", r.file_id},
                        {"filename", r.filename},
                        {"score", r.score},
                        {"attributes", json::object()},
                        {"content", content}});
    }
    return {{"object", "vector_store.search_results.page"},
            {"search_query", json::array({query})},
            {"data", data},
            {"has_more", false},
            {"next_page", nullptr}};
}

json vector_store_record(const VectorStoreInfo& vs) {
    json files = json::array();
    for (const VectorStoreFile& f : vs.files) {
        files.push_back({{"file_id", f.file_id},
                         {"filename", f.filename},
                         {"status", f.status},
                         {"created_at", f.created_at},
                         {"usage_bytes", f.usage_bytes},
                         {"last_error", f.last_error}});
    }
    return {{"id", vs.id},
            {"name", vs.name},
            {"created_at", vs.created_at},
            {"embedding_model", vs.embedding_model},
            {"metadata", vs.metadata},
            {"files", files}};
}

VectorStoreInfo vector_store_from_record(const json& j) {
    try {
        VectorStoreInfo vs;
        vs.id = j.at("id").get<std::string>();
        vs.name = j.at("name").get<std::string>();
        vs.created_at = j.at("created_at").get<int64_t>();
        vs.embedding_model = j.at("embedding_model").get<std::string>();
        vs.metadata = j.value("metadata", json::object());
        for (const json& f : j.at("files")) {
            vs.files.push_back({f.at("file_id").get<std::string>(), f.value("filename", ""),
                                f.at("status").get<std::string>(),
                                f.at("created_at").get<int64_t>(),
                                f.at("usage_bytes").get<uint64_t>(), f.value("last_error", "")});
        }
        return vs;
    } catch (const json::exception& e) {
        throw Error(std::string("malformed vector store record: ") + e.what(), ErrorKind::Io);
    }
}

json uploaded_file_record(const UploadedFile& f) {
    return {{"id", f.id},
            {"filename", f.filename},
            {"purpose", f.purpose},
            {"bytes", f.bytes},
            {"created_at", f.created_at}};
}

UploadedFile uploaded_file_from_record(const json& j) {
    try {
        return {j.at("id").get<std::string>(), j.at("filename").get<std::string>(),
                j.at("purpose").get<std::string>(), j.at("bytes").get<uint64_t>(),
                j.at("created_at").get<int64_t>()};
    } catch (const json::exception& e) {
        throw Error(std::string("malformed file record: ") + e.what(), ErrorKind::Io);
    }
}

std::vector<FileSearchTool> take_file_search_tools(json& tools, bool chat_shape) {
    std::vector<FileSearchTool> out;
    if (!tools.is_array()) return out;
    json rest = json::array();
    for (size_t i = 0; i < tools.size(); ++i) {
        const json& t = tools[i];
        const std::string at = "tools[" + std::to_string(i) + "]";
        if (!t.is_object() || t.value("type", "") != "file_search") {
            rest.push_back(t);
            continue;
        }
        if (chat_shape) {
            if (!t.contains("file_search")) {
                throw HttpError(400, "'" + at + ".file_search' is required", at + ".file_search");
            }
            out.push_back(file_search_tool(t["file_search"], at + ".file_search"));
        } else {
            out.push_back(file_search_tool(t, at));
        }
    }
    tools = std::move(rest);
    return out;
}

json file_search_call_item(const std::string& id, const std::vector<std::string>& queries,
                           const char* status, const std::vector<SearchResult>* results) {
    json r = nullptr;
    if (results) {
        r = json::array();
        for (const SearchResult& s : *results) {
            std::string text;
            for (const std::string& t : s.texts) text += (text.empty() ? "" : "\n\n") + t;
            r.push_back({{"file_id", s.file_id},
                         {"filename", s.filename},
                         {"score", s.score},
                         {"text", text},
                         {"attributes", json::object()}});
        }
    }
    return {{"id", id},
            {"type", "file_search_call"},
            {"status", status},
            {"queries", queries},
            {"results", r}};
}

json file_citations(const std::string& text, const std::vector<SearchResult>& sources) {
    json out = json::array();
    auto cite = [&](const SearchResult& s, size_t index) {
        out.push_back({{"type", "file_citation"},
                       {"file_id", s.file_id},
                       {"filename", s.filename},
                       {"index", index}});
    };
    std::vector<std::pair<size_t, const SearchResult*>> found;
    for (const SearchResult& s : sources) {
        const std::string mark = "[" + s.filename;
        for (size_t at = text.find(mark); at != std::string::npos; at = text.find(mark, at + 1)) {
            found.emplace_back(at, &s);
        }
    }
    std::sort(found.begin(), found.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [at, s] : found) cite(*s, at);
    if (found.empty()) {
        for (const SearchResult& s : sources) cite(s, text.size());
    }
    return out;
}

}  // namespace lokal::server
