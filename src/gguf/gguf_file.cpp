#include "gguf/gguf_file.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "base/error.h"

namespace lokal::gguf {
namespace {

constexpr uint64_t kMaxElements = uint64_t(1) << 60;

// Bounds-checked little-endian reader over the file bytes. Every read names what it was reading
// so a truncated file says where it ended.
class Cursor {
  public:
    Cursor(const uint8_t* data, size_t size) : data_(data), size_(size) {}

    size_t pos() const { return pos_; }
    size_t remaining() const { return size_ - pos_; }

    void need(uint64_t n, const char* what) const {
        if (n > remaining()) {
            throw Error(std::string("GGUF file is truncated: needed ") + std::to_string(n) +
                        " bytes for " + what + " at offset " + std::to_string(pos_) + ", only " +
                        std::to_string(remaining()) + " left");
        }
    }

    template <typename T>
    T read(const char* what) {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, data_ + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }

    std::string read_string(const char* what) {
        const uint64_t len = read<uint64_t>(what);
        need(len, what);
        std::string s(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(len));
        pos_ += static_cast<size_t>(len);
        return s;
    }

  private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
};

size_t scalar_size(ValueType t) {
    switch (t) {
        case ValueType::UINT8:
        case ValueType::INT8:
        case ValueType::BOOL:
            return 1;
        case ValueType::UINT16:
        case ValueType::INT16:
            return 2;
        case ValueType::UINT32:
        case ValueType::INT32:
        case ValueType::FLOAT32:
            return 4;
        // NOLINTNEXTLINE(bugprone-branch-clone)
        case ValueType::UINT64:
        case ValueType::INT64:
        case ValueType::FLOAT64:
            return 8;
        case ValueType::STRING:
            return 8;  // at least the length prefix
        case ValueType::ARRAY:
            return 12;  // at least element type + count
    }
    return 1;
}

bool valid_type(uint32_t t) {
    return t <= static_cast<uint32_t>(ValueType::FLOAT64);
}

bool is_integer_type(ValueType t) {
    switch (t) {
        case ValueType::UINT8:
        case ValueType::INT8:
        case ValueType::UINT16:
        case ValueType::INT16:
        case ValueType::UINT32:
        case ValueType::INT32:
        case ValueType::UINT64:
        case ValueType::INT64:
        case ValueType::BOOL:
            return true;
        default:
            return false;
    }
}

int64_t read_integer(Cursor& c, ValueType t, const char* what) {
    switch (t) {
        case ValueType::UINT8:
            return c.read<uint8_t>(what);
        case ValueType::INT8:
            return c.read<int8_t>(what);
        case ValueType::UINT16:
            return c.read<uint16_t>(what);
        case ValueType::INT16:
            return c.read<int16_t>(what);
        case ValueType::UINT32:
            return c.read<uint32_t>(what);
        case ValueType::INT32:
            return c.read<int32_t>(what);
        case ValueType::UINT64:
            return static_cast<int64_t>(c.read<uint64_t>(what));
        case ValueType::INT64:
            return c.read<int64_t>(what);
        case ValueType::BOOL: {
            const uint8_t b = c.read<uint8_t>(what);
            if (b > 1) throw Error("GGUF bool value is " + std::to_string(b) + ", not 0 or 1");
            return b;
        }
        default:
            break;
    }
    LOKAL_ASSERT(false);
    return 0;
}

Value read_value(Cursor& c, ValueType type, const std::string& key, int depth) {
    Value v;
    v.type = type;
    const std::string what = "the value of '" + key + "'";
    if (is_integer_type(type)) {
        v.i = read_integer(c, type, what.c_str());
    } else if (type == ValueType::FLOAT32) {
        v.f = c.read<float>(what.c_str());
    } else if (type == ValueType::FLOAT64) {
        v.f = c.read<double>(what.c_str());
    } else if (type == ValueType::STRING) {
        v.str = c.read_string(what.c_str());
    } else {  // ARRAY
        if (depth >= kMaxArrayNesting) {
            throw Error("GGUF key '" + key + "' nests arrays deeper than " +
                        std::to_string(kMaxArrayNesting) + " levels");
        }
        const uint32_t elem = c.read<uint32_t>(what.c_str());
        if (!valid_type(elem)) {
            throw Error("GGUF key '" + key + "' is an array of unknown value type " +
                        std::to_string(elem));
        }
        v.elem_type = static_cast<ValueType>(elem);
        const uint64_t count = c.read<uint64_t>(what.c_str());
        const size_t min_size = scalar_size(v.elem_type);
        if (count > c.remaining() / min_size) {
            throw Error("GGUF key '" + key + "' claims " + std::to_string(count) +
                        " array elements, more than the file can hold");
        }
        const size_t n = static_cast<size_t>(count);
        if (v.elem_type == ValueType::STRING) {
            v.strings.reserve(n);
            for (size_t k = 0; k < n; ++k) v.strings.push_back(c.read_string(what.c_str()));
        } else if (is_integer_type(v.elem_type)) {
            v.ints.reserve(n);
            for (size_t k = 0; k < n; ++k)
                v.ints.push_back(read_integer(c, v.elem_type, what.c_str()));
        } else if (v.elem_type == ValueType::FLOAT32) {
            v.floats.reserve(n);
            for (size_t k = 0; k < n; ++k) v.floats.push_back(c.read<float>(what.c_str()));
        } else if (v.elem_type == ValueType::FLOAT64) {
            v.floats.reserve(n);
            for (size_t k = 0; k < n; ++k) v.floats.push_back(c.read<double>(what.c_str()));
        } else {
            v.arrays.reserve(n);
            for (size_t k = 0; k < n; ++k)
                v.arrays.push_back(read_value(c, v.elem_type, key, depth + 1));
        }
    }
    return v;
}

}  // namespace

std::string_view value_type_name(ValueType t) {
    switch (t) {
        case ValueType::UINT8:
            return "uint8";
        case ValueType::INT8:
            return "int8";
        case ValueType::UINT16:
            return "uint16";
        case ValueType::INT16:
            return "int16";
        case ValueType::UINT32:
            return "uint32";
        case ValueType::INT32:
            return "int32";
        case ValueType::FLOAT32:
            return "float32";
        case ValueType::BOOL:
            return "bool";
        case ValueType::STRING:
            return "string";
        case ValueType::ARRAY:
            return "array";
        case ValueType::UINT64:
            return "uint64";
        case ValueType::INT64:
            return "int64";
        case ValueType::FLOAT64:
            return "float64";
    }
    return "unknown";
}

bool Value::is_integer() const {
    return is_integer_type(type);
}
bool Value::is_float() const {
    return type == ValueType::FLOAT32 || type == ValueType::FLOAT64;
}

size_t Value::array_size() const {
    return strings.size() + ints.size() + floats.size() + arrays.size();
}

std::string TensorInfo::shape_string() const {
    std::string s = "[";
    for (size_t k = 0; k < dims.size(); ++k) {
        if (k) s += ", ";
        s += std::to_string(dims[k]);
    }
    return s + "]";
}

std::unique_ptr<File> File::open(const std::string& path) {
    auto mapping = std::make_unique<MappedFile>(path);
    std::unique_ptr<File> f(new File());
    f->path_ = path;
    try {
        f->parse_all(mapping->data(), mapping->size(), mapping->size());
    } catch (const Error& e) {
        throw Error("'" + path + "': " + e.what());
    }
    f->mapping_ = std::move(mapping);
    return f;
}

std::unique_ptr<File> File::parse(const uint8_t* data, size_t size) {
    std::unique_ptr<File> f(new File());
    f->parse_all(data, size, size);
    return f;
}

std::unique_ptr<File> File::parse_header(const uint8_t* data, size_t size, uint64_t file_size) {
    std::unique_ptr<File> f(new File());
    f->parse_all(data, std::min<uint64_t>(size, file_size), file_size);
    return f;
}

void File::parse_all(const uint8_t* data, size_t bytes_here, uint64_t size) {
    size_ = size;
    Cursor c(data, bytes_here);
    if (size < 4) throw Error("not a GGUF file (too short for the magic number)");
    const uint32_t magic = c.read<uint32_t>("the magic number");
    if (magic != kMagic) throw Error("not a GGUF file (bad magic number)");
    version_ = c.read<uint32_t>("the version");
    if (version_ == 1) {
        throw Error(
            "GGUF v1 is not supported: this file predates GGUF v2 (2023); convert the "
            "model again with a current converter");
    }
    if (version_ != 2 && version_ != 3) {
        if ((version_ & 0xffff) == 0 && (version_ >> 16) != 0) {
            throw Error("big-endian GGUF files are not supported");
        }
        throw Error("unsupported GGUF version " + std::to_string(version_) +
                    " (lokal reads versions 2 and 3)");
    }
    const uint64_t n_tensors = c.read<uint64_t>("the tensor count");
    const uint64_t n_kv = c.read<uint64_t>("the metadata count");
    // Each KV needs >= 8 (key length) + 4 (type) + 1 bytes; each tensor info >= 8 + 4 + 4 + 8.
    if (n_kv > c.remaining() / 13) {
        throw Error("GGUF header claims " + std::to_string(n_kv) +
                    " metadata entries, more than the file can hold");
    }
    if (n_tensors > c.remaining() / 24) {
        throw Error("GGUF header claims " + std::to_string(n_tensors) +
                    " tensors, more than the file can hold");
    }

    metadata_.reserve(static_cast<size_t>(n_kv));
    for (uint64_t k = 0; k < n_kv; ++k) {
        std::string key = c.read_string("a metadata key");
        const uint32_t type = c.read<uint32_t>("a metadata value type");
        if (!valid_type(type)) {
            throw Error("GGUF key '" + key + "' has unknown value type " + std::to_string(type));
        }
        Value v = read_value(c, static_cast<ValueType>(type), key, 0);
        if (metadata_index_.count(key)) throw Error("GGUF key '" + key + "' appears twice");
        metadata_index_.emplace(key, metadata_.size());
        metadata_.emplace_back(std::move(key), std::move(v));
    }

    if (const Value* a = find("general.alignment")) {
        if (!a->is_integer() || a->type == ValueType::BOOL || a->i <= 0 ||
            (a->i & (a->i - 1)) != 0 || a->i > (1 << 30)) {
            throw Error("general.alignment must be a positive power of two");
        }
        alignment_ = static_cast<uint64_t>(a->i);
    }

    tensors_.reserve(static_cast<size_t>(n_tensors));
    for (uint64_t k = 0; k < n_tensors; ++k) {
        TensorInfo t;
        t.name = c.read_string("a tensor name");
        const uint32_t n_dims = c.read<uint32_t>("a tensor's dimension count");
        if (n_dims == 0 || n_dims > kMaxDims) {
            throw Error("tensor '" + t.name + "' has " + std::to_string(n_dims) +
                        " dimensions (1 to 4 allowed)");
        }
        uint64_t n = 1;
        for (uint32_t d = 0; d < n_dims; ++d) {
            const uint64_t dim = c.read<uint64_t>("a tensor dimension");
            if (dim == 0 || dim > kMaxElements || n > kMaxElements / dim) {
                throw Error("tensor '" + t.name + "' has an invalid dimension " +
                            std::to_string(dim));
            }
            n *= dim;
            t.dims.push_back(dim);
        }
        const uint32_t type = c.read<uint32_t>("a tensor type");
        const auto info = dtype_info(type);
        if (!info) {
            throw Error("tensor '" + t.name + "' has unknown type id " + std::to_string(type));
        }
        t.type = static_cast<DType>(type);
        if (t.dims[0] % info->block_elems != 0) {
            throw Error("tensor '" + t.name + "' has " + std::to_string(t.dims[0]) +
                        " columns, not a multiple of the " + std::string(info->name) +
                        " block size " + std::to_string(info->block_elems));
        }
        t.n_elements = n;
        t.n_bytes = n / info->block_elems * info->block_bytes;
        t.offset = c.read<uint64_t>("a tensor offset");
        if (t.offset % alignment_ != 0) {
            throw Error("tensor '" + t.name + "' data offset is not aligned to " +
                        std::to_string(alignment_));
        }
        if (tensor_index_.count(t.name)) throw Error("tensor '" + t.name + "' appears twice");
        tensor_index_.emplace(t.name, tensors_.size());
        tensors_.push_back(std::move(t));
    }

    const uint64_t pos = c.pos();
    data_offset_ = (pos + alignment_ - 1) / alignment_ * alignment_;
    if (data_offset_ > size && !tensors_.empty()) {
        throw Error("GGUF file is truncated before its tensor data");
    }
    for (TensorInfo& t : tensors_) {
        const uint64_t avail = size > data_offset_ ? size - data_offset_ : 0;
        if (t.offset > avail || t.n_bytes > avail - t.offset) {
            throw Error("tensor '" + t.name + "' (" + std::to_string(t.n_bytes) +
                        " bytes at data offset " + std::to_string(t.offset) +
                        ") extends past the end of the file; the file is truncated or corrupt");
        }
        t.data = bytes_here == size ? data + data_offset_ + t.offset : nullptr;
    }
}

const Value* File::find(std::string_view key) const {
    auto it = metadata_index_.find(std::string(key));
    return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

namespace {
[[noreturn]] void wrong_type(std::string_view key, const Value& v, const char* expected) {
    throw Error("GGUF key '" + std::string(key) + "' has type " +
                std::string(value_type_name(v.type)) + ", expected " + expected);
}
}  // namespace

std::optional<std::string> File::get_string(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return std::nullopt;
    if (v->type != ValueType::STRING) wrong_type(key, *v, "string");
    return v->str;
}

std::optional<int64_t> File::get_int(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_integer()) wrong_type(key, *v, "an integer");
    return v->i;
}

std::optional<double> File::get_float(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return std::nullopt;
    if (v->is_float()) return v->f;
    if (v->is_integer()) return static_cast<double>(v->i);
    wrong_type(key, *v, "a number");
}

std::optional<bool> File::get_bool(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_integer()) wrong_type(key, *v, "bool");
    return v->i != 0;
}

const std::vector<std::string>* File::get_string_array(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return nullptr;
    if (v->type != ValueType::ARRAY || v->elem_type != ValueType::STRING) {
        wrong_type(key, *v, "an array of strings");
    }
    return &v->strings;
}

const std::vector<int64_t>* File::get_int_array(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return nullptr;
    if (v->type != ValueType::ARRAY || !is_integer_type(v->elem_type)) {
        wrong_type(key, *v, "an array of integers");
    }
    return &v->ints;
}

std::vector<double> File::get_float_array(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return {};
    if (v->type != ValueType::ARRAY) wrong_type(key, *v, "an array of numbers");
    if (!v->floats.empty() || v->elem_type == ValueType::FLOAT32 ||
        v->elem_type == ValueType::FLOAT64) {
        return v->floats;
    }
    if (!is_integer_type(v->elem_type)) wrong_type(key, *v, "an array of numbers");
    return std::vector<double>(v->ints.begin(), v->ints.end());
}

const TensorInfo* File::find_tensor(std::string_view name) const {
    auto it = tensor_index_.find(std::string(name));
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace lokal::gguf
