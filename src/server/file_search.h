// What the files and vector-store routes and the file_search tool share: the stores of uploaded
// files and vector stores, the embedding model a new vector store gets, and searching stores.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/file_store.h"
#include "server/server.h"
#include "server/vector_store_registry.h"

namespace lokal::server {

// The server's stores, under the model store's directory.
FileStore& uploaded_files();
VectorStoreRegistry& vector_stores();

// The page a list request asks for: its limit, order, after and before query parameters.
PageRequest list_request(const httplib::Request& req, int default_limit, int max_limit);

// `--embed-model`, else the first embedding model in the store; HttpError 400 naming
// "embedding_model" when there is none.
std::string default_embedding_model(const ServerState& state);

// The stores' best chunks for the query, best first, at most k in all. HttpError 404 naming
// `field` for an unknown store.
StoreHits search_vector_stores(ServerState& state, const std::vector<std::string>& store_ids,
                               const std::string& query, int k, const std::string& field);

// The text of the last user message of a chat-shaped message list, or of a Responses input (a
// string or items); "" when there is none.
std::string last_user_text(const nlohmann::ordered_json* messages_or_input);

}  // namespace lokal::server
