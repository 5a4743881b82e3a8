// What the CPU we run on can do. x86: CPUID + XGETBV (the OS must also save the wider registers;
// the AMX flags also need Linux's per-process permission, which detection requests). AArch64:
// the kernel's hardware capabilities (Linux) or sysctl (macOS).
#pragma once

#include <string>

namespace lokal::kernels {

struct CpuFeatures {
    bool avx = false;
    bool avx2 = false;
    bool fma = false;
    bool f16c = false;
    bool avx512f = false;
    bool avx512bw = false;
    bool avx512vl = false;
    bool avx512dq = false;
    bool avx512vnni = false;
    bool avx512bf16 = false;
    bool avxvnni = false;
    bool amx_tile = false;
    bool amx_int8 = false;
    bool amx_bf16 = false;
    bool neon_dotprod = false;  // AArch64 SDOT/UDOT (Armv8.2 DotProd)

    std::string summary() const;  // e.g. "avx2 fma f16c"
};

// Detected once, on first use; the x86 flags are false on AArch64 and the reverse.
const CpuFeatures& cpu_features();

}  // namespace lokal::kernels
