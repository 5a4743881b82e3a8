#include "engine/context_snapshot.h"

#include "base/error.h"

namespace lokal::engine {

SnapshotKey snapshot_key(const model::Context& ctx, const std::string& model) {
    SnapshotKey k;
    k.model = model;
    k.kv_type = ctx.kv_type();
    k.n_layer = (uint32_t)ctx.model().config().n_layer;
    k.row_bytes = ctx.kv_row_bytes();
    return k;
}

std::shared_ptr<KvSnapshot> snapshot_sequence(model::Context& ctx, int seq,
                                              std::span<const int32_t> tokens,
                                              const SnapshotKey& key) {
    auto s = std::make_shared<KvSnapshot>();
    s->key = key;
    s->tokens.assign(tokens.begin(), tokens.end());
    s->rows.resize(ctx.seq_kv_bytes((int)tokens.size()));
    LOKAL_ASSERT(s->rows.size() == key.rows_bytes(tokens.size()));
    ctx.seq_export(seq, (int)tokens.size(), s->rows.data());
    return s;
}

bool restore_sequence(model::Context& ctx, int seq, const KvSnapshot& s, size_t n) {
    LOKAL_ASSERT(n <= s.tokens.size());
    if (n == s.tokens.size()) return ctx.seq_import(seq, (int)n, s.rows.data());
    const std::vector<uint8_t> rows = s.prefix_rows(n);
    return ctx.seq_import(seq, (int)n, rows.data());
}

}  // namespace lokal::engine
