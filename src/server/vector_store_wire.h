// OpenAI's files and vector-store objects as pure functions: the file object, the vector store
// and vector-store file objects, list pages, the search results page, the `file_search` tool as
// requests give it, the Responses API's file_search_call item and file_citation annotations.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace lokal::server {

struct UploadedFile {
    std::string id;  // file-<hex>
    std::string filename;
    std::string purpose;
    uint64_t bytes = 0;
    int64_t created_at = 0;
};

struct VectorStoreFile {
    std::string file_id;
    std::string filename;  // the uploaded file's, kept so results name it after it is deleted
    std::string status;    // in_progress, completed, failed
    int64_t created_at = 0;
    uint64_t usage_bytes = 0;
    std::string last_error;  // when failed
};

struct VectorStoreInfo {
    std::string id;  // vs_<hex>
    std::string name;
    int64_t created_at = 0;
    std::string embedding_model;
    std::vector<VectorStoreFile> files;
    nlohmann::ordered_json metadata = nlohmann::ordered_json::object();
};

// One file's best chunks for a query.
struct SearchResult {
    std::string file_id;
    std::string filename;
    double score = 0;
    std::vector<std::string> texts;
};

// The `file_search` tool: which stores to search and how many chunks to take.
struct FileSearchTool {
    std::vector<std::string> vector_store_ids;
    int max_num_results = 10;
};

// "file-" / "vs_" followed by 1 to 32 lowercase hex digits: nothing that could name a path.
bool is_file_id(std::string_view id);
bool is_vector_store_id(std::string_view id);

nlohmann::ordered_json file_object(const UploadedFile& f);
nlohmann::ordered_json vector_store_object(const VectorStoreInfo& vs);
nlohmann::ordered_json vector_store_file_object(const std::string& vector_store_id,
                                                const VectorStoreFile& f);
// {"id", "object": object, "deleted": true}
nlohmann::ordered_json deleted_object(const std::string& id, const char* object);
// OpenAI's cursor pagination of a list: newest first unless `ascending`, the items after (or
// before) the one with a given id, at most `limit` of them.
struct PageRequest {
    int limit = 20;
    bool ascending = false;
    std::string after, before;
};
// From the query parameters limit (1..max_limit, default default_limit), order (asc|desc), after
// and before; a bad value is a 400 naming the parameter.
PageRequest page_request(const std::string& limit, const std::string& order,
                         const std::string& after, const std::string& before, int default_limit,
                         int max_limit);
// {"object": "list", "data", "first_id", "last_id", "has_more"}: one page of `oldest_first` (the
// list's objects in creation order, each with an "id").
nlohmann::ordered_json list_page(const nlohmann::ordered_json& oldest_first,
                                 const PageRequest& page);
nlohmann::ordered_json search_results_page(const std::string& query,
                                           const std::vector<SearchResult>& results);

// The stored form of a vector store's metadata, and back (lokal::Error for a malformed record).
nlohmann::ordered_json vector_store_record(const VectorStoreInfo& vs);
VectorStoreInfo vector_store_from_record(const nlohmann::ordered_json& j);
nlohmann::ordered_json uploaded_file_record(const UploadedFile& f);
UploadedFile uploaded_file_from_record(const nlohmann::ordered_json& j);

// Takes the file_search tools out of `tools` (a request's list; null or absent is none), leaving
// the rest. Responses shape: {"type": "file_search", "vector_store_ids": [...],
// "max_num_results": N}; chat shape (a lokal extension): {"type": "file_search", "file_search":
// {...the same fields}}. HttpError 400 naming the field when malformed.
std::vector<FileSearchTool> take_file_search_tools(nlohmann::ordered_json& tools, bool chat_shape);

// The Responses API's file_search_call output item; results only when asked for (include
// "file_search_call.results"), else null.
nlohmann::ordered_json file_search_call_item(const std::string& id,
                                             const std::vector<std::string>& queries,
                                             const char* status,
                                             const std::vector<SearchResult>* results);

// file_citation annotations for an answer that was given `sources`: one at each place the text
// cites a source as "[filename" (its index: the character offset of the citation); when it cites
// none, one per source at the end of the text, since all of them were put before the model.
nlohmann::ordered_json file_citations(const std::string& text,
                                      const std::vector<SearchResult>& sources);

}  // namespace lokal::server
