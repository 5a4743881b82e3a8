// Scale and min of sub-block j (0..7) of a q4_K / q5_K block whose 12 scale bytes start at
// byte `at`: get_scale_min_k4 in tensor/quant_blocks.h.
void scale_min_k4(uint at, uint j, out float sc, out float m) {
    if (j < 4u) {
        sc = float(w_byte(at + j) & 63u);
        m = float(w_byte(at + 4u + j) & 63u);
    } else {
        sc = float((w_byte(at + 4u + j) & 0xFu) | ((w_byte(at + j - 4u) >> 6) << 4));
        m = float((w_byte(at + 4u + j) >> 4) | ((w_byte(at + j) >> 6) << 4));
    }
}
