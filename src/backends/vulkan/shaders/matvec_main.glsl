// The main of a matvec_<type>.comp shader: per row and vector, or tiled (see matvec_head.glsl).
#ifdef VARIANT_TILED
#include "matvec_tiled_main.glsl"
#else
#include "matvec_rows_main.glsl"
#endif
