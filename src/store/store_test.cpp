#include "store/store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/test_support.h"
#include "gguf/gguf_writer.h"
#include "store/create.h"
#include "store/http.h"
#include "store/model_defaults.h"
#include "store/modelfile.h"
#include "store/pull.h"
#include "store/resolve.h"
#include "store/sha256.h"

namespace lokal::store {
namespace {

namespace fs = std::filesystem;

class TempDir {
  public:
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "lokal-store-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

std::string write_tiny_gguf(const fs::path& dir, const std::string& name, uint64_t seed) {
    gguf::Writer w;
    w.set_string("general.architecture", "llama");
    w.set_u64("test.seed", seed);
    std::string path = (dir / name).string();
    w.write_file(path);
    return path;
}

size_t count_files(const fs::path& dir) {
    size_t n = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec);
         it != fs::recursive_directory_iterator(); ++it) {
        if (it->is_regular_file()) ++n;
    }
    return n;
}

TEST(Sha256, KnownVectors) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_TRUE(is_valid_digest("sha256:" + sha256_hex("x")));
    EXPECT_FALSE(is_valid_digest("sha256:" + std::string(64, 'G')));
    EXPECT_FALSE(is_valid_digest("sha256:../../etc/passwd"));
    EXPECT_FALSE(is_valid_digest("md5:abc"));
}

TEST(Manifest, ParseRejectsMalformed) {
    std::string d = "sha256:" + std::string(64, 'a');
    Manifest m = Manifest::parse(R"({"schemaVersion":2,"layers":[{"mediaType":"x","digest":")" + d +
                                 R"(","size":3}]})");
    ASSERT_EQ(m.layers.size(), 1u);
    EXPECT_EQ(m.layers[0].size, 3u);
    for (const char* bad :
         {"", "[]", "{", R"({"schemaVersion":2})", R"({"schemaVersion":1,"layers":[]})",
          R"({"schemaVersion":2,"layers":[{"mediaType":"x","digest":"sha256:../x","size":1}]})",
          R"({"schemaVersion":2,"layers":[{"mediaType":"x","size":1}]})",
          R"({"schemaVersion":2,"layers":[7]})"}) {
        EXPECT_THROW(Manifest::parse(bad), Error) << bad;
    }
    std::string neg =
        R"({"schemaVersion":2,"layers":[{"mediaType":"x","digest":")" + d + R"(","size":-1}]})";
    EXPECT_THROW(Manifest::parse(neg), Error);
}

TEST(Store, PutCopyListRemoveKeepsSharedBlobs) {
    TempDir dir;
    Store s(dir.path() / "models");
    Manifest m;
    m.config = s.put_blob(media::kConfig, "{}");
    m.layers.push_back(s.put_blob(media::kModel, "model bytes"));
    m.layers.push_back(s.put_blob(media::kTemplate, "{{ .Prompt }}"));
    ModelRef a = parse_ref("a:1");
    s.write_manifest(a, m.to_json());
    ASSERT_TRUE(s.read_manifest(a));
    EXPECT_EQ(s.read_manifest(a)->layers.size(), 2u);

    ModelRef b = parse_ref("ns/b:2");
    s.copy(a, b);
    auto list = s.list();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].id, list[1].id);  // same manifest bytes
    EXPECT_EQ(list[0].size, 2u + 11u + 13u);

    // A second model sharing the model blob but with its own template.
    Manifest m2 = m;
    m2.layers[1] = s.put_blob(media::kTemplate, "other");
    ModelRef c = parse_ref("c");
    s.write_manifest(c, m2.to_json());

    EXPECT_TRUE(s.remove(a));
    EXPECT_FALSE(s.remove(a));
    EXPECT_TRUE(s.has_blob(m.layers[0].digest));  // still used by b and c
    EXPECT_TRUE(s.remove(b));
    EXPECT_FALSE(s.has_blob(m.layers[1].digest));  // template only a and b used
    EXPECT_TRUE(s.has_blob(m.layers[0].digest));   // c still uses it
    EXPECT_TRUE(s.remove(c));
    EXPECT_EQ(count_files(s.root()), 0u);
    EXPECT_TRUE(s.list().empty());
}

TEST(Store, ManifestNeedsItsBlobs) {
    TempDir dir;
    Store s(dir.path());
    Manifest m;
    m.layers.push_back({media::kModel, "sha256:" + std::string(64, 'b'), 5});
    EXPECT_THROW(s.write_manifest(parse_ref("x"), m.to_json()), Error);
    EXPECT_FALSE(s.read_manifest(parse_ref("x")));
    try {
        s.copy(parse_ref("nope"), parse_ref("x"));
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::NotFound) << e.what();
    }
}

