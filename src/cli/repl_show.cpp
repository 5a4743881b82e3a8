// The REPL's /show subcommands: what the loaded model is and what the session uses.
#include <cstdio>
#include <string>

#include "chat/builtin_format.h"
#include "base/error.h"
#include "cli/repl_commands.h"
#include "cli/server_connection.h"
#include "gguf/file_summary.h"
#include "model/model.h"

namespace lokal::cli {
namespace {

void row(const char* key, const std::string& value) {
    std::printf("    %-20s %s\n", key, value.c_str());
}

void show_info(const server::LoadedModel& m) {
    const gguf::File& f = m.model->file();
    const model::ModelConfig& c = m.model->config();
    uint64_t params = 0;
    for (const auto& t : f.tensors()) params += t.n_elements;
    std::printf("  Model\n");
    row("name", m.name);
    row("architecture", c.arch);
    row("parameters", gguf::human_count(static_cast<double>(params)));
    row("context length", std::to_string(c.n_ctx_train));
    row("embedding length", std::to_string(c.n_embd));
    row("quantization", gguf::quantization_name(f));
    if (m.defaults.system) {
        std::printf("\n  System\n    %s\n", m.defaults.system->c_str());
    }
    if (!m.defaults.parameters.empty()) {
        std::printf("\n  Parameters\n");
        for (const auto& [key, value] : m.defaults.parameters.items()) {
            row(key.c_str(), value.is_string() ? value.get<std::string>() : value.dump());
        }
    }
    std::printf("\n");
}

void show_parameters(const RunOptions& o) {
    std::printf("Model defined parameters and those set in this session:\n");
    auto num = [](double v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", v);
        return std::string(buf);
    };
    row("temperature", num(o.temperature));
    row("top_k", std::to_string(o.top_k));
    row("top_p", num(o.top_p));
    row("min_p", num(o.min_p));
    row("repeat_penalty", num(o.repeat_penalty));
    row("num_predict", std::to_string(o.n_predict));
    if (o.n_ctx > 0) row("num_ctx", std::to_string(o.n_ctx));
    if (o.seed) row("seed", std::to_string(*o.seed));
    for (const std::string& s : o.stop) row("stop", nlohmann::json(s).dump());
}

void show_template(const server::LoadedModel& m) {
    if (m.defaults.template_text && !m.defaults.template_text->empty()) {
        std::printf("%s\n", m.defaults.template_text->c_str());
    } else if (!m.chat_template.empty()) {
        std::printf("%s\n", m.chat_template.c_str());
    } else if (m.prompt_format.family != chat::ChatFamily::None) {
        std::printf("(the built-in %s format)\n", chat::family_name(m.prompt_format.family));
    } else {
        std::printf("No prompt template was specified for this model.\n");
    }
}


// /show through a server: what its /api/show says of the model.
void show_from_server(const ReplState& st, const std::string& what) {
    nlohmann::json info;
    try {
        info = call_server(*st.server, "POST", "/api/show", {{"model", st.options.model}});
    } catch (const Error& e) {
        std::printf("Couldn't show the model: %s\n", e.what());
        return;
    }
    auto text = [&](const char* key, const char* none) {
        const std::string v = info.value(key, "");
        std::printf("%s\n", v.empty() ? none : v.c_str());
    };
    if (what == "info") {
        const nlohmann::json d = info.value("details", nlohmann::json::object());
        std::printf("  Model\n");
        row("family", d.value("family", ""));
        row("parameters", d.value("parameter_size", ""));
        row("quantization", d.value("quantization_level", ""));
        const auto mi = info.find("model_info");
        if (mi != info.end() && mi->is_object()) {
            for (auto it = mi->begin(); it != mi->end(); ++it) {
                if (it.key().ends_with(".context_length")) row("context length", it->dump());
            }
        }
    } else if (what == "parameters") {
        show_parameters(st.options);
        text("parameters", "");
    } else if (what == "system") {
        if (!st.options.system.empty()) {
            std::printf("%s\n", st.options.system.c_str());
        } else {
            text("system", "No system message was specified for this model.");
        }
    } else if (what == "template") {
        text("template", "No prompt template was specified for this model.");
    } else if (what == "license") {
        text("license", "No license was specified for this model.");
    } else if (what == "modelfile") {
        text("modelfile", "");
    } else {
        std::printf("Unknown command '/show %s'. Type /? for help\n", what.c_str());
    }
}

}  // namespace

void show_in_repl(const ReplState& st, const std::string& what) {
    if (st.server) {
        show_from_server(st, what);
        std::fflush(stdout);
        return;
    }
    const server::LoadedModel& m = st.model();
    if (what == "info") {
        show_info(m);
    } else if (what == "parameters") {
        show_parameters(st.options);
    } else if (what == "system") {
        std::printf("%s\n", st.options.system.empty()
                                ? "No system message was specified for this model."
                                : st.options.system.c_str());
    } else if (what == "template") {
        show_template(m);
    } else if (what == "license") {
        const auto license = m.model->file().get_string("general.license");
        std::printf("%s\n",
                    license ? license->c_str() : "No license was specified for this model.");
    } else {
        std::printf("Unknown command '/show %s'. Type /? for help\n", what.c_str());
    }
    std::fflush(stdout);
}

}  // namespace lokal::cli
