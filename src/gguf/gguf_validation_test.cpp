// Hand-made malformed GGUF files: each must be rejected with a lokal::Error naming the problem.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/error.h"
#include "gguf/gguf_file.h"

namespace lokal::gguf {
namespace {

// Little-endian byte builder for GGUF pieces; nothing is checked, so anything can be made.
struct Raw {
    std::vector<uint8_t> b;

    template <typename T>
    Raw& put(T v) {
        uint8_t tmp[sizeof(T)];
        std::memcpy(tmp, &v, sizeof(T));
        b.insert(b.end(), tmp, tmp + sizeof(T));
        return *this;
    }
    Raw& u8(uint8_t v) { return put(v); }
    Raw& u32(uint32_t v) { return put(v); }
    Raw& u64(uint64_t v) { return put(v); }
    Raw& str(std::string_view s) {
        u64(s.size());
        b.insert(b.end(), s.begin(), s.end());
        return *this;
    }
    Raw& type(ValueType t) { return u32(static_cast<uint32_t>(t)); }
    Raw& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
        return u32(kMagic).u32(version).u64(n_tensors).u64(n_kv);
    }
    Raw& kv_u32(std::string_view key, uint32_t v) {
        return str(key).type(ValueType::UINT32).u32(v);
    }
    Raw& kv_string(std::string_view key, std::string_view v) {
        return str(key).type(ValueType::STRING).str(v);
    }
    Raw& tensor(std::string_view name, const std::vector<uint64_t>& dims, uint32_t dtype,
                uint64_t offset) {
        str(name).u32(static_cast<uint32_t>(dims.size()));
        for (uint64_t d : dims) u64(d);
        return u32(dtype).u64(offset);
    }
    Raw& pad(size_t align) {
        b.resize((b.size() + align - 1) / align * align, 0);
        return *this;
    }
    Raw& zeros(size_t n) {
        b.resize(b.size() + n, 0);
        return *this;
    }
};

constexpr uint32_t kF32 = 0, kQ8_0 = 8;

void expect_rejected(const std::vector<uint8_t>& bytes, const std::string& needle) {
    try {
        File::parse(bytes.data(), bytes.size());
        ADD_FAILURE() << "parsed; expected an error containing '" << needle << "'";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
            << "message: " << e.what() << "\nexpected: " << needle;
    }
}

// One F32 tensor of `n` floats, correctly laid out.
std::vector<uint8_t> one_tensor_file(uint64_t n) {
    Raw r;
    r.header(1, 0).tensor("w", {n}, kF32, 0).pad(32).zeros(n * 4);
    return r.b;
}

TEST(GgufValidation, HandMadeFilesParseWhenValid) {
    // The builder itself makes files the reader accepts, so each rejection below is for the one
    // thing the test breaks.
    const auto ok = one_tensor_file(8);
    auto f = File::parse(ok.data(), ok.size());
    EXPECT_EQ(f->tensors().size(), 1u);
    Raw r;
    r.header(0, 2).kv_u32("general.alignment", 64).kv_string("s", "x");
    EXPECT_NO_THROW(File::parse(r.b.data(), r.b.size()));
}

TEST(GgufValidation, BadMagic) {
    Raw r;
    r.u32(0x4c4d4747).u32(3).u64(0).u64(0);  // "GGML"
    expect_rejected(r.b, "bad magic");
    expect_rejected({'G', 'G'}, "too short for the magic");
}

TEST(GgufValidation, Version1) {
    Raw r;
    r.header(0, 0, 1);
    expect_rejected(r.b, "GGUF v1 is not supported");
}

TEST(GgufValidation, UnknownVersion) {
    Raw r;
    r.header(0, 0, 4);
    expect_rejected(r.b, "unsupported GGUF version 4");
    Raw z;
    z.header(0, 0, 0);
    expect_rejected(z.b, "unsupported GGUF version 0");
    Raw be;
    be.header(0, 0, 0x03000000);
    expect_rejected(be.b, "big-endian");
}

TEST(GgufValidation, TruncatedHeader) {
    Raw r;
    r.u32(kMagic).u32(3).u32(0);  // half a tensor count
    expect_rejected(r.b, "truncated");
    expect_rejected(r.b, "tensor count");
    Raw v;
    v.u32(kMagic).u8(3);
    expect_rejected(v.b, "the version");
    Raw kv;
    kv.u32(kMagic).u32(3).u64(0);
    expect_rejected(kv.b, "metadata count");
}

TEST(GgufValidation, HeaderCountsLargerThanTheFile) {
    Raw kv;
    kv.header(0, uint64_t(1) << 62);
    expect_rejected(kv.b, "metadata entries, more than the file can hold");
    Raw t;
    t.header(~uint64_t(0), 0);
    expect_rejected(t.b, "tensors, more than the file can hold");
}

TEST(GgufValidation, StringLengthPastEndOfFile) {
    Raw key;
    key.header(0, 1).u64(1000).u8('k').u8('e').u8('y').zeros(10);
    expect_rejected(key.b, "truncated: needed 1000 bytes for a metadata key");
    Raw huge;
    huge.header(0, 1).u64(~uint64_t(0)).zeros(16);
    expect_rejected(huge.b, "for a metadata key");
    Raw value;
    value.header(0, 1).str("name").type(ValueType::STRING).u64(50).zeros(10);
    expect_rejected(value.b, "the value of 'name'");
    Raw elem;
    elem.header(0, 1).str("arr").type(ValueType::ARRAY).type(ValueType::STRING).u64(2).str("ok");
    elem.u64(1u << 20).zeros(20);
    expect_rejected(elem.b, "the value of 'arr'");
    Raw tname;
    tname.header(1, 0).u64(200).zeros(30);
    expect_rejected(tname.b, "a tensor name");
}

TEST(GgufValidation, HugeArrayCount) {
    Raw r;
    r.header(0, 1).str("a").type(ValueType::ARRAY).type(ValueType::UINT8).u64(uint64_t(1) << 60);
    r.zeros(64);
    expect_rejected(r.b, "'a' claims 1152921504606846976 array elements");
    Raw s;
    s.header(0, 1).str("s").type(ValueType::ARRAY).type(ValueType::STRING).u64(~uint64_t(0));
    s.zeros(64);
    expect_rejected(s.b, "more than the file can hold");
    // An array of arrays claiming more inner arrays than bytes.
    Raw n;
    n.header(0, 1).str("n").type(ValueType::ARRAY).type(ValueType::ARRAY).u64(100).zeros(24);
    expect_rejected(n.b, "more than the file can hold");
}

TEST(GgufValidation, UnknownValueType) {
    Raw r;
    r.header(0, 1).str("k").u32(13).u32(0);
    expect_rejected(r.b, "'k' has unknown value type 13");
    Raw big;
    big.header(0, 1).str("k").u32(0xffffffff).u32(0);
    expect_rejected(big.b, "unknown value type 4294967295");
    Raw a;
    a.header(0, 1).str("arr").type(ValueType::ARRAY).u32(99).u64(0);
    expect_rejected(a.b, "'arr' is an array of unknown value type 99");
}

TEST(GgufValidation, BoolNotZeroOrOne) {
    Raw r;
    r.header(0, 1).str("b").type(ValueType::BOOL).u8(2);
    expect_rejected(r.b, "bool value is 2");
}

TEST(GgufValidation, NestedArrayTooDeep) {
    auto nested = [](int levels) {
        Raw r;
        r.header(0, 1).str("deep").type(ValueType::ARRAY);
        for (int k = 1; k < levels; ++k) r.type(ValueType::ARRAY).u64(1);
        r.type(ValueType::UINT8).u64(1).u8(1);
        return r.b;
    };
    const auto ok = nested(kMaxArrayNesting);
    EXPECT_NO_THROW(File::parse(ok.data(), ok.size()));
    expect_rejected(nested(kMaxArrayNesting + 1), "'deep' nests arrays deeper than 8 levels");
    expect_rejected(nested(1000), "nests arrays deeper");
}

TEST(GgufValidation, DimensionCount) {
    Raw zero;
    zero.header(1, 0).str("t0").u32(0).u32(kF32).u64(0).pad(32).zeros(32);
    expect_rejected(zero.b, "tensor 't0' has 0 dimensions (1 to 4 allowed)");
    Raw five;
    five.header(1, 0).tensor("t5", {1, 1, 1, 1, 1}, kF32, 0).pad(32).zeros(32);
    expect_rejected(five.b, "tensor 't5' has 5 dimensions");
    Raw huge;
    huge.header(1, 0).str("th").u32(0xffffffff).zeros(64);
    expect_rejected(huge.b, "has 4294967295 dimensions");
}

TEST(GgufValidation, ZeroDimension) {
    Raw r;
    r.header(1, 0).tensor("z", {4, 0}, kF32, 0).pad(32).zeros(32);
    expect_rejected(r.b, "tensor 'z' has an invalid dimension 0");
}

TEST(GgufValidation, DimensionProductOverflows) {
    Raw r;
    r.header(1, 0).tensor("big", {uint64_t(1) << 32, uint64_t(1) << 32, 16}, kF32, 0);
    r.pad(32).zeros(64);
    expect_rejected(r.b, "tensor 'big' has an invalid dimension");
    Raw one;
    one.header(1, 0).tensor("one", {~uint64_t(0)}, kF32, 0).pad(32).zeros(64);
    expect_rejected(one.b, "invalid dimension 18446744073709551615");
    // 2^31 x 2^31 x 2^3 = 2^65 elements: each dim is fine, the product wraps a uint64.
    Raw wrap;
    wrap.header(1, 0).tensor("wrap", {uint64_t(1) << 31, uint64_t(1) << 31, 8}, kF32, 0);
    wrap.pad(32).zeros(64);
    expect_rejected(wrap.b, "tensor 'wrap' has an invalid dimension");
}

TEST(GgufValidation, UnknownTensorType) {
    for (uint32_t id : {4u, 5u, 31u, 39u, 1000u, 0xffffffffu}) {
        Raw r;
        r.header(1, 0).tensor("t", {32}, id, 0).pad(32).zeros(256);
        expect_rejected(r.b, "tensor 't' has unknown type id " + std::to_string(id));
    }
}

TEST(GgufValidation, ColumnsNotAMultipleOfTheBlockSize) {
    Raw r;
    r.header(1, 0).tensor("q", {33, 2}, kQ8_0, 0).pad(32).zeros(256);
    expect_rejected(r.b, "tensor 'q' has 33 columns, not a multiple of the q8_0 block size 32");
    Raw k;
    k.header(1, 0).tensor("k", {128}, 12, 0).pad(32).zeros(256);
    expect_rejected(k.b, "not a multiple of the q4_K block size 256");
}

TEST(GgufValidation, MisalignedOffset) {
    Raw r;
    r.header(2, 0).tensor("a", {4}, kF32, 0).tensor("b", {4}, kF32, 16).pad(32).zeros(64);
    expect_rejected(r.b, "tensor 'b' data offset is not aligned to 32");
    Raw a;
    a.header(1, 1).kv_u32("general.alignment", 8).tensor("c", {4}, kF32, 12).pad(8).zeros(64);
    expect_rejected(a.b, "not aligned to 8");
}

TEST(GgufValidation, TensorDataPastEndOfFile) {
    auto full = one_tensor_file(16);
    EXPECT_NO_THROW(File::parse(full.data(), full.size()));
    full.pop_back();
    expect_rejected(full,
                    "tensor 'w' (64 bytes at data offset 0) extends past the end of the file");
    Raw off;
    off.header(1, 0).tensor("far", {4}, kF32, uint64_t(1) << 40).pad(32).zeros(64);
    expect_rejected(off.b, "tensor 'far'");
    expect_rejected(off.b, "extends past the end");
    Raw wrap;  // offset + size wraps around 2^64
    wrap.header(1, 0).tensor("wrap", {8}, kF32, ~uint64_t(31)).pad(32).zeros(64);
    expect_rejected(wrap.b, "extends past the end");
    Raw none;  // tensor infos end exactly at EOF: no data section at all
    none.header(1, 0).tensor("n", {1}, kF32, 0);
    none.zeros(1);  // not aligned, so the data section would start after EOF
    expect_rejected(none.b, "truncated before its tensor data");
}

TEST(GgufValidation, DuplicateKey) {
    Raw r;
    r.header(0, 2).kv_u32("dup.key", 1).kv_string("dup.key", "again");
    expect_rejected(r.b, "GGUF key 'dup.key' appears twice");
}

TEST(GgufValidation, DuplicateTensorName) {
    Raw r;
    r.header(2, 0).tensor("same", {8}, kF32, 0).tensor("same", {8}, kF32, 32).pad(32).zeros(64);
    expect_rejected(r.b, "tensor 'same' appears twice");
}

TEST(GgufValidation, BadAlignment) {
    for (uint32_t a : {0u, 3u, 48u, 0x80000000u}) {
        Raw r;
        r.header(0, 1).kv_u32("general.alignment", a);
        expect_rejected(r.b, "general.alignment must be a positive power of two");
    }
    Raw s;
    s.header(0, 1).kv_string("general.alignment", "32");
    expect_rejected(s.b, "general.alignment must be");
    Raw neg;
    neg.header(0, 1).str("general.alignment").type(ValueType::INT32).u32(0xffffffe0);  // -32
    expect_rejected(neg.b, "general.alignment must be");
    Raw u64;
    u64.header(0, 1).str("general.alignment").type(ValueType::UINT64).u64(~uint64_t(0) << 4);
    expect_rejected(u64.b, "general.alignment must be");
    Raw b;
    b.header(0, 1).str("general.alignment").type(ValueType::BOOL).u8(1);
    expect_rejected(b.b, "general.alignment must be");
    Raw f;
    f.header(0, 1).str("general.alignment").type(ValueType::FLOAT32).put(32.0f);
    expect_rejected(f.b, "general.alignment must be");
}

TEST(GgufValidation, OpenNamesThePath) {
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("lokal-bad-" + std::to_string(::getpid()) + ".gguf"))
                                 .string();
    Raw r;
    r.header(0, 0, 1);
    {
        std::ofstream out(path, std::ios::binary);
        out.write(reinterpret_cast<const char*>(r.b.data()),
                  static_cast<std::streamsize>(r.b.size()));
    }
    try {
        File::open(path);
        ADD_FAILURE() << "opened";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("v1 is not supported"), std::string::npos);
    }
    std::filesystem::remove(path);
    // An empty file.
    { std::ofstream out(path, std::ios::binary); }
    EXPECT_THROW(File::open(path), Error);
    std::filesystem::remove(path);
}

}  // namespace
}  // namespace lokal::gguf
