// Model references, parsed like Ollama's: `gemma3`, `gemma3:270m`, `library/gemma3:270m`,
// `registry.host/ns/model:tag`, `hf.co/user/repo:Q4_K_M`. Missing parts default to
// registry.ollama.ai / library / latest. A reference names a path inside the store
// (manifests/<host>/<ns>/<model>/<tag>), so anything that could escape it (`..`, absolute paths,
// empty parts, characters outside a small set) is rejected with a lokal::Error.
#pragma once

#include <string>
#include <string_view>

namespace lokal::store {

inline constexpr std::string_view kDefaultHost = "registry.ollama.ai";
inline constexpr std::string_view kDefaultNamespace = "library";
inline constexpr std::string_view kDefaultTag = "latest";

struct ModelRef {
    std::string host;   // registry.ollama.ai, hf.co, 127.0.0.1:5000, ...
    std::string ns;     // library, a user name, ...
    std::string model;  // gemma3
    std::string tag;    // 270m, latest, Q4_K_M

    // host/ns/model:tag
    std::string full() const;
    // The shortest name that parses back to this reference (`gemma3:270m` for the default
    // registry's library, `user/model:tag` for other namespaces there, else full()).
    std::string display() const;
    // host/ns/model/tag, relative to the store's manifests/ directory.
    std::string manifest_path() const;

    bool operator==(const ModelRef&) const = default;
};

// Throws lokal::Error naming the reference and the problem.
ModelRef parse_ref(std::string_view text);
// True when `text` parses as a reference.
bool is_valid_ref(std::string_view text);
// True for what a user means as a file, not a model name: absolute, ./, ../, ~, or *.gguf.
bool looks_like_file_path(std::string_view text);

}  // namespace lokal::store
