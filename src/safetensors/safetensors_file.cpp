#include "safetensors/safetensors_file.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fp16.h"

namespace lokal::safetensors {

namespace {

struct DTypeRow {
    SafeDType type;
    std::string_view name;
    uint32_t size;
};

constexpr std::array<DTypeRow, 12> kDTypes = {{
    {SafeDType::F64, "F64", 8},
    {SafeDType::F32, "F32", 4},
    {SafeDType::F16, "F16", 2},
    {SafeDType::BF16, "BF16", 2},
    {SafeDType::I64, "I64", 8},
    {SafeDType::I32, "I32", 4},
    {SafeDType::I16, "I16", 2},
    {SafeDType::I8, "I8", 1},
    {SafeDType::U8, "U8", 1},
    {SafeDType::BOOL, "BOOL", 1},
    {SafeDType::F8_E4M3, "F8_E4M3", 1},
    {SafeDType::F8_E5M2, "F8_E5M2", 1},
}};

const DTypeRow& row_of(SafeDType t) {
    return kDTypes[static_cast<size_t>(t)];
}

constexpr uint64_t kMaxDims = 8;

uint64_t read_u64_le(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

uint64_t checked_mul(uint64_t a, uint64_t b, const std::string& what) {
    if (a != 0 && b > UINT64_MAX / a) throw Error(what + ": shape too large");
    return a * b;
}

Tensor parse_entry(const std::string& name, const nlohmann::json& e, const std::string& where) {
    const std::string what = where + ": tensor '" + name + "'";
    if (!e.is_object()) throw Error(what + " is not a JSON object");
    const auto dt = e.find("dtype");
    const auto shape = e.find("shape");
    const auto offsets = e.find("data_offsets");
    if (dt == e.end() || !dt->is_string()) throw Error(what + " has no dtype string");
    if (shape == e.end() || !shape->is_array()) throw Error(what + " has no shape array");
    if (offsets == e.end() || !offsets->is_array() || offsets->size() != 2) {
        throw Error(what + " has no data_offsets [begin, end]");
    }
    Tensor t;
    t.name = name;
    const std::string dname = dt->get<std::string>();
    const auto row = std::find_if(kDTypes.begin(), kDTypes.end(),
                                  [&](const DTypeRow& r) { return r.name == dname; });
    if (row == kDTypes.end()) throw Error(what + " has unknown dtype '" + dname + "'");
    t.type = row->type;
    if (shape->size() > kMaxDims) throw Error(what + " has too many dimensions");
    for (const auto& d : *shape) {
        if (!d.is_number_unsigned()) throw Error(what + " has a shape that is not whole numbers");
        t.shape.push_back(d.get<uint64_t>());
        t.n_elements = checked_mul(t.n_elements, t.shape.back(), what);
    }
    for (const auto& o : *offsets) {
        if (!o.is_number_unsigned()) throw Error(what + " has bad data_offsets");
    }
    const uint64_t begin = (*offsets)[0].get<uint64_t>();
    const uint64_t end = (*offsets)[1].get<uint64_t>();
    if (end < begin) throw Error(what + " has data_offsets that end before they begin");
    t.n_bytes = checked_mul(t.n_elements, row->size, what);
    if (end - begin != t.n_bytes) {
        throw Error(what + ": shape and dtype need " + std::to_string(t.n_bytes) +
                    " bytes but data_offsets give " + std::to_string(end - begin));
    }
    t.offset = begin;
    return t;
}

}  // namespace

std::string_view safe_dtype_name(SafeDType t) {
    return row_of(t).name;
}

uint32_t safe_dtype_size(SafeDType t) {
    return row_of(t).size;
}

std::unique_ptr<File> File::open(const std::string& path) {
    auto map = std::make_unique<MappedFile>(path);
    auto f = parse(map->data(), map->size(), path);
    f->map_ = std::move(map);
    return f;
}

std::unique_ptr<File> File::parse(const uint8_t* data, size_t size, const std::string& label) {
    if (size < 8) throw Error(label + ": not a safetensors file (shorter than its header length)");
    const uint64_t n = read_u64_le(data);
    if (n > kMaxHeaderBytes) {
        throw Error(label + ": safetensors header length " + std::to_string(n) +
                    " is over the 100 MB limit");
    }
    if (n > size - 8) {
        throw Error(label + ": safetensors header length " + std::to_string(n) +
                    " runs past the end of the file (truncated?)");
    }
    if (n < 2 || data[8] != '{') throw Error(label + ": safetensors header is not a JSON object");
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(data + 8, data + 8 + n);
    } catch (const nlohmann::json::exception& e) {
        throw Error(label + ": safetensors header is not valid JSON (" + e.what() + ")");
    }
    if (!header.is_object()) throw Error(label + ": safetensors header is not a JSON object");
    auto f = std::unique_ptr<File>(new File());
    const uint8_t* base = data + 8 + n;
    const uint64_t data_size = size - 8 - n;
    for (const auto& [key, value] : header.items()) {
        if (key == "__metadata__") {
            if (!value.is_object()) throw Error(label + ": __metadata__ is not a JSON object");
            for (const auto& [mk, mv] : value.items()) {
                if (!mv.is_string()) throw Error(label + ": __metadata__ value is not a string");
                f->metadata_[mk] = mv.get<std::string>();
            }
            continue;
        }
        f->tensors_.push_back(parse_entry(key, value, label));
    }
    // Ranges: inside the data section, and no two overlapping.
    std::vector<std::pair<uint64_t, const Tensor*>> ranges;
    for (Tensor& t : f->tensors_) {
        const uint64_t begin = t.offset;
        if (begin > data_size || t.n_bytes > data_size - begin) {
            throw Error(label + ": tensor '" + t.name + "' lies past the end of the file");
        }
        ranges.emplace_back(begin, &t);
    }
    std::sort(ranges.begin(), ranges.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 1; i < ranges.size(); ++i) {
        const auto& [prev_begin, prev] = ranges[i - 1];
        if (ranges[i].first < prev_begin + prev->n_bytes) {
            throw Error(label + ": tensors '" + prev->name + "' and '" + ranges[i].second->name +
                        "' overlap");
        }
    }
    for (Tensor& t : f->tensors_) t.data = base + t.offset;
    std::sort(f->tensors_.begin(), f->tensors_.end(),
              [](const Tensor& a, const Tensor& b) { return a.data < b.data; });
    return f;
}

const Tensor* File::find(std::string_view name) const {
    for (const Tensor& t : tensors_) {
        if (t.name == name) return &t;
    }
    return nullptr;
}

std::vector<float> to_float(const Tensor& t) {
    std::vector<float> out(t.n_elements);
    const uint8_t* p = t.data;
    switch (t.type) {
        case SafeDType::F32:
            std::memcpy(out.data(), p, t.n_bytes);
            break;
        case SafeDType::F64:
            for (uint64_t i = 0; i < t.n_elements; ++i) {
                double d;
                std::memcpy(&d, p + i * 8, 8);
                out[i] = static_cast<float>(d);
            }
            break;
        case SafeDType::F16:
        case SafeDType::BF16:
            for (uint64_t i = 0; i < t.n_elements; ++i) {
                uint16_t h;
                std::memcpy(&h, p + i * 2, 2);
                out[i] = t.type == SafeDType::F16 ? fp16_to_fp32(h) : bf16_to_fp32(h);
            }
            break;
        default:
            throw Error("tensor '" + t.name + "' has dtype " +
                            std::string(safe_dtype_name(t.type)) + ", not a float type",
                        ErrorKind::Unsupported);
    }
    return out;
}

}  // namespace lokal::safetensors
