#include <cstdio>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "cli/options.h"
#include "gguf/gguf_file.h"
#include "store/resolve.h"
#include "tokenizer/tokenizer.h"

namespace lokal::cli {

std::string read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot read '" + path + "'");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

int tokenize_command(const TokenizeOptions& o) {
    if (o.text.has_value() == o.file.has_value()) {
        throw Error("give the text to tokenize either as an argument or with --file, not both");
    }
    const std::string text = o.text ? *o.text : read_text_file(*o.file);
    // Only the vocabulary is needed: vocab-only GGUF files work too.
    auto file = gguf::File::open(store::resolve_model(o.model));
    auto tok = tokenizer::Tokenizer::from_gguf(*file);
    const std::vector<int32_t> ids = tok->encode(text, !o.no_bos, o.parse_special);
    std::string out;
    if (o.ids) {
        for (size_t i = 0; i < ids.size(); ++i) {
            if (i) out += ' ';
            out += std::to_string(ids[i]);
        }
        out += '\n';
    } else {
        for (int32_t id : ids) {
            out += std::to_string(id) + '\t' + tok->token_to_piece(id, true) + '\n';
        }
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
}

}  // namespace lokal::cli
