// Renders every case of every template in testdata/templates and compares with jinja2's output.
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "base/error.h"
#include "base/test_support.h"
#include "jinja/chat_template.h"

namespace lokal::jinja {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// Templates whose cases we do not (yet) render like jinja2, with the reason. The test fails if
// one of them starts to pass, so that this list stays honest.
const std::set<std::string> kKnownFailures = {};

std::tm parse_fixed_now(const std::string& iso) {
    std::tm tm{};
    std::istringstream in(iso);
    in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
    // Normalize the weekday and day of the year, which strftime may print.
    std::tm copy = tm;
    std::time_t t = timegm(&copy);
    gmtime_r(&t, &tm);
    return tm;
}

struct CaseResult {
    bool ok;
    std::string detail;
};

CaseResult run_case(const std::string& source, const nlohmann::ordered_json& all,
                    const std::string& case_name, const fs::path& expected_base) {
    const auto& c = all["cases"][case_name];
    ChatTemplateInputs in;
    in.messages = c["messages"];
    if (c.contains("tools")) in.tools = c["tools"];
    in.add_generation_prompt = c["add_generation_prompt"].get<bool>();
    in.bos_token = all["special"]["bos_token"].get<std::string>();
    in.eos_token = all["special"]["eos_token"].get<std::string>();
    std::tm now = parse_fixed_now(all["fixed_now"].get<std::string>());
    in.options.now = [now] { return now; };
    bool expect_error = fs::exists(expected_base.string() + ".err");
    try {
        std::string out = render_chat(source, in);
        if (expect_error)
            return {false, "expected an error, rendered " + std::to_string(out.size()) + " bytes"};
        std::string want = read_file(expected_base.string() + ".out");
        if (out == want) return {true, ""};
        size_t i = 0;
        while (i < out.size() && i < want.size() && out[i] == want[i]) i++;
        return {false, "differs at byte " + std::to_string(i) + ": got «" +
                           out.substr(i > 40 ? i - 40 : 0, 120) + "» want «" +
                           want.substr(i > 40 ? i - 40 : 0, 120) + "»"};
    } catch (const Error& e) {
        if (expect_error) return {true, ""};
        return {false, std::string("error: ") + e.what()};
    }
}

TEST(JinjaCorpus, RendersLikeJinja2) {
    LOKAL_REQUIRE_TESTDATA("templates/cases.json");
    fs::path dir = lokal::testing::testdata_path("templates");
    auto all = nlohmann::ordered_json::parse(read_file(dir / "cases.json"));
    std::vector<fs::path> templates;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".jinja") templates.push_back(e.path());
    std::sort(templates.begin(), templates.end());
    ASSERT_GE(templates.size(), 45u);
    int passed_templates = 0, passed_cases = 0, total_cases = 0;
    for (const auto& path : templates) {
        std::string model = path.stem().string();
        std::string source = read_file(path);
        bool all_ok = true;
        std::string first_failure;
        for (const auto& [case_name, _] : all["cases"].items()) {
            total_cases++;
            auto r = run_case(source, all, case_name, dir / model / case_name);
            if (r.ok) {
                passed_cases++;
            } else {
                if (all_ok) first_failure = case_name + ": " + r.detail;
                all_ok = false;
            }
        }
        passed_templates += all_ok;
        bool known = kKnownFailures.count(model) != 0;
        if (known) {
            EXPECT_FALSE(all_ok) << model << " now passes: remove it from kKnownFailures";
        } else {
            EXPECT_TRUE(all_ok) << model << " -- " << first_failure;
        }
    }
    std::printf("jinja corpus: %d/%zu templates, %d/%d cases match jinja2\n", passed_templates,
                templates.size(), passed_cases, total_cases);
}

}  // namespace
}  // namespace lokal::jinja