TEST(Store, DefaultRootIsLokalModelsThenOllamaModelsThenHome) {
    const char* saved = std::getenv("LOKAL_MODELS");
    const std::string keep = saved ? saved : "";
    ASSERT_EQ(setenv("LOKAL_MODELS", "/tmp/lokal-a", 1), 0);
    ASSERT_EQ(setenv("OLLAMA_MODELS", "/tmp/ollama-b", 1), 0);
    EXPECT_EQ(Store::default_root(), fs::path("/tmp/lokal-a"));
    ASSERT_EQ(unsetenv("LOKAL_MODELS"), 0);
    EXPECT_EQ(Store::default_root(), fs::path("/tmp/ollama-b"));
    ASSERT_EQ(unsetenv("OLLAMA_MODELS"), 0);
    EXPECT_EQ(Store::default_root().filename(), "models");
    if (saved) setenv("LOKAL_MODELS", keep.c_str(), 1);
}

TEST(Store, ImportAndResolve) {
    TempDir dir;
    std::string gguf = write_tiny_gguf(dir.path(), "tiny.gguf", 1);
    fs::path root = dir.path() / "models";
    ASSERT_EQ(setenv("LOKAL_MODELS", root.c_str(), 1), 0);
    Store s = Store::open_default();
    EXPECT_EQ(s.root(), root);
    Modelfile mf =
        parse_modelfile("FROM ./tiny.gguf\nSYSTEM be brief\nPARAMETER temperature 0.5\n");
    ModelRef r = create_model(s, "tiny:v1", mf, dir.path(), PathAccess::Allowed);
    std::string path = resolve_model("tiny:v1");
    EXPECT_EQ(sha256_file_hex(path), sha256_file_hex(gguf));
    EXPECT_EQ(resolve_model(gguf), gguf);                        // a file path stays as is
    EXPECT_EQ(resolve_model("/no/such.gguf"), "/no/such.gguf");  // the loader reports it
    try {
        resolve_model("missing:tag");
        FAIL();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "model 'missing:tag' not found; try lokal pull missing:tag");
        EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    }
    try {
        resolve_model("bad name");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidInput);
    }
    try {
        create_model(s, "other:v1", parse_modelfile("FROM nothere:latest\n"), dir.path(),
                     PathAccess::Allowed);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::NotFound) << e.what();
    }

    // Derived model: inherits the system prompt and parameters, overrides the template.
    Modelfile mf2 = parse_modelfile(
        "FROM tiny:v1\nTEMPLATE \"\"\"{{ .Prompt }}\n\"\"\"\n"
        "PARAMETER stop </s>\nPARAMETER stop \"<|end|>\"\n");
    create_model(s, "tiny:v2", mf2, dir.path(), PathAccess::Allowed);
    auto m2 = s.read_manifest(parse_ref("tiny:v2"));
    ASSERT_TRUE(m2);
    EXPECT_TRUE(m2->find(media::kSystem));
    EXPECT_TRUE(m2->find(media::kTemplate));
    std::string mfile = modelfile_for(s, parse_ref("tiny:v2"));
    EXPECT_NE(mfile.find("PARAMETER temperature 0.5"), std::string::npos) << mfile;
    EXPECT_NE(mfile.find("PARAMETER stop \"<|end|>\""), std::string::npos) << mfile;
    EXPECT_NE(mfile.find("SYSTEM \"\"\"be brief\"\"\""), std::string::npos) << mfile;
    EXPECT_NE(mfile.find("TEMPLATE \"\"\"{{ .Prompt }}\n\"\"\""), std::string::npos) << mfile;
    // The model blob is stored once.
    EXPECT_EQ(s.read_manifest(parse_ref("tiny:v1"))->layers[0].digest, m2->layers[0].digest);

    EXPECT_THROW(
        create_model(s, "x", parse_modelfile("FROM nothere:1"), dir.path(), PathAccess::Allowed),
        Error);
    EXPECT_THROW(create_model(s, "x", parse_modelfile("FROM ./nothere.gguf"), dir.path(),
                              PathAccess::Allowed),
                 Error);
    std::ofstream(dir.path() / "junk.gguf") << "not a gguf at all, really";
    EXPECT_THROW(
        create_model(s, "x", parse_modelfile("FROM ./junk.gguf"), dir.path(), PathAccess::Allowed),
        Error);
    EXPECT_FALSE(s.read_manifest(parse_ref("x")));
    unsetenv("LOKAL_MODELS");
}

