// Elementwise ops on `n` rows of `width` columns: one invocation per element, workgroups of
// ELEMENTWISE_WG columns of one row. Rows go over x and z (grid.h's row_groups), column blocks
// over y.
#define ELEMENTWISE_WG 256
layout(local_size_x = ELEMENTWISE_WG) in;

// The element this invocation owns; false past the last row or column.
bool this_element(uint n, uint width, out uint row, out uint col) {
    row = gl_WorkGroupID.z * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    col = gl_WorkGroupID.y * ELEMENTWISE_WG + gl_LocalInvocationID.x;
    return row < n && col < width;
}
