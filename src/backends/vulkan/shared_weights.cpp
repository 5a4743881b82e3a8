#include "backends/vulkan/shared_weights.h"

#include <map>
#include <mutex>
#include <tuple>

namespace lokal::vk {
namespace {

using Key = std::tuple<uint64_t, const Device*, uint64_t>;

struct Registry {
    std::mutex mutex;
    std::map<Key, std::weak_ptr<DeviceWeights>> copies;
};

Registry& registry() {
    static auto* r = new Registry;  // backends may still let go of copies during exit
    return *r;
}

}  // namespace

std::shared_ptr<DeviceWeights> shared_weights(uint64_t model_id, const Device& device,
                                              uint64_t max_binding) {
    Registry& r = registry();
    const std::lock_guard lock(r.mutex);
    std::erase_if(r.copies, [](const auto& kv) { return kv.second.expired(); });
    std::weak_ptr<DeviceWeights>& slot = r.copies[Key{model_id, &device, max_binding}];
    std::shared_ptr<DeviceWeights> copy = slot.lock();
    if (!copy) {
        copy = std::make_shared<DeviceWeights>(device, max_binding);
        slot = copy;
    }
    return copy;
}

std::shared_ptr<DeviceWeights> existing_shared_weights(uint64_t model_id, const Device& device,
                                                       uint64_t max_binding) {
    Registry& r = registry();
    const std::lock_guard lock(r.mutex);
    const auto it = r.copies.find(Key{model_id, &device, max_binding});
    return it == r.copies.end() ? nullptr : it->second.lock();
}

}  // namespace lokal::vk
