// Text from the files the RAG indexer reads: plain text, Markdown and source code as they are,
// HTML with its tags, scripts and styles removed and its entities decoded.
#pragma once

#include <string>
#include <string_view>

namespace lokal::rag {

enum class TextKind { Prose, Markdown, Code, Html, Pdf, Unsupported };

// The kind a file's name says (its extension; a few extension-less names such as Makefile).
TextKind text_kind(std::string_view filename);

// Whether the bytes look binary: a NUL among the first 8 KiB.
bool looks_binary(std::string_view bytes);

// The visible text of an HTML document. Block elements (p, div, li, h1-h6, br, tr, ...) end a
// line, so the chunker still sees paragraphs.
std::string html_to_text(std::string_view html);

// `&amp;`, `&lt;`, `&#39;`, `&#x263A;` ... as UTF-8; unknown entities are kept as they are.
std::string decode_entities(std::string_view s);

}  // namespace lokal::rag
