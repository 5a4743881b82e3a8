// KV snapshots (engine/kv_snapshot.h) of a Context's sequences, and back.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "engine/kv_snapshot.h"
#include "model/context.h"

namespace lokal::engine {

// The key of snapshots this context can restore, for the model file `model`.
SnapshotKey snapshot_key(const model::Context& ctx, const std::string& model);
// The rows of seq's first tokens.size() positions, which hold `tokens`.
std::shared_ptr<KvSnapshot> snapshot_sequence(model::Context& ctx, int seq,
                                              std::span<const int32_t> tokens,
                                              const SnapshotKey& key);
// seq holds the first n tokens of s afterwards. False, with seq empty, when the KV pool has
// too few free pages.
bool restore_sequence(model::Context& ctx, int seq, const KvSnapshot& s, size_t n);

}  // namespace lokal::engine