// DRAFT is stored as a layer of its own (the draft's GGUF), shown by modelfile_for, read back by
// stored_model_defaults and kept by a derived model; a draft whose vocabulary is not the model's
// is refused before anything is written.
TEST(Store, CreateWithDraft) {
    LOKAL_REQUIRE_TESTDATA("models/tiny-llama-h64-f32.gguf");
    LOKAL_REQUIRE_TESTDATA("models/tiny-llama-h64-q4_0.gguf");
    LOKAL_REQUIRE_TESTDATA("models/stories260K.gguf");
    const std::string target =
        fs::absolute(testing::testdata_path("models/tiny-llama-h64-f32.gguf")).string();
    const std::string small =
        fs::absolute(testing::testdata_path("models/tiny-llama-h64-q4_0.gguf")).string();
    const std::string other =
        fs::absolute(testing::testdata_path("models/stories260K.gguf")).string();  // 512 tokens
    TempDir dir;
    const fs::path root = dir.path() / "models";
    ASSERT_EQ(setenv("LOKAL_MODELS", root.c_str(), 1), 0);
    Store s = Store::open_default();
    auto create = [&](const std::string& name, const std::string& modelfile) {
        return create_model(s, name, parse_modelfile(modelfile), dir.path(), PathAccess::Allowed);
    };
    auto draft_digest = [&](const std::string& name) {
        auto m = s.read_manifest(parse_ref(name));
        const Layer* l = m ? m->find(media::kDraft) : nullptr;
        return l ? l->digest : std::string();
    };

    create("fast:1", "FROM " + target + "\nDRAFT " + small + "\n");
    const std::string digest = draft_digest("fast:1");
    ASSERT_FALSE(digest.empty());
    EXPECT_EQ("sha256:" + sha256_file_hex(s.blob_path(digest).string()),
              "sha256:" + sha256_file_hex(small));
    const std::string shown = modelfile_for(s, parse_ref("fast:1"));
    EXPECT_NE(shown.find("\nDRAFT " + s.blob_path(digest).string() + "\n"), std::string::npos)
        << shown;
    EXPECT_EQ(stored_model_defaults("fast:1").draft, s.blob_path(digest).string());
    EXPECT_FALSE(stored_model_defaults(target).draft);

    create("fast:2", shown);  // what show prints creates the same model
    EXPECT_EQ(draft_digest("fast:2"), digest);
    create("small:1", "FROM " + small + "\n");
    create("fast:3", "FROM " + target + "\nDRAFT small:1\n");  // a model of the store
    EXPECT_EQ(draft_digest("fast:3"), digest);
    create("fast:4", "FROM fast:1\nSYSTEM be brief\n");  // a derived model keeps its draft
    EXPECT_EQ(draft_digest("fast:4"), digest);

    const size_t files = count_files(root);
    try {
        create("bad:1", "FROM " + target + "\nDRAFT " + other + "\n");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("must share the model's vocabulary"),
                  std::string::npos)
            << e.what();
        EXPECT_EQ(e.kind(), ErrorKind::InvalidInput);
    }
    try {
        create("bad:2", "FROM " + target + "\nDRAFT nothere:1\n");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::NotFound) << e.what();
    }
    EXPECT_FALSE(s.read_manifest(parse_ref("bad:1")));
    EXPECT_FALSE(s.read_manifest(parse_ref("bad:2")));
    EXPECT_EQ(count_files(root), files);  // nothing written
    unsetenv("LOKAL_MODELS");
}

