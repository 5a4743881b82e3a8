# Cross build for 64-bit Arm Linux with Debian's cross compiler (g++-aarch64-linux-gnu); the tests
# run through qemu-user. Libraries come from Debian's arm64 multiarch packages (libpcre2-dev:arm64
# and so on) where the full build is wanted; -DLOKAL_KERNELS_ONLY=ON needs none. See
# scripts/test-arm64.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
# "-cpu max" emulates every extension qemu knows (DotProd included). The target's libc: Debian's
# arm64 multiarch one where installed (mixing its libraries with the cross toolchain's loader
# hangs in pthread_create), else the cross toolchain's (-L).
if(EXISTS /lib/ld-linux-aarch64.so.1)
  set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-cpu;max)
else()
  set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-cpu;max;-L;/usr/aarch64-linux-gnu)
endif()
