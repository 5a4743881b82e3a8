// `lokal template render TEMPLATE.jinja [--input CASE.json]`: renders a chat template exactly as
// Hugging Face's apply_chat_template does, for tests and for debugging a model's template.
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include "base/error.h"
#include "cli/options.h"
#include "jinja/chat_template.h"

namespace lokal::cli {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot read '" + path + "'");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// "2026-01-15T09:30:00" (seconds optional) as a naive local time.
std::tm parse_now(const std::string& s) {
    std::tm tm{};
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    const int n = std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &sec);
    if (n < 5) throw Error("\"now\" must look like 2026-01-15T09:30:00, not '" + s + "'");
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    tm.tm_isdst = -1;
    std::tm copy = tm;
    std::mktime(&copy);  // fills in the weekday and day of the year
    tm.tm_wday = copy.tm_wday;
    tm.tm_yday = copy.tm_yday;
    return tm;
}

}  // namespace

int template_render_command(const TemplateOptions& o) {
    const std::string source = read_file(o.template_path);
    std::string input_text;
    if (o.input_path.empty() || o.input_path == "-") {
        std::ostringstream ss;
        ss << std::cin.rdbuf();
        input_text = ss.str();
    } else {
        input_text = read_file(o.input_path);
    }
    const auto input = nlohmann::ordered_json::parse(input_text, nullptr, false);
    if (input.is_discarded() || !input.is_object()) {
        throw Error("the input must be a JSON object with \"messages\"");
    }
    jinja::ChatTemplateInputs in;
    for (const auto& [key, value] : input.items()) {
        if (key == "messages") {
            in.messages = value;
        } else if (key == "tools") {
            in.tools = value;
        } else if (key == "add_generation_prompt") {
            if (!value.is_boolean()) throw Error("\"add_generation_prompt\" must be true or false");
            in.add_generation_prompt = value.get<bool>();
        } else if (key == "bos_token" && value.is_string()) {
            in.bos_token = value.get<std::string>();
        } else if (key == "eos_token" && value.is_string()) {
            in.eos_token = value.get<std::string>();
        } else if (key == "now") {
            if (!value.is_string()) throw Error("\"now\" must be a string");
            const std::tm now = parse_now(value.get<std::string>());
            in.options.now = [now] { return now; };
        } else {
            in.extra[key] = value;
        }
    }
    const std::string out = jinja::render_chat(source, in);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
}

}  // namespace lokal::cli
