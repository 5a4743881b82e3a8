#include "gguf/gguf_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "base/error.h"
#include "tensor/dequantize.h"

namespace lokal::gguf {
namespace {

namespace fs = std::filesystem;

void expect_same(const Value& a, const Value& b, const std::string& where) {
    SCOPED_TRACE(where);
    ASSERT_EQ(a.type, b.type);
    if (a.is_integer()) {
        EXPECT_EQ(a.i, b.i);
    } else if (a.is_float()) {
        if (std::isnan(a.f)) {
            EXPECT_TRUE(std::isnan(b.f));
        } else {
            EXPECT_EQ(a.f, b.f);
            EXPECT_EQ(std::signbit(a.f), std::signbit(b.f));
        }
    } else if (a.type == ValueType::STRING) {
        EXPECT_EQ(a.str, b.str);
    } else {
        ASSERT_EQ(a.elem_type, b.elem_type);
        ASSERT_EQ(a.array_size(), b.array_size());
        EXPECT_EQ(a.strings, b.strings);
        EXPECT_EQ(a.ints, b.ints);
        ASSERT_EQ(a.floats.size(), b.floats.size());
        for (size_t k = 0; k < a.floats.size(); ++k) {
            if (std::isnan(a.floats[k])) {
                EXPECT_TRUE(std::isnan(b.floats[k]));
            } else {
                EXPECT_EQ(a.floats[k], b.floats[k]) << k;
            }
        }
        ASSERT_EQ(a.arrays.size(), b.arrays.size());
        for (size_t k = 0; k < a.arrays.size(); ++k) {
            expect_same(a.arrays[k], b.arrays[k], where + "[" + std::to_string(k) + "]");
        }
    }
}

// Every key and value of the writer, in order, equal in the file.
void expect_metadata_equal(const Writer& w, const File& f) {
    ASSERT_EQ(w.metadata().size(), f.metadata().size());
    for (size_t k = 0; k < w.metadata().size(); ++k) {
        EXPECT_EQ(w.metadata()[k].first, f.metadata()[k].first);
        expect_same(w.metadata()[k].second, f.metadata()[k].second, w.metadata()[k].first);
    }
}

Value nest(int levels) {  // `levels` arrays, innermost an array of one uint8
    Value v = make_int_array(ValueType::UINT8, {7});
    for (int k = 1; k < levels; ++k) v = make_array_array({v});
    return v;
}

Writer every_type_writer() {
    Writer w;
    w.set_string("general.architecture", "llama");
    w.set_u8("t.u8", 255);
    w.set_i8("t.i8", -128);
    w.set_u16("t.u16", 65535);
    w.set_i16("t.i16", -32768);
    w.set_u32("t.u32", 4294967295u);
    w.set_i32("t.i32", std::numeric_limits<int32_t>::min());
    w.set_u64("t.u64", std::numeric_limits<uint64_t>::max());
    w.set_i64("t.i64", std::numeric_limits<int64_t>::min());
    w.set_f32("t.f32", 3.14159f);
    w.set_f32("t.f32.neg0", -0.0f);
    w.set_f32("t.f32.inf", std::numeric_limits<float>::infinity());
    w.set_f32("t.f32.nan", std::numeric_limits<float>::quiet_NaN());
    w.set_f64("t.f64", 2.718281828459045);
    w.set_f64("t.f64.tiny", std::numeric_limits<double>::denorm_min());
    w.set_bool("t.bool.true", true);
    w.set_bool("t.bool.false", false);
    w.set_string("t.str.empty", "");
    w.set_string("t.str.unicode", "héllo wörld ✓ 日本語 🦙");
    w.set_string("t.str.nul", std::string("a\0b", 3));
    w.set_string("", "empty key");
    w.set_string("ключ.🔑", "unicode key");

    w.set_string_array("a.str", {"", "a", "ünï", std::string(300, 'x')});
    w.set_string_array("a.str.empty", {});
    const float f32s[] = {1.5f, -0.0f, 1e-30f, std::numeric_limits<float>::max()};
    w.set_f32_array("a.f32", f32s);
    w.set_f32_array("a.f32.empty", {});
    const double f64s[] = {1e300, -1e-300};
    w.set_f64_array("a.f64", f64s);
    const int32_t i32s[] = {std::numeric_limits<int32_t>::min(), -1, 0, 1,
                            std::numeric_limits<int32_t>::max()};
    w.set_i32_array("a.i32", i32s);
    const uint32_t u32s[] = {0, 4294967295u};
    w.set_u32_array("a.u32", u32s);
    const int64_t i64s[] = {std::numeric_limits<int64_t>::min(), 42};
    w.set_i64_array("a.i64", i64s);
    const uint8_t u8s[] = {0, 128, 255};
    w.set_u8_array("a.u8", u8s);
    w.set_bool_array("a.bool", {true, false, true});
    w.set_value("a.i8", make_int_array(ValueType::INT8, {-128, 127}));
    w.set_value("a.u16", make_int_array(ValueType::UINT16, {0, 65535}));
    w.set_value("a.i16", make_int_array(ValueType::INT16, {-32768, 32767}));
    w.set_value("a.u64", make_int_array(ValueType::UINT64, {-1, 0}));
    w.set_value("a.u8.empty", make_int_array(ValueType::UINT8, {}));

    // Nested arrays: inner arrays of different element types, an empty inner array, an empty
    // array of arrays, three levels, and the deepest nesting the reader allows.
    w.set_value(
        "n.mixed",
        make_array_array({make_string_array({"x", ""}), make_int_array(ValueType::INT32, {1, 2, 3}),
                          make_float_array(ValueType::FLOAT64, {0.5}),
                          make_int_array(ValueType::BOOL, {}), make_array_array({})}));
    w.set_value("n.empty", make_array_array({}));
    w.set_value(
        "n.three",
        make_array_array({make_array_array({make_float_array(ValueType::FLOAT32, {1.0, 2.0})})}));
    w.set_value("n.deepest", nest(kMaxArrayNesting));
    return w;
}

class TempDir {
  public:
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "lokal-gguf-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

std::vector<uint8_t> read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(GgufWriter, EveryMetadataTypeRoundTrips) {
    const Writer w = every_type_writer();
    const std::vector<uint8_t> bytes = w.to_bytes();
    EXPECT_EQ(bytes.size(), w.file_size());
    auto f = File::parse(bytes.data(), bytes.size());
    EXPECT_EQ(f->version(), 3u);
    EXPECT_EQ(f->alignment(), kDefaultAlignment);
    EXPECT_TRUE(f->tensors().empty());
    expect_metadata_equal(w, *f);

    // Spot checks through the typed getters.
    EXPECT_EQ(f->get_int("t.u8"), 255);
    EXPECT_EQ(static_cast<uint64_t>(*f->get_int("t.u64")), std::numeric_limits<uint64_t>::max());
    EXPECT_EQ(f->get_float("t.f32"), static_cast<double>(3.14159f));
    EXPECT_EQ(f->get_bool("t.bool.true"), true);
    EXPECT_EQ(f->get_string("t.str.unicode"), "héllo wörld ✓ 日本語 🦙");
    EXPECT_EQ(f->get_string("t.str.nul")->size(), 3u);
    EXPECT_EQ(f->get_string(""), "empty key");
    EXPECT_EQ(f->get_string("ключ.🔑"), "unicode key");
    EXPECT_EQ(f->get_string_array("a.str")->at(3).size(), 300u);
    EXPECT_TRUE(f->get_string_array("a.str.empty")->empty());
    EXPECT_EQ(f->get_float_array("a.i32").size(), 5u);
    EXPECT_EQ(f->find("n.deepest")->arrays[0].arrays[0].arrays[0].type, ValueType::ARRAY);
    EXPECT_EQ(f->find("n.mixed")->arrays[1].elem_type, ValueType::INT32);
}

TEST(GgufWriter, SettingAKeyAgainReplacesItInPlace) {
    Writer w;
    w.set_u32("a", 1);
    w.set_string("b", "x");
    w.set_u32("c", 3);
    w.set_string("a", "now a string");
    EXPECT_TRUE(w.remove("c"));
    EXPECT_FALSE(w.remove("c"));
    w.set_i32("d", -4);
    const auto bytes = w.to_bytes();
    auto f = File::parse(bytes.data(), bytes.size());
    ASSERT_EQ(f->metadata().size(), 3u);
    EXPECT_EQ(f->metadata()[0].first, "a");
    EXPECT_EQ(f->get_string("a"), "now a string");
    EXPECT_EQ(f->metadata()[1].first, "b");
    EXPECT_EQ(f->metadata()[2].first, "d");
}

struct TensorCase {
    const char* name;
    DType type;
    std::vector<uint64_t> dims;
};

std::vector<uint8_t> pattern(size_t n, uint8_t salt) {
    std::vector<uint8_t> v(n);
    for (size_t k = 0; k < n; ++k) v[k] = static_cast<uint8_t>(k * 31 + salt);
    return v;
}

void check_tensors(uint64_t alignment) {
    SCOPED_TRACE("alignment " + std::to_string(alignment));
    const std::vector<TensorCase> cases = {
        {"f32.1d", DType::F32, {5}},
        {"f16.2d", DType::F16, {3, 7}},
        {"bf16.3d", DType::BF16, {2, 3, 4}},
        {"q8_0.4d", DType::Q8_0, {64, 2, 1, 3}},
        {"q4_k", DType::Q4_K, {256, 3}},
        {"q6_k", DType::Q6_K, {512, 1}},
        {"i32", DType::I32, {9}},
        {"iq2_xxs", DType::IQ2_XXS, {256}},
        {"f64.one", DType::F64, {1}},
    };
    Writer w;
    w.set_string("general.architecture", "test");
    if (alignment != kDefaultAlignment) w.set_alignment(alignment);
    EXPECT_EQ(w.alignment(), alignment);
    std::vector<std::vector<uint8_t>> datas;
    for (size_t k = 0; k < cases.size(); ++k) {
        uint64_t n = 1;
        for (uint64_t d : cases[k].dims) n *= d;
        const auto& info = dtype_info(cases[k].type);
        datas.push_back(pattern(n / info.block_elems * info.block_bytes, uint8_t(k)));
        w.add_tensor(cases[k].name, cases[k].type, cases[k].dims, datas.back().data(),
                     datas.back().size());
    }
    EXPECT_EQ(w.tensor_count(), cases.size());

    TempDir dir;
    const std::string path = dir.file("model.gguf");
    w.write_file(path);
    const std::vector<uint8_t> bytes = w.to_bytes();
    EXPECT_EQ(read_all(path), bytes);
    EXPECT_EQ(bytes.size(), w.file_size());
    EXPECT_EQ(bytes.size() % alignment, 0u);

    auto from_bytes = File::parse(bytes.data(), bytes.size());
    auto from_file = File::open(path);
    for (const File* f : {from_bytes.get(), from_file.get()}) {
        EXPECT_EQ(f->alignment(), alignment);
        EXPECT_EQ(f->data_offset() % alignment, 0u);
        expect_metadata_equal(w, *f);
        ASSERT_EQ(f->tensors().size(), cases.size());
        uint64_t expected_offset = 0;
        for (size_t k = 0; k < cases.size(); ++k) {
            const TensorInfo& t = f->tensors()[k];
            SCOPED_TRACE(t.name);
            EXPECT_EQ(t.name, cases[k].name);
            EXPECT_EQ(t.type, cases[k].type);
            EXPECT_EQ(t.dims, cases[k].dims);
            EXPECT_EQ(t.n_bytes, datas[k].size());
            EXPECT_EQ(t.offset, expected_offset);
            EXPECT_EQ(t.offset % alignment, 0u);
            EXPECT_EQ(std::memcmp(t.data, datas[k].data(), datas[k].size()), 0);
            const uint64_t padded = (t.n_bytes + alignment - 1) / alignment * alignment;
            for (uint64_t p = t.n_bytes; p < padded; ++p) EXPECT_EQ(t.data[p], 0) << p;
            expected_offset += padded;
            EXPECT_EQ(f->find_tensor(cases[k].name), &t);
        }
    }
}

TEST(GgufWriter, TensorsRoundTripWithDefaultAlignment) {
    check_tensors(32);
}
TEST(GgufWriter, TensorsRoundTripWithAlignment64) {
    check_tensors(64);
}
TEST(GgufWriter, TensorsRoundTripWithAlignment1And4096) {
    check_tensors(1);
    check_tensors(4096);
}

TEST(GgufWriter, AlignmentSetThroughTheKeyIsUsed) {
    Writer w;
    w.set_u64("general.alignment", 128);
    w.add_random_tensor("a", DType::F32, {3}, 1);
    w.add_random_tensor("b", DType::F32, {3}, 2);
    const auto bytes = w.to_bytes();
    auto f = File::parse(bytes.data(), bytes.size());
    EXPECT_EQ(f->alignment(), 128u);
    EXPECT_EQ(f->data_offset() % 128, 0u);
    EXPECT_EQ(f->tensors()[1].offset, 128u);
}

TEST(GgufWriter, FloatAndRandomTensorsAreConvertedAndDeterministic) {
    std::vector<float> vals(64 * 2);
    for (size_t k = 0; k < vals.size(); ++k) vals[k] = static_cast<float>(k) / 64.0f - 1.0f;
    Writer w;
    w.add_tensor_f32("f16", DType::F16, {64, 2}, vals);
    w.add_tensor_f32("q8", DType::Q8_0, {64, 2}, vals);
    w.add_random_tensor("r1", DType::Q4_K, {256, 4}, 42, 0.5f);
    w.add_random_tensor("r2", DType::Q4_K, {256, 4}, 42, 0.5f);
    w.add_random_tensor("r3", DType::Q4_K, {256, 4}, 43, 0.5f);
    w.add_random_tensor("rf", DType::F32, {1000}, 7, 0.25f);
    const auto bytes = w.to_bytes();
    auto f = File::parse(bytes.data(), bytes.size());

    std::vector<float> out(128);
    for (const char* name : {"f16", "q8"}) {
        const TensorInfo* t = f->find_tensor(name);
        ASSERT_NE(t, nullptr);
        for (int r = 0; r < 2; ++r) {
            dequantize_row(t->type, t->data + r * row_bytes(t->type, 64), out.data() + r * 64, 64);
        }
        for (size_t k = 0; k < vals.size(); ++k) EXPECT_NEAR(out[k], vals[k], 0.01f) << name;
    }
    const TensorInfo* r1 = f->find_tensor("r1");
    const TensorInfo* r2 = f->find_tensor("r2");
    const TensorInfo* r3 = f->find_tensor("r3");
    EXPECT_EQ(std::memcmp(r1->data, r2->data, r1->n_bytes), 0);
    EXPECT_NE(std::memcmp(r1->data, r3->data, r1->n_bytes), 0);
    const TensorInfo* rf = f->find_tensor("rf");
    float mn = 1, mx = -1;
    for (int k = 0; k < 1000; ++k) {
        float x;
        std::memcpy(&x, rf->data + 4 * k, 4);
        mn = std::min(mn, x);
        mx = std::max(mx, x);
    }
    EXPECT_GE(mn, -0.25f);
    EXPECT_LE(mx, 0.25f);
    EXPECT_LT(mn, -0.2f);
    EXPECT_GT(mx, 0.2f);
}

TEST(GgufWriter, TensorRefAndMovedData) {
    std::vector<uint8_t> a = pattern(16, 1), b = pattern(8, 2);
    Writer w;
    w.add_tensor_ref("ref", DType::F32, {4}, a.data(), a.size());
    w.add_tensor("moved", DType::I8, {8}, std::vector<uint8_t>(b));
    a[0] = 99;  // a reference sees later changes
    const auto bytes = w.to_bytes();
    auto f = File::parse(bytes.data(), bytes.size());
    EXPECT_EQ(f->find_tensor("ref")->data[0], 99);
    EXPECT_EQ(std::memcmp(f->find_tensor("moved")->data, b.data(), 8), 0);
}

TEST(GgufWriter, DeferredTensorsAreMadeWhileWritingInOrder) {
    std::vector<std::string> made;
    Writer w;
    w.add_tensor_deferred("first", DType::I8, {4}, 4, [&] {
        made.push_back("first");
        return std::vector<uint8_t>{1, 2, 3, 4};
    });
    w.add_tensor("middle", DType::I8, {2}, std::vector<uint8_t>{7, 8});
    w.add_tensor_deferred("last", DType::I8, {3}, 3, [&] {
        made.push_back("last");
        return std::vector<uint8_t>{5, 6, 9};
    });
    EXPECT_TRUE(made.empty());  // nothing is made until the file is written
    const auto bytes = w.to_bytes();
    EXPECT_EQ(made, (std::vector<std::string>{"first", "last"}));
    auto f = File::parse(bytes.data(), bytes.size());
    EXPECT_EQ(f->find_tensor("first")->data[3], 4);
    EXPECT_EQ(f->find_tensor("last")->data[2], 9);
    Writer bad;
    bad.add_tensor_deferred("short", DType::I8, {4}, 4, [] { return std::vector<uint8_t>(3); });
    EXPECT_THROW(bad.to_bytes(), Error);
}

TEST(GgufWriter, CopiesAreIndependent) {
    std::vector<uint8_t> bytes_a;
    {
        Writer a;
        a.add_tensor("t", DType::I8, {4}, std::vector<uint8_t>{1, 2, 3, 4});
        Writer b = a;
        b.set_u32("only.in.b", 1);
        bytes_a = a.to_bytes();
        a = Writer();
        const auto bytes_b = b.to_bytes();  // b's tensor data outlives a's
        auto f = File::parse(bytes_b.data(), bytes_b.size());
        EXPECT_EQ(f->find_tensor("t")->data[3], 4);
        EXPECT_TRUE(f->has("only.in.b"));
    }
    auto f = File::parse(bytes_a.data(), bytes_a.size());
    EXPECT_FALSE(f->has("only.in.b"));
}

TEST(GgufWriter, EmptyWriterMakesAValidFile) {
    Writer w;
    const auto bytes = w.to_bytes();
    auto f = File::parse(bytes.data(), bytes.size());
    EXPECT_TRUE(f->metadata().empty());
    EXPECT_TRUE(f->tensors().empty());
}

void expect_error(const std::function<void()>& fn, const std::string& needle) {
    try {
        fn();
        ADD_FAILURE() << "no error; expected one containing '" << needle << "'";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
}

TEST(GgufWriter, RejectsWhatTheReaderWouldReject) {
    Writer w;
    const uint8_t d[64] = {};
    expect_error([&] { w.set_alignment(0); }, "power of two");
    expect_error([&] { w.set_alignment(48); }, "power of two");
    expect_error([&] { w.set_string("general.alignment", "32"); }, "general.alignment");
    expect_error([&] { w.set_bool("general.alignment", true); }, "general.alignment");
    expect_error([&] { w.set_value("k", make_int(ValueType::UINT8, 256)); }, "does not fit");
    expect_error([&] { w.set_value("k", make_int(ValueType::BOOL, 2)); }, "does not fit");
    expect_error([&] { w.set_value("k", make_int_array(ValueType::INT8, {200})); }, "does not fit");
    expect_error([&] { w.set_value("k", nest(kMaxArrayNesting + 1)); }, "nested deeper");
    Value bad = make_int_array(ValueType::FLOAT32, {1});
    expect_error([&] { w.set_value("k", bad); }, "another type");
    Value not_array = make_array_array({make_int(ValueType::UINT8, 1)});
    expect_error([&] { w.set_value("k", not_array); }, "non-array");
    EXPECT_EQ(w.find("k"), nullptr);

    expect_error([&] { w.add_tensor("t", DType::F32, {4}, d, 12); }, "need 16");
    expect_error([&] { w.add_tensor("t", DType::F32, {}, d, 4); }, "dimensions");
    expect_error([&] { w.add_tensor("t", DType::F32, {1, 1, 1, 1, 1}, d, 4); }, "dimensions");
    expect_error([&] { w.add_tensor("t", DType::F32, {0}, d, 0); }, "invalid dimension");
    expect_error([&] { w.add_tensor("t", DType::Q8_0, {16}, d, 17); }, "block size");
    expect_error([&] { w.add_tensor("t", static_cast<DType>(4), {1}, d, 1); }, "unknown type");
    expect_error([&] { w.add_tensor(std::string(64, 'n'), DType::F32, {1}, d, 4); }, "63 bytes");
    w.add_tensor("t", DType::F32, {1}, d, 4);
    expect_error([&] { w.add_tensor("t", DType::F32, {1}, d, 4); }, "added twice");
    expect_error([&] { w.add_tensor_f32("u", DType::IQ2_XXS, {256}, std::vector<float>(256)); },
                 "cannot convert");
    expect_error([&] { w.add_tensor_f32("u", DType::F32, {3}, std::vector<float>(2)); },
                 "2 values");
    EXPECT_EQ(w.tensor_count(), 1u);
}

TEST(GgufWriter, WriteFileIsAtomicAndLeavesNoTemporaries) {
    TempDir dir;
    const std::string path = dir.file("m.gguf");
    Writer w1;
    w1.set_string("which", "first");
    w1.write_file(path);
    Writer w2;
    w2.set_string("which", "second");
    w2.add_random_tensor("t", DType::F16, {10, 10}, 3);
    w2.write_file(path);
    EXPECT_EQ(File::open(path)->get_string("which"), "second");
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir.path())) {
        EXPECT_EQ(e.path().filename(), "m.gguf");
        ++n;
    }
    EXPECT_EQ(n, 1u);
    expect_error([&] { w2.write_file(dir.file("missing-dir/m.gguf")); }, "cannot create");
}

}  // namespace
}  // namespace lokal::gguf
