#include "quant/quant_mix.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

namespace lokal::quant {
namespace {

using enum DType;

// A llama-shaped model: 16 layers, so the mixes' "first/last eighth" is 2 layers and the
// "first sixteenth" 1. cols is the row length of every matrix.
std::vector<TensorDesc> llama_tensors(int n_layer, uint64_t cols, bool with_output) {
    std::vector<TensorDesc> t;
    t.push_back({"token_embd.weight", {cols, 1000}, F16});
    t.push_back({"output_norm.weight", {cols}, F32});
    if (with_output) t.push_back({"output.weight", {cols, 1000}, F16});
    for (int i = n_layer - 1; i >= 0; --i) {  // reverse order: the plan sorts by layer itself
        const std::string p = "blk." + std::to_string(i) + ".";
        for (const char* name :
             {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up"}) {
            t.push_back({p + name + ".weight", {cols, cols}, F16});
        }
        t.push_back({p + "ffn_down.weight", {cols * 2, cols}, F16});
        t.push_back({p + "attn_norm.weight", {cols}, F32});
        t.push_back({p + "ffn_norm.weight", {cols}, F32});
    }
    return t;
}

std::map<std::string, DType> plan_by_name(std::string_view ft_name,
                                          const std::vector<TensorDesc>& t, int n_head_kv = 8,
                                          MixOptions opts = {}) {
    ModelShape shape{"llama", 16, 8, n_head_kv, 0};
    std::map<std::string, DType> out;
    for (const TensorPlan& p : plan_tensor_types(*find_file_type(ft_name), shape, t, opts)) {
        out[t[p.index].name] = p.type;
    }
    return out;
}

std::string blk(int i, const char* name) {
    return "blk." + std::to_string(i) + "." + name + ".weight";
}

TEST(QuantMix, FileTypeNamesAndNumbers) {
    ASSERT_TRUE(find_file_type("q4_k_m"));
    EXPECT_EQ(find_file_type("q4_k_m")->id, 15u);
    EXPECT_EQ(find_file_type("Q8_0")->id, 7u);
    EXPECT_EQ(find_file_type("iq4_xs")->base, IQ4_XS);
    EXPECT_FALSE(find_file_type("q4_k_x"));
    EXPECT_FALSE(find_file_type("Q4_K_M2"));
}

TEST(QuantMix, Q4_K_MGivesMoreBitsToAttnVAndFfnDownOnChosenLayers) {
    const auto plan = plan_by_name("Q4_K_M", llama_tensors(16, 256, true));
    // Layers 0,1 (first eighth), 14,15 (last eighth) and every third from layer 4.
    const std::set<int> more = {0, 1, 4, 7, 10, 13, 14, 15};
    for (int i = 0; i < 16; ++i) {
        const DType want = more.count(i) ? Q6_K : Q4_K;
        EXPECT_EQ(plan.at(blk(i, "attn_v")), want) << i;
        EXPECT_EQ(plan.at(blk(i, "ffn_down")), want) << i;
        EXPECT_EQ(plan.at(blk(i, "attn_q")), Q4_K) << i;
        EXPECT_EQ(plan.at(blk(i, "attn_norm")), F32) << i;
    }
    EXPECT_EQ(plan.at("output.weight"), Q6_K);
    EXPECT_EQ(plan.at("token_embd.weight"), Q4_K);
    EXPECT_EQ(plan.at("output_norm.weight"), F32);
}

TEST(QuantMix, Q3_K_MAndLBumpAttentionAndFfnDown) {
    const auto m = plan_by_name("Q3_K_M", llama_tensors(16, 256, true));
    EXPECT_EQ(m.at(blk(0, "attn_v")), Q5_K);
    EXPECT_EQ(m.at(blk(1, "attn_v")), Q5_K);
    EXPECT_EQ(m.at(blk(2, "attn_v")), Q4_K);
    EXPECT_EQ(m.at(blk(0, "ffn_down")), Q5_K);
    EXPECT_EQ(m.at(blk(1, "ffn_down")), Q4_K);
    EXPECT_EQ(m.at(blk(3, "attn_output")), Q4_K);
    EXPECT_EQ(m.at(blk(3, "ffn_up")), Q3_K);
    const auto l = plan_by_name("Q3_K_L", llama_tensors(16, 256, true));
    EXPECT_EQ(l.at(blk(9, "attn_v")), Q5_K);
    EXPECT_EQ(l.at(blk(9, "ffn_down")), Q5_K);
    EXPECT_EQ(l.at(blk(9, "attn_output")), Q5_K);
    EXPECT_EQ(l.at(blk(9, "attn_k")), Q3_K);
    const auto s = plan_by_name("Q3_K_S", llama_tensors(16, 256, true));
    EXPECT_EQ(s.at(blk(0, "attn_v")), Q3_K);
    EXPECT_EQ(s.at(blk(0, "ffn_down")), Q3_K);
}

TEST(QuantMix, Q2_KDependsOnGroupedQueryAttention) {
    EXPECT_EQ(plan_by_name("Q2_K", llama_tensors(16, 256, true), 8).at(blk(5, "attn_v")), Q3_K);
    EXPECT_EQ(plan_by_name("Q2_K", llama_tensors(16, 256, true), 2).at(blk(5, "attn_v")), Q4_K);
    EXPECT_EQ(plan_by_name("Q2_K", llama_tensors(16, 256, true), 2).at(blk(5, "ffn_down")), Q3_K);
}

TEST(QuantMix, Q4_K_SAndIq4Types) {
    const auto s = plan_by_name("Q4_K_S", llama_tensors(16, 256, true));
    EXPECT_EQ(s.at(blk(3, "attn_v")), Q5_K);  // the first four attn_v
    EXPECT_EQ(s.at(blk(4, "attn_v")), Q4_K);
    EXPECT_EQ(s.at(blk(1, "ffn_down")), Q5_K);
    EXPECT_EQ(s.at(blk(2, "ffn_down")), Q4_K);
    const auto nl = plan_by_name("IQ4_NL", llama_tensors(16, 256, true), 2);
    EXPECT_EQ(nl.at(blk(7, "attn_v")), Q5_K);
    EXPECT_EQ(nl.at(blk(1, "ffn_down")), Q5_K);
    EXPECT_EQ(nl.at(blk(2, "ffn_down")), IQ4_NL);
    EXPECT_EQ(plan_by_name("IQ4_NL", llama_tensors(16, 256, true), 2, {false, false, true})
                  .at(blk(1, "ffn_down")),
              IQ4_NL);  // an importance matrix makes the bump unnecessary
}

TEST(QuantMix, TiedEmbeddingsGetTheOutputType) {
    EXPECT_EQ(plan_by_name("Q4_0", llama_tensors(16, 256, false)).at("token_embd.weight"), Q6_K);
    EXPECT_EQ(plan_by_name("Q8_0", llama_tensors(16, 256, false)).at("token_embd.weight"), Q8_0);
    EXPECT_EQ(plan_by_name("Q4_0", llama_tensors(16, 256, true)).at("token_embd.weight"), Q4_0);
}

TEST(QuantMix, RowsThatAreNotWholeBlocksFallBack) {
    // 64 columns: no 256-element K block fits, so each K type falls to a 32-block type.
    const auto m = plan_by_name("Q4_K_M", llama_tensors(16, 64, true));
    EXPECT_EQ(m.at(blk(0, "ffn_down")), Q8_0);  // Q6_K -> Q8_0 (ffn_down rows are 128 here)
    EXPECT_EQ(m.at(blk(2, "attn_q")), Q5_0);    // Q4_K -> Q5_0
    EXPECT_EQ(m.at("output.weight"), Q8_0);     // output: Q8_0 when the K block does not fit
    EXPECT_EQ(plan_by_name("IQ4_XS", llama_tensors(16, 64, true)).at(blk(5, "attn_q")), IQ4_NL);
    // 48 columns: not even a 32-block fits.
    std::vector<TensorDesc> odd = {{"blk.0.attn_q.weight", {48, 48}, F32}};
    EXPECT_EQ(plan_by_name("Q4_0", odd).at("blk.0.attn_q.weight"), F16);
}

TEST(QuantMix, FloatTypesPureAndLeaveOutput) {
    const auto f16 = plan_by_name("F16", llama_tensors(16, 256, true));
    EXPECT_EQ(f16.at("output.weight"), F16);
    EXPECT_EQ(f16.at(blk(0, "attn_v")), F16);
    EXPECT_EQ(f16.at(blk(0, "ffn_norm")), F32);
    const auto pure = plan_by_name("Q4_K_M", llama_tensors(16, 256, true), 8, {true, false, false});
    EXPECT_EQ(pure.at(blk(0, "attn_v")), Q4_K);
    EXPECT_EQ(pure.at("output.weight"), Q4_K);
    const auto keep = plan_by_name("Q4_K_M", llama_tensors(16, 256, true), 8, {false, true, false});
    EXPECT_EQ(keep.at("output.weight"), F16);
}

TEST(QuantMix, PlanOrderIsGlobalTensorsThenLayerByLayer) {
    const auto t = llama_tensors(12, 256, true);
    const auto plan = plan_tensor_types(*find_file_type("Q8_0"), {"llama", 12, 8, 8, 0}, t, {});
    ASSERT_EQ(plan.size(), t.size());
    EXPECT_EQ(t[plan[0].index].name, "output.weight");
    EXPECT_EQ(t[plan[3].index].name, "blk.0.attn_k.weight");
    EXPECT_EQ(t[plan.back().index].name, "blk.11.ffn_up.weight");
}

TEST(QuantMix, QuantizableTensors) {
    EXPECT_TRUE(tensor_is_quantizable({"blk.0.attn_q.weight", {64, 64}, F32}, false));
    EXPECT_FALSE(tensor_is_quantizable({"blk.0.attn_q.bias", {64, 64}, F32}, false));
    EXPECT_FALSE(tensor_is_quantizable({"blk.0.attn_norm.weight", {64}, F32}, false));
    EXPECT_FALSE(tensor_is_quantizable({"blk.0.attn_q.weight", {64, 1}, F32}, false));
    EXPECT_FALSE(tensor_is_quantizable({"blk.0.ffn_gate_inp.weight", {64, 8}, F32}, false));
    EXPECT_FALSE(tensor_is_quantizable({"position_embd.weight", {64, 512}, F32}, false));
    EXPECT_FALSE(tensor_is_quantizable({"output.weight", {64, 512}, F32}, true));
}

}  // namespace
}  // namespace lokal::quant
