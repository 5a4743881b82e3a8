// The summation order of attention, shared by attend_main.glsl and attend_combine.comp so that a
// token's output bits depend only on its own visible positions [first, last], not on the batch
// around it nor on how many workgroups share its positions (continuous batching and
// speculative decoding stay exact).
//
// The positions are cut into tiles of TILE from `first`, and the tiles into blocks: at most
// MAX_BLOCKS runs of block_tiles() consecutive tiles, the last one shorter. A block's partial
// result (m, l, acc: its largest score, its sum of weights exp(s - m) and its weighted sum of
// values) is computed from scratch by one workgroup, tile after tile in one fixed order
// (attend_main.glsl). The token's (m, l, acc) is then the left fold of fold_into() over its
// blocks in position order, starting from block 0's partial, and its output acc / l. Whether the
// fold runs in the attention workgroup's registers (unsplit) or in attend_combine.comp over
// partials written by several workgroups (split), it is this code, `precise`: no multiply and
// add is contracted into an fma and nothing reassociated, so both give the same bits.
#define TILE 128
#define MAX_BLOCKS 32

uint tile_count(uint first, uint last) { return (last - first + TILE) / TILE; }

// Tiles per block: the fewest that make at most MAX_BLOCKS blocks.
uint block_tiles(uint n_tiles) { return (n_tiles + MAX_BLOCKS - 1u) / MAX_BLOCKS; }

uint block_count(uint n_tiles) {
    const uint per = block_tiles(n_tiles);
    return (n_tiles + per - 1u) / per;
}

// Folding a block (mb, lb, accb) into the running (m, l, acc): the new maximum mx and the
// factors f = exp(m - mx) and fb = exp(mb - mx) that bring both to it; then l = fold_term(l, f,
// lb, fb), and each acc element likewise.
void fold_factors(float m, float mb, out float mx, out float f, out float fb) {
    mx = max(m, mb);
    precise float dm = m - mx, dmb = mb - mx;
    f = exp(dm);
    fb = exp(dmb);
}

float fold_term(float x, float f, float xb, float fb) {
    precise float y = x * f + xb * fb;
    return y;
}

float normalized(float acc, float l) {
    precise float y = acc / l;
    return y;
}
