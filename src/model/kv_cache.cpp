#include "model/kv_cache.h"

#include <cstring>
#include <utility>

#include "base/fp16.h"

namespace lokal::model {

KvCache::KvCache(int n_layer, int n_ctx, int row_elems, KvType type, std::vector<int> capacity)
    : capacity_(std::move(capacity)),
      row_elems_(row_elems),
      row_bytes_((size_t)row_elems * (type == KvType::F16 ? 2 : 4)),
      type_(type) {
    if (capacity_.empty()) capacity_.assign(n_layer, n_ctx);
    size_t rows = 0;
    for (int l = 0; l < n_layer; ++l) {
        first_row_.push_back(rows);
        rows += (size_t)capacity_[l];
    }
    k_.assign(rows * row_bytes_, 0);
    v_.assign(rows * row_bytes_, 0);
}

size_t KvCache::bytes() const {
    return k_.size() + v_.size();
}

void KvCache::store(int layer, int pos, const float* k, const float* v) {
    uint8_t* kd = const_cast<uint8_t*>(static_cast<const uint8_t*>(k_row(layer, pos)));
    uint8_t* vd = const_cast<uint8_t*>(static_cast<const uint8_t*>(v_row(layer, pos)));
    if (type_ == KvType::F32) {
        std::memcpy(kd, k, row_bytes_);
        std::memcpy(vd, v, row_bytes_);
        return;
    }
    uint16_t* kh = reinterpret_cast<uint16_t*>(kd);
    uint16_t* vh = reinterpret_cast<uint16_t*>(vd);
    for (int i = 0; i < row_elems_; ++i) {
        kh[i] = fp32_to_fp16(k[i]);
        vh[i] = fp32_to_fp16(v[i]);
    }
}

}  // namespace lokal::model
