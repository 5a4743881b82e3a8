// A KV snapshot: the cache rows of a sequence's first tokens, as one file that outlives the
// process (engine/prompt_cache_store.h keeps them). The rows are Context::seq_export's bytes, so
// a restored sequence computes bit for bit what the original did.
//
// File layout (the host's byte order; the magic tells another order apart):
//   "LOKALKV1" | u32 version | u32 kv_type | u32 n_layer | u32 n_tokens | u64 row_bytes |
//   u32 model_len | model | i32 tokens[n_tokens] | rows | u64 checksum of everything before
// rows: for each layer, the keys of the n_tokens positions, then their values.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kernels/cpu/kv_cache.h"

namespace lokal::engine {

// What a snapshot is valid for: the model file and how the cache stores its rows.
struct SnapshotKey {
    std::string model;  // the model file's identity (prompt_cache_store.h model_cache_key)
    kernels::KvType kv_type = kernels::KvType::F16;
    uint32_t n_layer = 0;
    uint64_t row_bytes = 0;  // one position's keys (or values) of one layer

    bool operator==(const SnapshotKey&) const = default;
    uint64_t rows_bytes(size_t n_tokens) const { return 2 * n_layer * row_bytes * n_tokens; }
};

struct KvSnapshot {
    SnapshotKey key;
    std::vector<int32_t> tokens;
    std::vector<uint8_t> rows;  // key.rows_bytes(tokens.size()) bytes

    // The rows of the first n tokens, laid out as a snapshot of n tokens would hold them.
    std::vector<uint8_t> prefix_rows(size_t n) const;
};

// A 64-bit hash of bytes (not cryptographic: it finds damage, and names files).
uint64_t hash_bytes(const void* data, size_t n, uint64_t seed = 0);

std::vector<uint8_t> encode_snapshot(const KvSnapshot& s);

// The header and tokens, without the rows or checksum (enough to list or index a file). nullopt,
// with the reason in *why, when the bytes cannot be the start of a snapshot.
struct SnapshotHeader {
    SnapshotKey key;
    std::vector<int32_t> tokens;
    uint64_t file_bytes = 0;  // what the whole file must measure
};
std::optional<SnapshotHeader> decode_snapshot_header(std::span<const uint8_t> bytes,
                                                     std::string* why);

// The whole snapshot, validated: size, checksum, and that it was made for `expect`. nullopt,
// with the reason in *why, otherwise.
std::optional<KvSnapshot> decode_snapshot(std::span<const uint8_t> bytes, const SnapshotKey& expect,
                                          std::string* why);

}  // namespace lokal::engine
