#include "rag/rag_prompt.h"

namespace lokal::rag {

std::string citation(const ChunkRow& chunk) {
    std::string s = chunk.path + ":";
    if (chunk.page > 0) s += "p" + std::to_string(chunk.page) + ":";
    s += std::to_string(chunk.start_line);
    if (chunk.end_line != chunk.start_line) s += "-" + std::to_string(chunk.end_line);
    return s;
}

std::string answer_prompt(std::string_view question, const std::vector<Hit>& hits) {
    std::string p =
        "Answer the question using only the sources below. After each statement, cite the "
        "source it comes from as [file:start-end]. If the sources do not hold the answer, say "
        "so.\n\n";
    for (size_t i = 0; i < hits.size(); ++i) {
        p += "Source " + std::to_string(i + 1) + " [" + citation(hits[i].chunk) + "]:\n";
        p += hits[i].chunk.text;
        p += "\n\n";
    }
    p += "Question: ";
    p += question;
    return p;
}

}  // namespace lokal::rag
