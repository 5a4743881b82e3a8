// The prompt `lokal rag ask` gives the model: the retrieved chunks, numbered, each under its
// [file:start-end] source, then the question, with the instruction to cite those sources.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rag/search.h"

namespace lokal::rag {

// "path:start-end" (one line: "path:start").
std::string citation(const ChunkRow& chunk);

std::string answer_prompt(std::string_view question, const std::vector<Hit>& hits);

}  // namespace lokal::rag
