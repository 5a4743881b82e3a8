// OpenAI's Responses API wire format: the response object with its output items (reasoning,
// message, function_call), the streamed events (response.created ... response.completed, each
// with a sequence_number), and the stored record a later previous_response_id continues from.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "chat/tool_call_parser.h"
#include "server/answer_driver.h"
#include "server/response_store.h"
#include "server/vector_store_wire.h"

namespace lokal::server {

struct ResponsesEnvelope {
    std::string id;  // resp_...
    int64_t created_at = 0;
    std::string model;
    nlohmann::ordered_json echo;          // request fields the response repeats
    nlohmann::ordered_json conversation;  // for the stored record (chat shape)
    nlohmann::ordered_json input_items;
    bool store = true;
};

// The response object: status in_progress (no usage yet), completed or incomplete.
nlohmann::ordered_json responses_object(const ResponsesEnvelope& e, const std::string& status,
                                        const nlohmann::ordered_json& output,
                                        const nlohmann::ordered_json& usage);
nlohmann::ordered_json responses_usage(const CompletionStream& s);
nlohmann::ordered_json responses_function_call(const chat::ToolCall& call,
                                               const std::string& item_id);

// A file_search the server ran before generating: shown as a file_search_call item before the
// message, whose text gets file_citation annotations for the files searched.
struct FileSearchOutput {
    std::string id;  // fs_...
    std::vector<std::string> queries;
    std::vector<SearchResult> results;
    bool include_results = false;  // include: ["file_search_call.results"]
};

class ResponsesCodec : public AnswerCodec {
  public:
    ResponsesCodec(ResponsesEnvelope envelope, std::shared_ptr<ResponseStore> store)
        : env_(std::move(envelope)), store_(std::move(store)) {}
    const char* stream_content_type() const override { return "text/event-stream"; }
    std::string delta(const chat::ParsedDelta& d, const Piece& piece) override;
    std::string end(const Answer& tail) override;
    std::string error(const std::string& message) override;
    std::string whole(const Answer& answer) override;
    void set_file_search(FileSearchOutput fs) { file_search_ = std::move(fs); }

  private:
    // An output item being streamed.
    struct Item {
        std::string kind;  // reasoning, message, function_call
        std::string id;
        std::string text;             // reasoning or message text
        nlohmann::ordered_json done;  // the finished item
    };
    std::string event(const std::string& type, const nlohmann::ordered_json& data);
    std::string start();
    std::string open_text(const std::string& kind);
    std::string close_text();
    std::string stream_delta(const chat::ParsedDelta& d);
    nlohmann::ordered_json finish(const Answer& a, const nlohmann::ordered_json& output);
    nlohmann::ordered_json file_search_item(const char* status) const;
    // The message text's annotations: file citations when a file_search ran.
    nlohmann::ordered_json annotations(const std::string& text) const;
    std::string stream_file_search();

    ResponsesEnvelope env_;
    std::shared_ptr<ResponseStore> store_;
    bool started_ = false;
    int sequence_ = 0;
    std::vector<Item> items_;
    bool text_open_ = false;  // items_.back() is a reasoning/message item still streaming
    std::optional<FileSearchOutput> file_search_;
};

}  // namespace lokal::server
