// `lokal rag index|search|ask|ls|rm`: local retrieval-augmented generation over a folder
// (src/rag). Knowledge bases are SQLite files in $LOKAL_RAG_DIR, else beside the model store
// (~/.lokal/rag/<name>.sqlite).
#pragma once

#include <functional>
#include <optional>

namespace CLI {
class App;
}

namespace lokal::cli {

// Registers `rag` on app; the returned function runs it when chosen (else nullopt).
std::function<std::optional<int>()> add_rag_commands(CLI::App& app);

}  // namespace lokal::cli