// Over HTTP (StoreOnly) a model is a store reference or an uploaded blob, never a path on the
// server's disk, and the refusal reads the same whether the file exists or not.
TEST(Store, StoreOnlyAccessRefusesFilePaths) {
    TempDir dir;
    std::string gguf = write_tiny_gguf(dir.path(), "tiny.gguf", 1);
    fs::path root = dir.path() / "models";
    ASSERT_EQ(setenv("LOKAL_MODELS", root.c_str(), 1), 0);
    Store s = Store::open_default();
    auto refusal = [&](const std::function<void()>& fn, const std::string& path) {
        try {
            fn();
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::InvalidInput) << e.what();
            std::string text = e.what();
            text.replace(text.find(path), path.size(), "PATH");
            return text;
        }
        ADD_FAILURE() << "accepted " << path;
        return std::string();
    };
    for (const std::string& path : {gguf, std::string("/no/such.gguf"), std::string("./x.gguf")}) {
        EXPECT_EQ(
            refusal([&] { resolve_model(path, PathAccess::StoreOnly); }, path),
            refusal([&] { resolve_model("/etc/passwd", PathAccess::StoreOnly); }, "/etc/passwd"));
        EXPECT_EQ(refusal(
                      [&] {
                          create_model(s, "x", parse_modelfile("FROM " + path + "\n"), dir.path(),
                                       PathAccess::StoreOnly);
                      },
                      path),
                  refusal(
                      [&] {
                          create_model(s, "x", parse_modelfile("FROM /etc/passwd\n"), dir.path(),
                                       PathAccess::StoreOnly);
                      },
                      "/etc/passwd"));
    }
    // A blob in the store, named by digest or by its own path, is what the API may use.
    const Layer blob = s.import_file(media::kModel, gguf);
    for (const std::string& from :
         {"@" + blob.digest, blob.digest, s.blob_path(blob.digest).string()}) {
        create_model(s, "byblob:v1", parse_modelfile("FROM " + from + "\n"), dir.path(),
                     PathAccess::StoreOnly);
        EXPECT_EQ(s.read_manifest(parse_ref("byblob:v1"))->layers[0].digest, blob.digest);
    }
    EXPECT_EQ(resolve_model("byblob:v1", PathAccess::StoreOnly), s.blob_path(blob.digest).string());
    try {
        create_model(s, "x", parse_modelfile("FROM @sha256:" + std::string(64, 'a') + "\n"),
                     dir.path(), PathAccess::StoreOnly);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::NotFound) << e.what();
    }
    unsetenv("LOKAL_MODELS");
}

TEST(Modelfile, Parses) {
    Modelfile mf = parse_modelfile(
        "# a comment\n"
        "from gemma3:270m\n"
        "PARAMETER temperature 0.7\n"
        "PARAMETER num_ctx 4096\n"
        "PARAMETER stop \"<end>\"\n"
        "SYSTEM \"\"\"line one\n"
        "line two\"\"\"\n"
        "MESSAGE user hi there\n"
        "MESSAGE assistant \"\"\"hello,\n"
        "  friend\"\"\"\n"
        "MESSAGE user \"quoted\"\n"
        "LICENSE MIT\n"
        "draft \"gemma3:270m-draft\"\n");
    EXPECT_EQ(mf.from, "gemma3:270m");
    EXPECT_EQ(mf.draft, "gemma3:270m-draft");
    ASSERT_EQ(mf.parameters.size(), 3u);
    EXPECT_EQ(mf.parameters[2].second, "<end>");
    EXPECT_EQ(*mf.system, "line one\nline two");
    ASSERT_EQ(mf.messages.size(), 3u);
    EXPECT_EQ(mf.messages[0].second, "hi there");
    EXPECT_EQ(mf.messages[1], std::make_pair(std::string("assistant"), std::string("hello,\n  friend")));
    EXPECT_EQ(mf.messages[2].second, "quoted");
    EXPECT_EQ(*mf.license, "MIT");
    EXPECT_EQ(params_json(mf.parameters), R"({"num_ctx":4096,"stop":["<end>"],"temperature":0.7})");
}

TEST(Modelfile, AcceptsEveryParameterOllamaDoes) {
    const Modelfile mf = parse_modelfile(
        "FROM x\nREQUIRES 0.6.2\nPARAMETER num_keep 24\nPARAMETER mirostat 2\n"
        "PARAMETER mirostat_eta 0.1\nPARAMETER mirostat_tau 5\nPARAMETER num_gpu 99\n"
        "PARAMETER num_thread 8\nPARAMETER penalize_newline false\n"
        "PARAMETER presence_penalty 0.5\nPARAMETER frequency_penalty 0.25\n"
        "PARAMETER typical_p 0.9\nPARAMETER num_batch 256\nPARAMETER use_mmap true\n");
    EXPECT_EQ(mf.min_version, "0.6.2");
    const nlohmann::json j = nlohmann::json::parse(params_json(mf.parameters, "{}"));
    EXPECT_EQ(j["num_keep"], 24);
    EXPECT_EQ(j["penalize_newline"], false);
    EXPECT_EQ(j["use_mmap"], true);
    EXPECT_DOUBLE_EQ(j["presence_penalty"].get<double>(), 0.5);
    try {
        parse_modelfile("FROM x\nPARAMETER use_mmap maybe\n");
        FAIL();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(),
                     "Modelfile line 2: PARAMETER: 'maybe' is not true or false (for use_mmap)");
    }
}

