// Python str operations on UTF-8 strings (case mapping is ASCII-only).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lokal::jinja {

std::string str_lower(std::string s);
std::string str_upper(std::string s);
std::string str_capitalize(const std::string& s);
std::string str_title(const std::string& s);  // Python str.title()
// str.strip/lstrip/rstrip; chars == nullptr strips whitespace.
std::string str_strip(const std::string& s, const std::string* chars, bool left, bool right);
std::string str_replace(const std::string& s, const std::string& old, const std::string& rep,
                        int64_t count);
// str.split(sep, maxsplit) / str.rsplit; sep == nullptr splits on runs of whitespace.
std::vector<std::string> str_split(const std::string& s, const std::string* sep, int64_t maxsplit,
                                   bool from_right);
bool is_py_space(unsigned char c);
// markupsafe.escape: & < > " ' become HTML entities.
std::string html_escape(const std::string& s);

}  // namespace lokal::jinja
