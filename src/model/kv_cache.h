// The key/value cache of one sequence: for every layer and position, the rotated keys and the
// values of all KV heads, stored as F16 (default, half the memory) or F32. A layer may hold
// fewer rows than the context (sliding-window layers keep only the window plus one batch); its
// rows are then a ring indexed by position modulo its capacity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lokal::model {

enum class KvType { F16, F32 };

class KvCache {
  public:
    // capacity[l] rows for layer l (each <= n_ctx); empty means n_ctx rows for every layer.
    KvCache(int n_layer, int n_ctx, int row_elems, KvType type, std::vector<int> capacity = {});

    KvType type() const { return type_; }
    size_t bytes() const;
    // Copies one position's keys and values (row_elems floats each) into the cache.
    void store(int layer, int pos, const float* k, const float* v);

    // Rows are row_elems elements of the cache type.
    const void* k_row(int layer, int pos) const { return row(k_, layer, pos); }
    const void* v_row(int layer, int pos) const { return row(v_, layer, pos); }

  private:
    const void* row(const std::vector<uint8_t>& buf, int layer, int pos) const {
        return buf.data() + (first_row_[layer] + (size_t)(pos % capacity_[layer])) * row_bytes_;
    }

    std::vector<int> capacity_;
    std::vector<size_t> first_row_;
    int row_elems_;
    size_t row_bytes_;
    KvType type_;
    std::vector<uint8_t> k_, v_;
};

}  // namespace lokal::model
