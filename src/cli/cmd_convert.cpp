#include "cli/cmd_convert.h"

#include <cstdio>
#include <memory>
#include <string>

#include "convert/hf_convert.h"

namespace lokal::cli {

namespace {

struct ConvertArgs {
    std::string dir;
    std::string out;
    std::string outtype = "f16";
    std::string name;
    bool quiet = false;
};

int convert_command(const ConvertArgs& a) {
    convert::ConvertOptions o;
    o.outtype = convert::parse_outtype(a.outtype);
    o.name = a.name;
    const bool quiet = a.quiet;
    convert::convert_hf_dir(a.dir, a.out, o, [quiet](const std::string& msg) {
        if (!quiet) std::fprintf(stderr, "%s\n", msg.c_str());
    });
    if (!quiet) std::fprintf(stderr, "wrote %s\n", a.out.c_str());
    return 0;
}

}  // namespace

std::function<std::optional<int>()> add_convert_command(CLI::App& app) {
    auto a = std::make_shared<ConvertArgs>();
    auto* cmd = app.add_subcommand(
        "convert", "Convert a Hugging Face model folder (safetensors) to a GGUF file");
    cmd->add_option("dir", a->dir, "Model folder (config.json, *.safetensors, tokenizer files)")
        ->required();
    cmd->add_option("out", a->out, "Output .gguf file")->required();
    cmd->add_option("--outtype", a->outtype, "f32, f16 (default), bf16 or q8_0");
    cmd->add_option("--name", a->name, "general.name (default: the folder's name)");
    cmd->add_flag("-q,--quiet", a->quiet, "No progress output");
    return [a, cmd]() -> std::optional<int> {
        if (*cmd) return convert_command(*a);
        return std::nullopt;
    };
}

}  // namespace lokal::cli
