#include "store/reference.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace lokal::store {
namespace {

TEST(Reference, Defaults) {
    ModelRef r = parse_ref("gemma3");
    EXPECT_EQ(r.host, "registry.ollama.ai");
    EXPECT_EQ(r.ns, "library");
    EXPECT_EQ(r.model, "gemma3");
    EXPECT_EQ(r.tag, "latest");
    EXPECT_EQ(r.display(), "gemma3:latest");
    EXPECT_EQ(r.full(), "registry.ollama.ai/library/gemma3:latest");
    EXPECT_EQ(r.manifest_path(), "registry.ollama.ai/library/gemma3/latest");
}

TEST(Reference, AllForms) {
    EXPECT_EQ(parse_ref("gemma3:270m").tag, "270m");
    EXPECT_EQ(parse_ref("library/gemma3:270m"), parse_ref("gemma3:270m"));
    ModelRef u = parse_ref("someone/mymodel");
    EXPECT_EQ(u.ns, "someone");
    EXPECT_EQ(u.display(), "someone/mymodel:latest");
    ModelRef hf = parse_ref("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M");
    EXPECT_EQ(hf.host, "hf.co");
    EXPECT_EQ(hf.ns, "bartowski");
    EXPECT_EQ(hf.model, "Llama-3.2-1B-Instruct-GGUF");
    EXPECT_EQ(hf.tag, "Q4_K_M");
    EXPECT_EQ(hf.display(), "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M");
    ModelRef port = parse_ref("127.0.0.1:5000/ns/m:v1.2");
    EXPECT_EQ(port.host, "127.0.0.1:5000");
    EXPECT_EQ(port.tag, "v1.2");
    ModelRef port_no_tag = parse_ref("localhost:5000/ns/m");
    EXPECT_EQ(port_no_tag.host, "localhost:5000");
    EXPECT_EQ(port_no_tag.tag, "latest");
    EXPECT_EQ(parse_ref("qwen2.5-coder:1.5b").model, "qwen2.5-coder");
}

TEST(Reference, DisplayRoundTrips) {
    for (const char* s : {"a", "a:b", "x/a:b", "h.io/x/a:b", "registry.ollama.ai/library/a:b"}) {
        ModelRef r = parse_ref(s);
        EXPECT_EQ(parse_ref(r.display()), r) << s;
        EXPECT_EQ(parse_ref(r.full()), r) << s;
    }
}

TEST(Reference, HostileInputsRejected) {
    for (const char* s :
         {"",        ":",           "a:",      ":tag",        "/abs",          "/etc/passwd",
          "../x",    "..",          "a/../b",  "ns/..:t",     "a:..",          "a:../../x",
          "a/b/c/d", "a//b",        "a/",      "host/ns/",    "a b",           "a\nb",
          "a\\b",    "a;rm",        "a$b",     "a:b:c/d",     ".hidden",       "-dash",
          "ns/.x",   "h..com/ns/m", ".h/ns/m", "h:port/ns/m", "h:123456/ns/m", "a:t/x",
          "a\x01",   "m\xc3\xa9"}) {
        EXPECT_THROW(parse_ref(s), Error) << "'" << s << "'";
        EXPECT_FALSE(is_valid_ref(s)) << s;
    }
    EXPECT_THROW(parse_ref(std::string(400, 'a')), Error);
    EXPECT_THROW(parse_ref("m:" + std::string(129, 't')), Error);
}

TEST(Reference, ErrorNamesReference) {
    try {
        parse_ref("../evil");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("'../evil'"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace lokal::store
