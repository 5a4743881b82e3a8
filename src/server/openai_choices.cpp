#include "server/openai_choices.h"

#include <cstdio>
#include <vector>

#include "server/answer_driver.h"
#include "server/api_util.h"
#include "server/completion.h"
#include "sampling/sampler.h"
#include "server/http_error.h"
#include "server/request_options.h"
#include "tokenizer/tokenizer.h"

namespace lokal::server {

using json = nlohmann::ordered_json;

namespace {

using Streams = std::vector<std::shared_ptr<CompletionStream>>;

void cancel_all(const Streams& streams) {
    for (const auto& s : streams) s->cancel();
}

Streams start_choices(LoadedModel& m, const ChoicesRequest& r) {
    Streams streams;
    try {
        for (int i = 0; i < r.n; ++i) {
            GenerationParams p = r.g.params;
            if (p.sampling.seed != sampling::kRandomSeed) p.sampling.seed += (uint64_t)i;
            streams.push_back(start_completion(m, r.g.prompt, p, r.n_probs, r.g.hooks(m)));
            if (i == 0) streams[0]->wait_started();
        }
    } catch (...) {
        cancel_all(streams);
        throw;
    }
    return streams;
}

json total_usage(const Streams& streams) {
    int completion = 0;
    for (const auto& s : streams) completion += s->result().stats.generated_tokens;
    return openai_usage(streams[0]->prompt_tokens(), completion,
                        streams[0]->result().cached_tokens);
}

void answer_whole(ServerState& state, const httplib::Request& req, httplib::Response& res,
                  LoadedModel& m, const Streams& streams, const ChoicesRequest& r) {
    json choices = json::array();
    try {
        for (size_t i = 0; i < streams.size(); ++i) {
            CompletionStream& s = *streams[i];
            OutputState output = r.g.make_output();
            const CollectedAnswer all = collect_answer(s, output);
            account_answer(state, req, r.envelope.model, s);
            choices.push_back(openai_choice(r.envelope,
                                            {all.parsed, all.pieces, s, output.has_tool_calls()},
                                            r.n_probs, m.model->tokenizer(), (int)i));
        }
    } catch (...) {
        cancel_all(streams);
        throw;
    }
    res.set_content(openai_completion(r.envelope, std::move(choices), total_usage(streams))
                        .dump(-1, ' ', false, kReplaceInvalidUtf8),
                    "application/json");
}

// What a streamed response keeps between chunks: the choice being written, and each choice's
// parser and codec.
struct ChoiceStreams {
    Streams streams;
    std::vector<OutputState> outputs;
    std::vector<std::unique_ptr<OpenAICodec>> codecs;
    size_t current = 0;
};

// The text for what choice `c.current` produced since the last call; `finished` once the last
// choice ended (or one failed).
std::string next_text(ServerState& state, const httplib::Request& req, const std::string& model,
                      ChoiceStreams& c, bool& finished) {
    CompletionStream& s = *c.streams[c.current];
    OpenAICodec& codec = *c.codecs[c.current];
    OutputState& output = c.outputs[c.current];
    std::vector<Piece> pieces;
    const bool more = s.next(pieces);
    std::string out;
    for (const Piece& p : pieces) out += codec.delta(output.feed(p.text), p);
    if (more) return out;
    if (!s.result().error.empty()) {
        finished = true;
        return out + codec.error(s.result().error);
    }
    const chat::ParsedDelta tail = output.finish();
    account_answer(state, req, model, s);
    static const std::vector<Piece> kNoPieces;
    out += codec.end({tail, kNoPieces, s, output.has_tool_calls()});
    if (++c.current < c.streams.size()) return out;
    finished = true;
    return out + codec.trailer(total_usage(c.streams));
}

void answer_streamed(ServerState& state, const httplib::Request& req, httplib::Response& res,
                     LoadedModel& m, Streams streams, std::shared_ptr<void> keep,
                     const ChoicesRequest& r) {
    auto c = std::make_shared<ChoiceStreams>();
    for (size_t i = 0; i < streams.size(); ++i) {
        c->outputs.push_back(r.g.make_output());
        c->codecs.push_back(std::make_unique<OpenAICodec>(
            r.envelope, r.n_probs, r.include_usage, m.model->tokenizer(), (int)i, false));
    }
    c->streams = std::move(streams);
    state.open_streams.fetch_add(1);
    res.set_chunked_content_provider(
        "text/event-stream",
        [&state, &req, model = r.envelope.model, c, keep = std::move(keep)](
            size_t, httplib::DataSink& sink) {
            bool finished = false;
            std::string out;
            try {
                out = next_text(state, req, model, *c, finished);
            } catch (const std::exception& e) {
                // Nothing may escape into the HTTP thread: end this stream, keep the server.
                std::fprintf(stderr, "lokal: streaming a response failed: %s\n", e.what());
                cancel_all(c->streams);
                return false;
            }
            if (!out.empty() && !sink.write(out.data(), out.size())) {
                cancel_all(c->streams);  // the client went away
                return false;
            }
            if (finished) {
                cancel_all(c->streams);  // after a failed choice, the rest are not read
                sink.done();
            }
            return true;
        },
        [c, &state](bool success) {
            if (!success) cancel_all(c->streams);
            state.open_streams.fetch_sub(1);
        });
}

}  // namespace

int openai_choices_wanted(const json& body) {
    const json* n = field(body, "n");
    if (!n || n->is_null()) return 1;
    if (!n->is_number_integer() || n->get<int64_t>() < 1 || n->get<int64_t>() > kMaxChoices) {
        throw HttpError(400, "'n' must be an integer from 1 to " + std::to_string(kMaxChoices),
                        "n");
    }
    return n->get<int>();
}

void answer_openai_choices(ServerState& state, const httplib::Request& req,
                           httplib::Response& res, LoadedModel& model, std::shared_ptr<void> keep,
                           const ChoicesRequest& r) {
    Streams streams = start_choices(model, r);
    if (r.streaming) {
        answer_streamed(state, req, res, model, std::move(streams), std::move(keep), r);
    } else {
        answer_whole(state, req, res, model, streams, r);
    }
}

}  // namespace lokal::server
