// Splits a document into overlapping chunks for retrieval. Blocks are the units: paragraphs
// (blank-line separated; for code, blank-line separated groups such as functions), and in
// Markdown each heading starts a new block and a new chunk. Blocks are packed into chunks of at
// most max_chars; a block longer than that is cut at line ends. Each chunk after the first of a
// section repeats the last overlap_lines lines of the one before. Line numbers are 1-based and
// inclusive.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rag/extract.h"

namespace lokal::rag {

struct Chunk {
    int start_line = 0;
    int end_line = 0;
    std::string text;  // lines start_line..end_line of the document, joined by '\n'
    int page = 0;      // PDFs: the 1-based page the lines are counted in; 0: the whole file
};

struct ChunkOptions {
    size_t max_chars = 1000;
    int overlap_lines = 2;
};

std::vector<Chunk> chunk_text(std::string_view text, TextKind kind,
                              const ChunkOptions& options = {});

}  // namespace lokal::rag