TEST(Modelfile, ErrorsNameLineAndDirective) {
    auto error_of = [](const char* text) -> std::string {
        try {
            parse_modelfile(text);
        } catch (const Error& e) {
            return e.what();
        }
        return "";
    };
    EXPECT_EQ(error_of("FROM x\nPARAMETER temperature hot\n"),
              "Modelfile line 2: PARAMETER: 'hot' is not a number (for temperature)");
    EXPECT_EQ(error_of("FROM x\n\nPARAMETER bogus 1\n"),
              "Modelfile line 3: PARAMETER: unknown parameter 'bogus'");
    EXPECT_EQ(error_of("FROM x\nFROBNICATE y\n"),
              "Modelfile line 2: unknown directive 'FROBNICATE'");
    EXPECT_EQ(error_of("SYSTEM hi\n"), "Modelfile has no FROM line");
    EXPECT_EQ(error_of("FROM x\nTEMPLATE \"\"\"open\nnever closed\n"),
              "Modelfile line 2: TEMPLATE: unterminated \"\"\" block");
    EXPECT_EQ(error_of("FROM x\nMESSAGE robot hi\n"),
              "Modelfile line 2: MESSAGE: role must be system, user or assistant, not 'robot'");
    EXPECT_EQ(error_of("FROM x\nPARAMETER top_k 1.5\n"),
              "Modelfile line 2: PARAMETER: '1.5' is not an integer (for top_k)");
    EXPECT_EQ(error_of("FROM\n"), "Modelfile line 1: FROM: needs a model name or a .gguf path");
    EXPECT_EQ(error_of("FROM a\nDRAFT b\nDRAFT c\n"),
              "Modelfile line 3: DRAFT: only one DRAFT is supported");
}

TEST(Pull, RegistryUrlPolicy) {
    unsetenv("LOKAL_REGISTRY");
    unsetenv("LOKAL_REGISTRY_HOSTS");
    EXPECT_EQ(registry_url("registry.ollama.ai"), "https://registry.ollama.ai");
    EXPECT_EQ(registry_url("hf.co"), "https://hf.co");
    setenv("LOKAL_REGISTRY", "http://127.0.0.1:8080/", 1);
    EXPECT_EQ(registry_url("registry.ollama.ai"), "http://127.0.0.1:8080");
    EXPECT_EQ(registry_url("hf.co"), "https://hf.co");
    setenv("LOKAL_REGISTRY_HOSTS", "x.io=https://mirror.example,hf.co=http://localhost:9", 1);
    EXPECT_EQ(registry_url("hf.co"), "http://localhost:9");
    EXPECT_EQ(registry_url("x.io"), "https://mirror.example");
    setenv("LOKAL_REGISTRY", "http://example.com", 1);
    EXPECT_THROW(registry_url("registry.ollama.ai"), Error);  // plain http off loopback
    setenv("LOKAL_REGISTRY", "ftp://127.0.0.1", 1);
    EXPECT_THROW(registry_url("registry.ollama.ai"), Error);
    // --insecure: plain http to the named host, wherever it is.
    EXPECT_THROW(check_url_allowed("http://10.1.2.3:5000/v2/"), Error);
    EXPECT_EQ(registry_url("10.1.2.3:5000", true), "http://10.1.2.3:5000");
    EXPECT_NO_THROW(check_url_allowed("http://10.1.2.3:5000/v2/"));
    EXPECT_THROW(check_url_allowed("http://10.1.2.4:5000/v2/"), Error);
    unsetenv("LOKAL_REGISTRY");
    unsetenv("LOKAL_REGISTRY_HOSTS");
}

TEST(Pull, NameForUrl) {
    EXPECT_EQ(name_for_url("https://h/x/Llama-3.2-1B-Q4_K_M.gguf?download=true").display(),
              "llama-3.2-1b-q4_k_m:latest");
    EXPECT_EQ(name_for_url("https://h/..%2F..gguf").display(), "2f.:latest");
    EXPECT_EQ(name_for_url("https://h/").display(), "model:latest");
}

}  // namespace
}  // namespace lokal::store
