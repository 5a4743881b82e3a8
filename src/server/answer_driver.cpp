#include "server/answer_driver.h"

#include "server/api_util.h"
#include "server/http_error.h"

namespace lokal::server {

void account_answer(ServerState& state, const httplib::Request& req, const std::string& model,
                    const CompletionStream& s) {
    const int generated = s.result().stats.generated_tokens;
    state.metrics.count_tokens(s.prompt_tokens(), generated);
    state.metrics.count_draft(s.result().stats.draft_tokens, s.result().stats.draft_accepted);
    state.metrics.add_ttft(s.result().stats.prompt_seconds);
    state.note(req, {model, s.prompt_tokens(), generated});
}

CollectedAnswer collect_answer(CompletionStream& stream, OutputState& output) {
    CollectedAnswer all;
    std::vector<Piece> pieces;
    while (stream.next(pieces)) {
        for (Piece& p : pieces) {
            all.parsed.append(output.feed(p.text));
            all.pieces.push_back(std::move(p));
        }
    }
    if (!stream.result().error.empty()) throw HttpError(500, stream.result().error);
    all.parsed.append(output.finish());
    return all;
}

namespace {

void answer_whole(ServerState& state, const httplib::Request& req, httplib::Response& res,
                  const std::string& model, CompletionStream& stream, OutputState& output,
                  AnswerCodec& codec) {
    const CollectedAnswer all = collect_answer(stream, output);
    account_answer(state, req, model, stream);
    res.set_content(codec.whole({all.parsed, all.pieces, stream, output.has_tool_calls()}),
                    "application/json");
}

}  // namespace

void drive_answer(ServerState& state, const httplib::Request& req, httplib::Response& res,
                  const std::string& model, const std::shared_ptr<CompletionStream>& stream,
                  std::shared_ptr<void> keep, OutputState output,
                  const std::shared_ptr<AnswerCodec>& codec, bool streaming) {
    if (!streaming) {
        answer_whole(state, req, res, model, *stream, output, *codec);
        return;
    }
    auto parser = std::make_shared<OutputState>(std::move(output));
    const char* type = codec->stream_content_type();
    stream_response(
        state, res, type, stream, std::move(keep),
        [&state, &req, model, stream, parser, codec](const std::vector<Piece>& pieces, bool done) {
            std::string out;
            for (const Piece& p : pieces) out += codec->delta(parser->feed(p.text), p);
            if (!done) return out;
            if (!stream->result().error.empty()) {
                return out + codec->error(stream->result().error);
            }
            const chat::ParsedDelta tail = parser->finish();
            account_answer(state, req, model, *stream);
            static const std::vector<Piece> kNoPieces;
            return out + codec->end({tail, kNoPieces, *stream, parser->has_tool_calls()});
        });
}

}  // namespace lokal::server
