// Test support: the AMX tile registers and the instructions packed_amx_kernel.h uses, emulated
// in scalar C++ with the checks the hardware makes (a bad configuration or mismatched tile
// shapes fault there; here they throw), so the AMX kernel runs and is checked on any machine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/cpu/packed_amx_kernel.h"

namespace lokal::kernels::amx {

struct EmulatedTiles {
    static constexpr int kTiles = 8;
    static constexpr int kMaxRows = 16;
    static constexpr int kMaxColsb = 64;

    struct State {
        bool configured = false;
        TileConfig config;
        uint8_t data[kTiles][kMaxRows][kMaxColsb] = {};
    };
    static State& state() {
        thread_local State s;
        return s;
    }
    static void fail(const std::string& what) { throw std::logic_error("AMX emulator: " + what); }

    static void configure(const TileConfig& c) {
        if (c.palette_id != 1) fail("palette must be 1");
        if (c.start_row != 0) fail("start_row must be 0");
        for (uint8_t r : c.reserved) {
            if (r != 0) fail("reserved bytes must be 0");
        }
        for (int t = 0; t < 16; ++t) {
            const bool unused = c.rows[t] == 0 && c.colsb[t] == 0;
            if (t >= kTiles && !unused) fail("palette 1 has 8 tiles");
            if (unused) continue;
            if (c.rows[t] == 0 || c.rows[t] > kMaxRows) fail("rows out of range");
            if (c.colsb[t] == 0 || c.colsb[t] > kMaxColsb || c.colsb[t] % 4) fail("bad colsb");
        }
        State& s = state();
        s.config = c;
        s.configured = true;
        std::memset(s.data, 0, sizeof(s.data));  // LDTILECFG zeroes the tiles
    }
    static void release() { state().configured = false; }

    static void check_tile(int t) {
        const State& s = state();
        if (!s.configured) fail("tile used without a configuration");
        if (s.config.rows[t] == 0) fail("tile " + std::to_string(t) + " is not configured");
    }
    template <int t>
    static void zero() {
        check_tile(t);
        std::memset(state().data[t], 0, sizeof(state().data[t]));
    }
    template <int t>
    static void load(const void* p, size_t stride) {
        check_tile(t);
        State& s = state();
        std::memset(s.data[t], 0, sizeof(s.data[t]));
        for (int r = 0; r < s.config.rows[t]; ++r) {
            std::memcpy(s.data[t][r], static_cast<const uint8_t*>(p) + r * stride,
                        s.config.colsb[t]);
        }
    }
    template <int t>
    static void store(void* p, size_t stride) {
        check_tile(t);
        const State& s = state();
        for (int r = 0; r < s.config.rows[t]; ++r) {
            std::memcpy(static_cast<uint8_t*>(p) + r * stride, s.data[t][r], s.config.colsb[t]);
        }
    }
    // TDPBSSD: c[m][n] += sum over k < colsb(a) / 4, i < 4 of a[m][4k + i] * b[k][4n + i].
    template <int c, int a, int b>
    static void dot() {
        check_tile(c);
        check_tile(a);
        check_tile(b);
        State& s = state();
        const TileConfig& cfg = s.config;
        if (cfg.colsb[a] != 4 * cfg.rows[b]) fail("A's bytes per row must be 4 x B's rows");
        if (cfg.colsb[c] != cfg.colsb[b]) fail("C and B must have the same bytes per row");
        if (cfg.rows[c] != cfg.rows[a]) fail("C and A must have the same rows");
        if (c == a || c == b || a == b) fail("tdpbssd needs three distinct tiles");
        for (int m = 0; m < cfg.rows[c]; ++m) {
            for (int n = 0; n < cfg.colsb[c] / 4; ++n) {
                int32_t sum;
                std::memcpy(&sum, s.data[c][m] + 4 * n, 4);
                for (int k = 0; k < cfg.rows[b]; ++k) {
                    for (int i = 0; i < 4; ++i) {
                        sum += (int8_t)s.data[a][m][4 * k + i] * (int8_t)s.data[b][k][4 * n + i];
                    }
                }
                std::memcpy(s.data[c][m] + 4 * n, &sum, 4);
            }
        }
    }
};

}  // namespace lokal::kernels::amx
