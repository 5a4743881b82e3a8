#include "server/generation_request.h"

#include "chat/fill_in_middle.h"
#include "server/http_error.h"
#include "server/prompt.h"
#include "server/structured_output.h"
#include "tokenizer/tokenizer.h"

namespace lokal::server {

using json = nlohmann::ordered_json;

OutputState::OutputState(std::string_view chat_template, bool has_tools,
                         chat::ReasoningMode reasoning, std::string_view rendered_prompt) {
    const chat::ParserSetup setup =
        chat::choose_parser(chat_template, has_tools, reasoning, rendered_prompt);
    parser_ = std::make_unique<chat::OutputParser>(setup.format, setup.options);
}

chat::ParsedDelta OutputState::counted(chat::ParsedDelta&& d) {
    tool_calls_ += (int)d.tool_calls.size();
    return std::move(d);
}

chat::ParsedDelta OutputState::feed(std::string_view text) {
    if (parser_) return counted(parser_->feed(text));
    chat::ParsedDelta d;
    d.content = std::string(text);
    return d;
}

chat::ParsedDelta OutputState::finish() {
    if (parser_) return counted(parser_->finish());
    return {};
}

OutputState GenerationRequest::make_output() const {
    if (!parse_output) return OutputState();
    return OutputState(chat_template, has_tools, reasoning, prompt_text);
}

namespace {

bool has_images(const json& holder) {
    const json* images = holder.is_object() ? field(holder, "images") : nullptr;
    return images && !images->is_null() && !(images->is_array() && images->empty());
}

}  // namespace

bool can_think(const LoadedModel& m) {
    for (const std::string* t :
         {&m.chat_template, m.defaults.template_text ? &*m.defaults.template_text : nullptr}) {
        if (t && (t->find("<think>") != std::string::npos ||
                  t->find("enable_thinking") != std::string::npos)) {
            return true;
        }
    }
    return false;
}

namespace {

// What the model cannot do is refused, as Ollama refuses it, instead of silently ignored.
void refuse_what_the_model_lacks(const LoadedModel& m, const json& body) {
    bool images = has_images(body);
    if (const json* messages = field(body, "messages"); messages && messages->is_array()) {
        for (const json& msg : *messages) images = images || has_images(msg);
    }
    if (images) {
        throw HttpError(400, "'" + m.name + "' does not support images (it reads text only)",
                        "images");
    }
    const json* think = field(body, "think");
    const bool wants_thinking =
        think && ((think->is_boolean() && think->get<bool>()) || think->is_string());
    if (wants_thinking && !can_think(m)) {
        throw HttpError(400, "'" + m.name + "' does not support thinking", "think");
    }
}

}  // namespace

chat::ReasoningMode think_mode(const json& body, chat::ReasoningMode fallback) {
    const json* t = field(body, "think");
    if (!t) return fallback;
    if (t->is_boolean())
        return t->get<bool>() ? chat::ReasoningMode::Separate : chat::ReasoningMode::Inline;
    // "low" / "medium" / "high" (gpt-oss effort levels) all mean: think, separately.
    if (t->is_string()) return chat::ReasoningMode::Separate;
    throw HttpError(400, "'think' must be a boolean", "think");
}

json think_template_vars(const json& body) {
    const json* t = field(body, "think");
    if (!t || t->is_null()) return json::object();
    return {{"enable_thinking",
             think_mode(body, chat::ReasoningMode::Inline) == chat::ReasoningMode::Separate}};
}

bool tools_given(const json* tools) {
    if (!tools) return false;
    if (!tools->is_array()) throw HttpError(400, "'tools' must be a list", "tools");
    return !tools->empty();
}

std::string suffix_field(const json& body) {
    const json* s = field(body, "suffix");
    if (!s || s->is_null()) return "";
    if (!s->is_string()) throw HttpError(400, "'suffix' must be a string", "suffix");
    return s->get<std::string>();
}

std::vector<int32_t> fill_in_middle_prompt(const LoadedModel& m, const std::string& prefix,
                                           const std::string& suffix) {
    const tokenizer::Tokenizer& tok = m.model->tokenizer();
    const auto fim = chat::find_fim_tokens(tok, chat::fim_token_ids(m.model->file()));
    if (!fim) {
        throw HttpError(400,
                        "'" + m.name +
                            "' does not support insert (fill-in-the-middle): its vocabulary "
                            "has no FIM tokens; use a code model such as Qwen2.5-Coder",
                        "suffix");
    }
    return chat::fim_prompt(tok, *fim, prefix, suffix);
}

engine::SequenceRequest GenerationRequest::hooks(LoadedModel& model) const {
    engine::SequenceRequest r;
    constrain_request(model, format, r);
    return r;
}

namespace {

void add_stops(GenerationParams& p, const std::vector<std::string>& stops) {
    for (const auto& s : stops) {
        if (std::find(p.generate.stop.begin(), p.generate.stop.end(), s) == p.generate.stop.end()) {
            p.generate.stop.push_back(s);
        }
    }
}

}  // namespace

GenerationRequest ollama_generate_request(const LoadedModel& m, const json& body) {
    refuse_what_the_model_lacks(m, body);
    GenerationRequest g;
    g.params = ollama_params(m.defaults.parameters, field(body, "options"));
    const std::string prompt = required_string(body, "prompt");
    if (const std::string suffix = suffix_field(body); !suffix.empty()) {
        g.prompt = fill_in_middle_prompt(m, prompt, suffix);
        g.format = ollama_format(body);
        return g;
    }
    const bool raw = optional_bool(body, "raw", false);
    std::vector<int32_t> context;
    if (const json* c = field(body, "context")) {
        if (!c->is_array())
            throw HttpError(400, "'context' must be a list of token ids", "context");
        for (const auto& t : *c) {
            if (!t.is_number_integer()) {
                throw HttpError(400, "'context' must be a list of token ids", "context");
            }
            context.push_back(t.get<int32_t>());
        }
    }
    std::string text;
    if (raw) {
        text = prompt;
    } else {
        json messages = json::array();
        std::optional<std::string> system = m.defaults.system;
        if (const json* s = field(body, "system")) {
            if (!s->is_string()) throw HttpError(400, "'system' must be a string", "system");
            system = s->get<std::string>();
        }
        if (system) messages.push_back({{"role", "system"}, {"content", *system}});
        messages.push_back({{"role", "user"}, {"content", prompt}});
        // Ollama replays the MESSAGE lines on /api/generate too, unless the request continues a
        // `context` (which already holds them).
        if (context.empty()) messages = with_stored_messages(m.defaults.messages, messages);
        const std::optional<PromptTemplate> tmpl = request_template(body);
        const json vars = think_template_vars(body);
        ChatPrompt cp = chat_prompt(m, messages, nullptr, vars.empty() ? nullptr : &vars,
                                    tmpl ? &*tmpl : nullptr);
        text = cp.text;
        add_stops(g.params, cp.stop);
        g.reasoning = think_mode(body, chat::ReasoningMode::Inline);
        g.parse_output = field(body, "think") != nullptr;
        g.chat_template = m.prompt_format.text;
    }
    g.prompt_text = text;
    g.format = ollama_format(body);
    if (context.empty()) {
        g.prompt = tokenize_prompt(m, text);
    } else {
        g.prompt = context;
        const auto more = m.model->tokenizer().encode(text, false, true);
        g.prompt.insert(g.prompt.end(), more.begin(), more.end());
    }
    return g;
}

GenerationRequest ollama_chat_request(const LoadedModel& m, const json& body) {
    refuse_what_the_model_lacks(m, body);
    GenerationRequest g;
    g.params = ollama_params(m.defaults.parameters, field(body, "options"));
    const json* messages = field(body, "messages");
    if (!messages) throw HttpError(400, "'messages' is required", "messages");
    const std::optional<PromptTemplate> tmpl = request_template(body);
    // A conversation longer than the context loses its oldest turns (truncate: false refuses).
    const int n_ctx = m.scheduler ? m.scheduler->context_for(g.params.n_ctx) : g.params.n_ctx;
    const json vars = think_template_vars(body);
    const json conversation = with_stored_messages(m.defaults.messages, *messages);
    FittedChat fit = fit_chat_prompt(m, conversation, field(body, "tools"), n_ctx,
                                     optional_bool(body, "truncate", true),
                                     vars.empty() ? nullptr : &vars, tmpl ? &*tmpl : nullptr);
    add_stops(g.params, fit.prompt.stop);
    g.prompt = std::move(fit.tokens);
    g.prompt_text = fit.prompt.text;
    g.has_tools = tools_given(field(body, "tools"));
    g.reasoning = think_mode(body, chat::ReasoningMode::Inline);
    g.parse_output = g.has_tools || field(body, "think") != nullptr;
    g.format = ollama_format(body);
    g.chat_template = m.prompt_format.text;
    return g;
}

}  // namespace lokal::server
