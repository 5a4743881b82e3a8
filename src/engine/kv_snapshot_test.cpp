#include "engine/kv_snapshot.h"

#include <gtest/gtest.h>

namespace lokal::engine {
namespace {

KvSnapshot sample(size_t n_tokens = 5) {
    KvSnapshot s;
    s.key = {"sha256-abc", kernels::KvType::F16, 3, 8};
    for (size_t i = 0; i < n_tokens; ++i) s.tokens.push_back((int32_t)(100 + i));
    s.rows.resize(s.key.rows_bytes(n_tokens));
    for (size_t i = 0; i < s.rows.size(); ++i) s.rows[i] = (uint8_t)(i * 7 + 1);
    return s;
}

TEST(KvSnapshot, RoundTrips) {
    const KvSnapshot s = sample();
    const std::vector<uint8_t> bytes = encode_snapshot(s);
    std::string why;
    const auto back = decode_snapshot(bytes, s.key, &why);
    ASSERT_TRUE(back) << why;
    EXPECT_EQ(back->key, s.key);
    EXPECT_EQ(back->tokens, s.tokens);
    EXPECT_EQ(back->rows, s.rows);
    const auto h = decode_snapshot_header(bytes, &why);
    ASSERT_TRUE(h) << why;
    EXPECT_EQ(h->tokens, s.tokens);
    EXPECT_EQ(h->file_bytes, bytes.size());
}

TEST(KvSnapshot, EveryTruncationIsRejected) {
    const KvSnapshot s = sample();
    const std::vector<uint8_t> bytes = encode_snapshot(s);
    for (size_t n = 0; n < bytes.size(); ++n) {
        std::string why;
        EXPECT_FALSE(decode_snapshot({bytes.data(), n}, s.key, &why)) << n;
        EXPECT_FALSE(why.empty());
    }
    std::vector<uint8_t> longer = bytes;
    longer.push_back(0);
    EXPECT_FALSE(decode_snapshot(longer, s.key, nullptr));
}

TEST(KvSnapshot, EveryFlippedByteIsRejected) {
    const KvSnapshot s = sample();
    const std::vector<uint8_t> bytes = encode_snapshot(s);
    for (size_t i = 0; i < bytes.size(); ++i) {
        for (uint8_t flip : {0x01, 0x80, 0xff}) {
            std::vector<uint8_t> bad = bytes;
            bad[i] ^= flip;
            EXPECT_FALSE(decode_snapshot(bad, s.key, nullptr)) << "byte " << i;
        }
    }
}

TEST(KvSnapshot, ForeignKeysAreRejected) {
    const KvSnapshot s = sample();
    const std::vector<uint8_t> bytes = encode_snapshot(s);
    SnapshotKey other = s.key;
    other.model = "sha256-abd";
    std::string why;
    EXPECT_FALSE(decode_snapshot(bytes, other, &why));
    EXPECT_NE(why.find("another model"), std::string::npos) << why;
    other = s.key;
    other.kv_type = kernels::KvType::Q8_0;
    EXPECT_FALSE(decode_snapshot(bytes, other, nullptr));
    other = s.key;
    other.n_layer = 4;
    EXPECT_FALSE(decode_snapshot(bytes, other, nullptr));
}

TEST(KvSnapshot, GarbageIsRejected) {
    std::vector<uint8_t> junk(4096);
    for (size_t i = 0; i < junk.size(); ++i) junk[i] = (uint8_t)(i * 131 + 17);
    EXPECT_FALSE(decode_snapshot(junk, sample().key, nullptr));
    // A valid magic and version with absurd counts must not allocate them.
    std::vector<uint8_t> bytes = encode_snapshot(sample());
    bytes[20] = bytes[21] = bytes[22] = bytes[23] = 0xff;  // n_tokens
    EXPECT_FALSE(decode_snapshot_header(bytes, nullptr));
}

TEST(KvSnapshot, PrefixRowsKeepEachLayersFirstRows) {
    const KvSnapshot s = sample(5);
    const std::vector<uint8_t> p = s.prefix_rows(2);
    ASSERT_EQ(p.size(), s.key.rows_bytes(2));
    const size_t rb = s.key.row_bytes;
    for (size_t half = 0; half < 2 * s.key.n_layer; ++half) {
        for (size_t b = 0; b < 2 * rb; ++b) {
            EXPECT_EQ(p[half * 2 * rb + b], s.rows[half * 5 * rb + b]);
        }
    }
}

}  // namespace
}  // namespace lokal::engine
