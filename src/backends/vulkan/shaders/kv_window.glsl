// A KV-cache token's first visible position: with a sliding window of `window` positions
// (0: none), the last `window` up to its own position `last`.
uint first_visible(uint last, uint window) {
    return window > 0u && last >= window ? last + 1u - window : 0u;
}
