// A deterministic corpus of damaged GGUF files: every truncation of small valid files, every
// length/type/count field overwritten with hostile values, and thousands of seeded random bit
// flips and byte overwrites. Each must parse or throw lokal::Error; never crash, never read out
// of bounds (each input sits in a buffer of exactly its size, so ASan catches over-reads).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include "base/error.h"
#include "base/test_support.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"

namespace lokal::gguf {
namespace {

struct Tally {
    size_t parsed = 0;
    size_t rejected = 0;
};

// Reads everything a caller might: every metadata value and every tensor's first and last byte.
uint64_t touch(const File& f) {
    uint64_t h = f.version() + f.alignment() + f.data_offset();
    std::vector<const Value*> stack;
    for (const auto& [key, value] : f.metadata()) {
        h += key.size();
        stack.push_back(&value);
    }
    while (!stack.empty()) {
        const Value* v = stack.back();
        stack.pop_back();
        h += static_cast<uint64_t>(v->i) + static_cast<uint64_t>(v->f != 0) + v->str.size();
        for (const std::string& s : v->strings) h += s.empty() ? 0 : uint8_t(s.back());
        for (int64_t x : v->ints) h += static_cast<uint64_t>(x);
        for (double x : v->floats) h += x > 0;
        for (const Value& a : v->arrays) stack.push_back(&a);
    }
    for (const TensorInfo& t : f.tensors()) {
        EXPECT_GT(t.n_bytes, 0u);
        EXPECT_EQ(t.offset % f.alignment(), 0u);
        h += t.data[0] + t.data[t.n_bytes - 1] + t.rows() + t.cols();
        EXPECT_EQ(f.find_tensor(t.name), &t);
    }
    return h;
}

volatile uint64_t g_sink = 0;

// Parses a copy of `bytes` held in a buffer of exactly its size.
void check(const uint8_t* data, size_t size, Tally& tally) {
    std::unique_ptr<uint8_t[]> copy(new uint8_t[size ? size : 1]);
    if (size) std::memcpy(copy.get(), data, size);
    try {
        auto f = File::parse(copy.get(), size);
        g_sink = g_sink + touch(*f);
        ++tally.parsed;
    } catch (const Error& e) {
        ASSERT_GT(std::strlen(e.what()), 0u);
        ++tally.rejected;
    }
}

void check(const std::vector<uint8_t>& bytes, Tally& tally) {
    check(bytes.data(), bytes.size(), tally);
}

// Small valid files made with the writer, covering every value type, nested arrays and
// several tensor types and alignments.
std::vector<std::vector<uint8_t>> seed_files() {
    std::vector<std::vector<uint8_t>> out;
    {
        Writer w;
        w.set_string("general.architecture", "llama");
        w.set_u32("llama.block_count", 2);
        w.set_f32("llama.rope.freq_base", 10000.0f);
        w.set_bool("b", true);
        w.set_string_array("tokenizer.ggml.tokens", {"<s>", "</s>", "a", "ü"});
        const float scores[] = {0, -1, -2.5f};
        w.set_f32_array("tokenizer.ggml.scores", scores);
        w.add_random_tensor("token_embd.weight", DType::F32, {4, 3}, 1);
        w.add_random_tensor("blk.0.attn_q.weight", DType::Q8_0, {32, 2}, 2);
        w.add_random_tensor("output_norm.weight", DType::F16, {3}, 3);
        out.push_back(w.to_bytes());
    }
    {
        Writer w;
        w.set_alignment(64);
        w.set_value("nested", make_array_array({make_int_array(ValueType::INT16, {-1, 2}),
                                                make_array_array({make_string_array({"x"})}),
                                                make_float_array(ValueType::FLOAT64, {})}));
        w.set_u64("u64", 1234567890123ull);
        w.set_i8("i8", -5);
        w.set_f64("f64", 0.25);
        w.set_value("u16s", make_int_array(ValueType::UINT16, {1, 65535}));
        w.add_random_tensor("q4k", DType::Q4_K, {256, 1}, 4);
        w.add_random_tensor("bf16", DType::BF16, {2, 2, 2, 2}, 5);
        out.push_back(w.to_bytes());
    }
    {
        Writer w;  // metadata only
        w.set_alignment(1);
        w.set_string("s", "");
        w.set_value("deep", make_array_array({make_array_array({make_array_array({})})}));
        out.push_back(w.to_bytes());
    }
    return out;
}

TEST(GgufCorpus, EveryTruncationOfSmallValidFiles) {
    Tally tally;
    for (const auto& file : seed_files()) {
        ASSERT_NO_THROW(File::parse(file.data(), file.size())) << "seed file does not parse";
        for (size_t len = 0; len < file.size(); ++len) check(file.data(), len, tally);
    }
    EXPECT_GT(tally.rejected, 1000u);
    std::printf("truncations: %zu parsed, %zu rejected\n", tally.parsed, tally.rejected);
}

// Every 4- and 8-byte window of each file's header overwritten with values that break lengths,
// counts, types and offsets in every way we can think of.
TEST(GgufCorpus, FieldOverwritesWithHostileValues) {
    const uint64_t v64[] = {0,
                            1,
                            2,
                            31,
                            0x7fffffff,
                            0xffffffffull,
                            uint64_t(1) << 32,
                            uint64_t(1) << 60,
                            uint64_t(1) << 63,
                            ~uint64_t(0),
                            ~uint64_t(0) - 7};
    const uint32_t v32[] = {0, 1, 4, 5, 9, 12, 13, 39, 0x80000000u, 0xffffffffu};
    Tally tally;
    for (const auto& file : seed_files()) {
        auto f = File::parse(file.data(), file.size());
        const size_t header_end = std::min<size_t>(f->data_offset(), file.size());
        std::vector<uint8_t> m = file;
        for (size_t pos = 0; pos + 4 <= header_end; ++pos) {
            for (uint64_t v : v64) {
                if (pos + 8 > m.size()) break;
                uint64_t x = v;
                if (v == 31) x = m.size() - pos;  // "the rest of the file" plus a bit
                std::memcpy(m.data() + pos, &x, 8);
                check(m, tally);
                std::memcpy(m.data() + pos, file.data() + pos, 8);
            }
            for (uint32_t v : v32) {
                std::memcpy(m.data() + pos, &v, 4);
                check(m, tally);
                std::memcpy(m.data() + pos, file.data() + pos, 4);
            }
        }
    }
    EXPECT_GT(tally.rejected, tally.parsed);
    std::printf("field overwrites: %zu parsed, %zu rejected\n", tally.parsed, tally.rejected);
}

// Seeded random damage: bit flips, byte overwrites, stacked mutations, inserted and deleted
// bytes. std::mt19937_64's output is fixed by the standard, so the corpus is the same everywhere.
void mutate(std::vector<uint8_t>& m, std::mt19937_64& rng, size_t hot_end) {
    const size_t limit = hot_end && rng() % 8 ? std::min(hot_end, m.size()) : m.size();
    if (limit == 0) return;
    switch (rng() % 6) {
        case 0:
        case 1:  // bit flip
            m[rng() % limit] ^= static_cast<uint8_t>(1u << (rng() % 8));
            break;
        case 2: {  // byte overwrite with an interesting or random value
            const uint8_t vals[] = {0, 1, 0x7f, 0x80, 0xff};
            m[rng() % limit] = rng() % 2 ? vals[rng() % 5] : static_cast<uint8_t>(rng());
            break;
        }
        case 3: {  // small arithmetic on a byte (length fields off by a little)
            m[rng() % limit] += static_cast<uint8_t>(rng() % 2 ? 1 : -1);
            break;
        }
        case 4: {  // delete a run of bytes
            const size_t pos = rng() % limit;
            const size_t n = std::min<size_t>(1 + rng() % 8, m.size() - pos);
            m.erase(m.begin() + static_cast<ptrdiff_t>(pos),
                    m.begin() + static_cast<ptrdiff_t>(pos + n));
            break;
        }
        default: {  // insert a few bytes
            const size_t pos = rng() % limit;
            const size_t n = 1 + rng() % 8;
            m.insert(m.begin() + static_cast<ptrdiff_t>(pos), n, static_cast<uint8_t>(rng()));
            break;
        }
    }
}

TEST(GgufCorpus, RandomMutations) {
    std::mt19937_64 rng(0x6775'6666'5eedull);
    Tally tally;
    const auto seeds = seed_files();
    for (int round = 0; round < 20000; ++round) {
        const auto& file = seeds[static_cast<size_t>(round) % seeds.size()];
        std::vector<uint8_t> m = file;
        const int n_mut = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < n_mut; ++k) mutate(m, rng, 0);
        check(m, tally);
    }
    EXPECT_GT(tally.parsed, 0u);
    EXPECT_GT(tally.rejected, 0u);
    std::printf("random mutations: %zu parsed, %zu rejected\n", tally.parsed, tally.rejected);
}

// A real model, when the shared test data is there: truncations through its header and random
// damage concentrated there (its metadata holds a 512-token vocabulary).
TEST(GgufCorpus, Stories260KMutations) {
    const std::string path = testing::testdata_path("models/stories260K.gguf");
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "not found: " << path;
    std::ifstream in(path, std::ios::binary);
    const std::vector<uint8_t> file{std::istreambuf_iterator<char>(in),
                                    std::istreambuf_iterator<char>()};
    auto f = File::parse(file.data(), file.size());
    const size_t header_end = f->data_offset();

    Tally tally;
    for (size_t len = 0; len <= header_end + 64; ++len) {
        check(file.data(), len, tally);
    }
    std::mt19937_64 rng(260);
    std::vector<uint8_t> m = file;
    for (int round = 0; round < 5000; ++round) {
        // In place, then restored: the buffer is exactly the file's size.
        const size_t pos = rng() % header_end;
        const uint8_t old = m[pos];
        m[pos] = rng() % 2 ? static_cast<uint8_t>(m[pos] ^ (1u << (rng() % 8)))
                           : static_cast<uint8_t>(rng());
        try {
            auto g = File::parse(m.data(), m.size());
            g_sink = g_sink + touch(*g);
            ++tally.parsed;
        } catch (const Error&) {
            ++tally.rejected;
        }
        m[pos] = old;
    }
    std::printf("stories260K: %zu parsed, %zu rejected\n", tally.parsed, tally.rejected);
}

}  // namespace
}  // namespace lokal::gguf
