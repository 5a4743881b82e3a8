#include "backends/vulkan/loader.h"

#include <dlfcn.h>

#include <mutex>

namespace lokal::vk {

#define LOKAL_VK_DEFINE(name) PFN_##name name = nullptr;
LOKAL_VK_FUNCTIONS(LOKAL_VK_DEFINE)
#undef LOKAL_VK_DEFINE

namespace {

std::string open_and_resolve() {
    // Never closed: the pointers must outlive every instance, and drivers do not like being
    // unloaded under a running process.
    void* lib = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return "no Vulkan loader (libvulkan.so.1) on this system";
#define LOKAL_VK_RESOLVE(name)                              \
    name = reinterpret_cast<PFN_##name>(dlsym(lib, #name)); \
    if (!(name)) return "the Vulkan loader is too old (it lacks " #name ")";
    LOKAL_VK_FUNCTIONS(LOKAL_VK_RESOLVE)
#undef LOKAL_VK_RESOLVE
    return {};
}

}  // namespace

bool load_vulkan(std::string* why) {
    static std::once_flag once;
    static std::string failure;
    std::call_once(once, [] { failure = open_and_resolve(); });
    if (!failure.empty() && why) *why = failure;
    return failure.empty();
}

}  // namespace lokal::vk
