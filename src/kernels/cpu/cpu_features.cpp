#include "kernels/cpu/cpu_features.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif
#if defined(__aarch64__) && defined(__APPLE__)
#include <sys/sysctl.h>
#endif

#include <cstdint>

namespace lokal::kernels {
namespace {

#if defined(__x86_64__) || defined(__i386__)

// Linux keeps the AMX tile registers disabled (XFD) until the process asks for them: the first
// tile instruction would otherwise raise SIGILL. Returns whether the permission is granted.
bool request_amx_permission() {
#if defined(__linux__) && defined(__x86_64__)
    constexpr long kArchGetXcompPerm = 0x1022;
    constexpr long kArchReqXcompPerm = 0x1023;
    constexpr long kXfeatureXtiledata = 18;
    if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) != 0) return false;
    unsigned long permitted = 0;
    if (syscall(SYS_arch_prctl, kArchGetXcompPerm, &permitted) != 0) return false;
    return (permitted >> kXfeatureXtiledata) & 1;
#else
    return false;
#endif
}

uint64_t read_xcr0() {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

CpuFeatures detect() {
    CpuFeatures f;
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return f;
    const unsigned max_leaf = a;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    const bool osxsave = c & (1u << 27);
    const bool cpu_avx = c & (1u << 28);
    const bool cpu_fma = c & (1u << 12);
    const bool cpu_f16c = c & (1u << 29);
    if (!osxsave) return f;
    const uint64_t xcr0 = read_xcr0();
    const bool os_avx = (xcr0 & 0x6) == 0x6;          // SSE + AVX state
    const bool os_avx512 = (xcr0 & 0xE6) == 0xE6;     // + opmask, ZMM_Hi256, Hi16_ZMM
    const bool os_amx = (xcr0 & 0x60000) == 0x60000;  // XTILECFG + XTILEDATA
    if (!os_avx) return f;
    f.avx = cpu_avx;
    f.fma = cpu_avx && cpu_fma;
    f.f16c = cpu_avx && cpu_f16c;
    if (max_leaf < 7) return f;
    __cpuid_count(7, 0, a, b, c, d);
    f.avx2 = f.avx && (b & (1u << 5));
    if (os_avx512) {
        f.avx512f = b & (1u << 16);
        f.avx512dq = f.avx512f && (b & (1u << 17));
        f.avx512bw = f.avx512f && (b & (1u << 30));
        f.avx512vl = f.avx512f && (b & (1u << 31));
        f.avx512vnni = f.avx512f && (c & (1u << 11));
    }
    if (os_amx && (d & (1u << 24)) && request_amx_permission()) {
        f.amx_tile = true;
        f.amx_bf16 = d & (1u << 22);
        f.amx_int8 = d & (1u << 25);
    }
    const unsigned max_sub = a;
    if (max_sub >= 1) {
        __cpuid_count(7, 1, a, b, c, d);
        f.avxvnni = f.avx2 && (a & (1u << 4));
        f.avx512bf16 = f.avx512f && (a & (1u << 5));
    }
    return f;
}

#elif defined(__aarch64__)

CpuFeatures detect() {
    CpuFeatures f;
#if defined(__linux__)
    f.neon_dotprod = getauxval(AT_HWCAP) & HWCAP_ASIMDDP;
#elif defined(__APPLE__)
    int has = 0;
    size_t size = sizeof(has);
    f.neon_dotprod =
        sysctlbyname("hw.optional.arm.FEAT_DotProd", &has, &size, nullptr, 0) == 0 && has != 0;
#endif
    return f;
}

#else

CpuFeatures detect() {
    return {};
}

#endif

}  // namespace

std::string CpuFeatures::summary() const {
    std::string s;
    auto add = [&](bool on, const char* name) {
        if (!on) return;
        if (!s.empty()) s += ' ';
        s += name;
    };
    add(avx, "avx");
    add(avx2, "avx2");
    add(fma, "fma");
    add(f16c, "f16c");
    add(avx512f, "avx512f");
    add(avx512bw, "avx512bw");
    add(avx512vl, "avx512vl");
    add(avx512dq, "avx512dq");
    add(avx512vnni, "avx512vnni");
    add(avx512bf16, "avx512bf16");
    add(avxvnni, "avxvnni");
    add(amx_tile, "amx-tile");
    add(amx_int8, "amx-int8");
    add(amx_bf16, "amx-bf16");
    add(neon_dotprod, "dotprod");
    return s;
}

const CpuFeatures& cpu_features() {
    static const CpuFeatures f = detect();
    return f;
}

}  // namespace lokal::kernels
