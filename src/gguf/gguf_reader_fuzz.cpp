// libFuzzer target for the GGUF reader: any input must parse or throw lokal::Error. On success
// every metadata value and every tensor's first and last byte are read, so a bad pointer or size
// shows up under ASan. Build and run with scripts/fuzz-gguf.
//
// With LOKAL_FUZZ_SEED_DIR set, start-up first writes a few small valid files made with
// gguf::Writer into that directory, so a run can be seeded without binary files in the repo.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "base/error.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"

namespace {

using namespace lokal;
using namespace lokal::gguf;

volatile uint64_t g_sink;

uint64_t touch_value(const Value& v) {
    uint64_t h = static_cast<uint64_t>(v.i) + (v.f != 0) + v.str.size();
    for (const std::string& s : v.strings) h += s.empty() ? 0 : static_cast<uint8_t>(s.back());
    for (int64_t x : v.ints) h += static_cast<uint64_t>(x);
    for (double x : v.floats) h += x > 0;
    for (const Value& a : v.arrays) h += touch_value(a);
    return h;
}

void write_seeds(const std::string& dir) {
    std::vector<Writer> ws(4);
    ws[0].set_string("general.architecture", "llama");
    ws[0].set_u32("llama.block_count", 2);
    ws[0].set_f32("llama.rope.freq_base", 10000.0f);
    ws[0].set_string_array("tokenizer.ggml.tokens", {"<s>", "</s>", "a", "\xc3\xbc"});
    const float scores[] = {0, -1, -2.5f};
    ws[0].set_f32_array("tokenizer.ggml.scores", scores);
    ws[0].add_random_tensor("token_embd.weight", DType::F32, {4, 3}, 1);
    ws[0].add_random_tensor("blk.0.attn_q.weight", DType::Q8_0, {32, 2}, 2);
    ws[0].add_random_tensor("output_norm.weight", DType::F16, {3}, 3);

    ws[1].set_alignment(64);
    ws[1].set_value("nested", make_array_array({make_int_array(ValueType::INT16, {-1, 2}),
                                                make_array_array({make_string_array({"x"})}),
                                                make_float_array(ValueType::FLOAT64, {})}));
    ws[1].set_u64("u64", 1234567890123ull);
    ws[1].set_i8("i8", -5);
    ws[1].set_f64("f64", 0.25);
    ws[1].set_bool("b", true);
    ws[1].add_random_tensor("q4k", DType::Q4_K, {256, 1}, 4);
    ws[1].add_random_tensor("bf16", DType::BF16, {2, 2, 2, 2}, 5);

    ws[2].set_alignment(1);
    ws[2].set_string("s", "");
    ws[2].set_value("deep", make_array_array({make_array_array({make_array_array({})})}));
    ws[2].set_value("u16s", make_int_array(ValueType::UINT16, {1, 65535}));

    ws[3].add_random_tensor("q4_0", DType::Q4_0, {32}, 6);
    ws[3].add_random_tensor("q6k", DType::Q6_K, {256}, 7);
    ws[3].add_tensor("i32", DType::I32, {2}, std::vector<uint8_t>(8, 1));

    for (size_t k = 0; k < ws.size(); ++k) {
        ws[k].write_file(dir + "/writer-seed-" + std::to_string(k) + ".gguf");
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (const char* dir = std::getenv("LOKAL_FUZZ_SEED_DIR")) write_seeds(dir);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        auto f = File::parse(data, size);
        uint64_t h = f->version() + f->alignment() + f->data_offset();
        for (const auto& [key, value] : f->metadata()) h += key.size() + touch_value(value);
        for (const TensorInfo& t : f->tensors()) {
            h += t.data[0] + t.data[t.n_bytes - 1] + t.rows() + t.shape_string().size();
            if (f->find_tensor(t.name) != &t) __builtin_trap();
        }
        g_sink = h;
    } catch (const Error&) {
    }
    return 0;
}
