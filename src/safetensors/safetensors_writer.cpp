#include "safetensors/safetensors_writer.h"

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fp16.h"

namespace lokal::safetensors {

TensorData float_tensor(std::string name, std::vector<uint64_t> shape, std::span<const float> v,
                        SafeDType type) {
    TensorData t{std::move(name), type, std::move(shape), {}};
    const uint32_t size = safe_dtype_size(type);
    t.bytes.resize(v.size() * size);
    for (size_t i = 0; i < v.size(); ++i) {
        if (type == SafeDType::F32) {
            std::memcpy(&t.bytes[i * 4], &v[i], 4);
        } else if (type == SafeDType::F16 || type == SafeDType::BF16) {
            const uint16_t h = type == SafeDType::F16 ? fp32_to_fp16(v[i]) : fp32_to_bf16(v[i]);
            std::memcpy(&t.bytes[i * 2], &h, 2);
        } else {
            throw Error("float_tensor: F32, F16 or BF16 only");
        }
    }
    return t;
}

std::vector<uint8_t> safetensors_bytes(const std::vector<TensorData>& tensors,
                                       const std::map<std::string, std::string>& metadata) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const TensorData& t : tensors) {
        header[t.name] = {{"dtype", std::string(safe_dtype_name(t.type))},
                          {"shape", t.shape},
                          {"data_offsets", {offset, offset + t.bytes.size()}}};
        offset += t.bytes.size();
    }
    std::string h = header.dump();
    while (h.size() % 8 != 0) h.push_back(' ');  // the format pads the header with spaces
    std::vector<uint8_t> out(8);
    for (int i = 0; i < 8; ++i) out[i] = uint8_t(uint64_t(h.size()) >> (8 * i));
    out.insert(out.end(), h.begin(), h.end());
    for (const TensorData& t : tensors) out.insert(out.end(), t.bytes.begin(), t.bytes.end());
    return out;
}

void write_safetensors(const std::string& path, const std::vector<TensorData>& tensors,
                       const std::map<std::string, std::string>& metadata) {
    const auto bytes = safetensors_bytes(tensors, metadata);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), (std::streamsize)bytes.size());
    if (!out) throw Error("cannot write " + path, ErrorKind::Io);
}

}  // namespace lokal::safetensors
