// Leak checking (LSan, in the ASan+UBSan build) for this test binary. Mesa's lavapipe driver
// keeps a few allocations of its own (made in vkEnumeratePhysicalDevices) until exit. The test
// device stays alive to the end (test_gpu.h), so with Mesa 22.3 they are still reachable when
// the check runs; for drivers that drop them anyway, these suppressions name only the driver
// and the loader whose code made them. Leaks of our own code stay reported: nothing of ours
// runs beneath the loader.
// The sanitizer runtime's hook: its name is reserved by design.
// NOLINTNEXTLINE(bugprone-reserved-identifier)
extern "C" const char* __lsan_default_suppressions();

// NOLINTNEXTLINE(bugprone-reserved-identifier)
extern "C" const char* __lsan_default_suppressions() {
    return "leak:libvulkan_lvp.so\n"
           "leak:libvulkan.so.1\n";
}
