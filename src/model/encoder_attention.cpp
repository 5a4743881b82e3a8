#include "model/encoder_attention.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <thread>
#include <utility>
#include <vector>

#include "kernels/cpu/row_ops.h"

namespace lokal::model {

// Per (sequence, head) the keys are transposed first, so that the dot products of all keys with
// a query advance together in one contiguous loop that -O3 vectorises (CMakeLists.txt); each
// score still adds its products in head-dimension order.
void attend_within_sequences(const float* qkv, int n_embd, int head_dim,
                             std::span<const int> lengths, int n_threads, float* out) {
    const int E = n_embd, hd = head_dim, n_head = E / hd;
    const size_t stride = 3 * (size_t)E;
    std::vector<std::pair<int, int>> jobs;  // (first row of the sequence, its length) per head
    std::vector<int> heads;
    for (int row = 0; int len : lengths) {
        for (int h = 0; h < n_head; ++h) {
            jobs.emplace_back(row, len);
            heads.push_back(h);
        }
        row += len;
    }
    const float scale = 1.0f / std::sqrt((float)hd);
    auto work = [&](size_t j0, size_t j1) {
        std::vector<float> kt, scores;
        for (size_t job = j0; job < j1; ++job) {
            const auto [first, len] = jobs[job];
            const float* base = qkv + (size_t)first * stride + (size_t)heads[job] * hd;
            kt.resize((size_t)hd * len);
            scores.resize(len);
            for (int j = 0; j < len; ++j) {
                for (int d = 0; d < hd; ++d) kt[(size_t)d * len + j] = base[j * stride + E + d];
            }
            for (int t = 0; t < len; ++t) {
                const float* q = base + t * stride;
                std::fill(scores.begin(), scores.end(), 0.0f);
                for (int d = 0; d < hd; ++d) {
                    const float* kd = kt.data() + (size_t)d * len;
                    for (int j = 0; j < len; ++j) scores[j] += q[d] * kd[j];
                }
                for (float& x : scores) x *= scale;
                kernels::softmax(scores.data(), len);
                float* o = out + (size_t)(first + t) * E + (size_t)heads[job] * hd;
                std::fill_n(o, hd, 0.0f);
                for (int j = 0; j < len; ++j) {
                    const float* vj = base + j * stride + 2 * (size_t)E;
                    for (int d = 0; d < hd; ++d) o[d] += scores[j] * vj[d];
                }
            }
        }
    };
    if (jobs.empty()) return;
    const size_t workers = std::clamp<size_t>((size_t)std::max(n_threads, 1), 1, jobs.size());
    std::vector<std::thread> pool;
    for (size_t i = 1; i < workers; ++i) {
        pool.emplace_back(work, jobs.size() * i / workers, jobs.size() * (i + 1) / workers);
    }
    work(0, jobs.size() / workers);
    for (std::thread& t : pool) t.join();
}

}  // namespace lokal::model
