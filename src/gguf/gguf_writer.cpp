#include "gguf/gguf_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>

#include "base/error.h"
#include "tensor/quantize.h"

namespace lokal::gguf {
namespace {

constexpr size_t kMaxNameBytes = 63;  // ggml's GGML_MAX_NAME (64) less the terminating zero
constexpr uint64_t kMaxAlignment = uint64_t(1) << 30;

bool is_int_type(ValueType t) {
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

bool is_float_type(ValueType t) {
    return t == ValueType::FLOAT32 || t == ValueType::FLOAT64;
}

bool int_fits(ValueType t, int64_t v) {
    switch (t) {
        case ValueType::UINT8:
            return v >= 0 && v <= 0xff;
        case ValueType::INT8:
            return v >= -128 && v <= 127;
        case ValueType::UINT16:
            return v >= 0 && v <= 0xffff;
        case ValueType::INT16:
            return v >= -32768 && v <= 32767;
        case ValueType::UINT32:
            return v >= 0 && v <= 0xffffffffll;
        case ValueType::INT32:
            return v >= std::numeric_limits<int32_t>::min() &&
                   v <= std::numeric_limits<int32_t>::max();
        case ValueType::BOOL:
            return v == 0 || v == 1;
        default:  // UINT64 (bit pattern), INT64
            return true;
    }
}

size_t int_size(ValueType t) {
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
            return 4;
        default:
            return 8;
    }
}

void check_value(const std::string& key, const Value& v, int depth) {
    auto bad = [&](const std::string& why) {
        throw Error("GGUF writer: key '" + key + "': " + why);
    };
    if (static_cast<uint32_t>(v.type) > static_cast<uint32_t>(ValueType::FLOAT64)) {
        bad("unknown value type " + std::to_string(static_cast<uint32_t>(v.type)));
    }
    if (is_int_type(v.type)) {
        if (!int_fits(v.type, v.i)) {
            bad(std::to_string(v.i) + " does not fit in " + std::string(value_type_name(v.type)));
        }
        return;
    }
    if (v.type != ValueType::ARRAY) return;
    if (depth >= kMaxArrayNesting) {
        bad("arrays nested deeper than " + std::to_string(kMaxArrayNesting) + " levels");
    }
    const ValueType e = v.elem_type;
    if (static_cast<uint32_t>(e) > static_cast<uint32_t>(ValueType::FLOAT64)) {
        bad("unknown array element type " + std::to_string(static_cast<uint32_t>(e)));
    }
    const bool ok = (e == ValueType::STRING || v.strings.empty()) &&
                    (is_int_type(e) || v.ints.empty()) && (is_float_type(e) || v.floats.empty()) &&
                    (e == ValueType::ARRAY || v.arrays.empty());
    if (!ok) {
        bad("array of " + std::string(value_type_name(e)) + " holds elements of another type");
    }
    for (int64_t x : v.ints) {
        if (!int_fits(e, x)) {
            bad("array element " + std::to_string(x) + " does not fit in " +
                std::string(value_type_name(e)));
        }
    }
    for (const Value& a : v.arrays) {
        if (a.type != ValueType::ARRAY) bad("an array of arrays holds a non-array element");
        check_value(key, a, depth + 1);
    }
}

uint64_t alignment_of(const Value& v) {
    if (!is_int_type(v.type) || v.type == ValueType::BOOL || v.i <= 0 ||
        static_cast<uint64_t>(v.i) > kMaxAlignment || (v.i & (v.i - 1)) != 0) {
        throw Error("GGUF writer: general.alignment must be an integer power of two, at most 2^30");
    }
    return static_cast<uint64_t>(v.i);
}

uint64_t pad_to(uint64_t n, uint64_t align) {
    return (n + align - 1) / align * align;
}

// Little-endian byte appender for the header.
struct Bytes {
    std::vector<uint8_t> b;

    template <typename T>
    void put(T v) {
        uint8_t tmp[sizeof(T)];
        std::memcpy(tmp, &v, sizeof(T));
        b.insert(b.end(), tmp, tmp + sizeof(T));
    }
    void put_string(std::string_view s) {
        put<uint64_t>(s.size());
        b.insert(b.end(), s.begin(), s.end());
    }
    void put_int(ValueType t, int64_t v) {
        switch (int_size(t)) {
            case 1:
                put(static_cast<uint8_t>(v));
                break;
            case 2:
                put(static_cast<uint16_t>(v));
                break;
            case 4:
                put(static_cast<uint32_t>(v));
                break;
            default:
                put(static_cast<uint64_t>(v));
                break;
        }
    }
    void put_float(ValueType t, double v) {
        if (t == ValueType::FLOAT32) {
            put(static_cast<float>(v));
        } else {
            put(v);
        }
    }
    void put_value(const Value& v) {
        if (is_int_type(v.type)) {
            put_int(v.type, v.i);
        } else if (is_float_type(v.type)) {
            put_float(v.type, v.f);
        } else if (v.type == ValueType::STRING) {
            put_string(v.str);
        } else {
            put(static_cast<uint32_t>(v.elem_type));
            put<uint64_t>(v.array_size());
            for (const std::string& s : v.strings) put_string(s);
            for (int64_t x : v.ints) put_int(v.elem_type, x);
            for (double x : v.floats) put_float(v.elem_type, x);
            for (const Value& a : v.arrays) put_value(a);
        }
    }
};

// Writes to a file descriptor through a buffer; big blocks go straight through.
class FdSink {
  public:
    FdSink(int fd, const std::string& path) : fd_(fd), path_(path) { buf_.reserve(kBuf); }
    void put(const void* p, size_t n) {
        if (buf_.size() + n > kBuf) flush();
        if (n >= kBuf) {
            write_all(static_cast<const uint8_t*>(p), n);
        } else {
            const auto* c = static_cast<const uint8_t*>(p);
            buf_.insert(buf_.end(), c, c + n);
        }
    }
    void flush() {
        write_all(buf_.data(), buf_.size());
        buf_.clear();
    }

  private:
    static constexpr size_t kBuf = size_t(1) << 20;
    void write_all(const uint8_t* p, size_t n) {
        while (n > 0) {
            const ssize_t w = ::write(fd_, p, n);
            if (w < 0) {
                if (errno == EINTR) continue;
                throw Error("cannot write '" + path_ + "': " + std::strerror(errno));
            }
            p += w;
            n -= static_cast<size_t>(w);
        }
    }
    int fd_;
    const std::string& path_;
    std::vector<uint8_t> buf_;
};

struct VectorSink {
    std::vector<uint8_t>& out;
    void put(const void* p, size_t n) {
        const auto* c = static_cast<const uint8_t*>(p);
        out.insert(out.end(), c, c + n);
    }
};

uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

}  // namespace

// --- Value constructors ---------------------------------------------------------------------

Value make_int(ValueType type, int64_t v) {
    Value r;
    r.type = type;
    r.i = v;
    return r;
}

Value make_float(ValueType type, double v) {
    Value r;
    r.type = type;
    r.f = type == ValueType::FLOAT32 ? static_cast<double>(static_cast<float>(v)) : v;
    return r;
}

Value make_bool(bool v) {
    return make_int(ValueType::BOOL, v ? 1 : 0);
}

Value make_string(std::string v) {
    Value r;
    r.type = ValueType::STRING;
    r.str = std::move(v);
    return r;
}

Value make_string_array(std::vector<std::string> v) {
    Value r;
    r.type = ValueType::ARRAY;
    r.elem_type = ValueType::STRING;
    r.strings = std::move(v);
    return r;
}

Value make_int_array(ValueType elem, std::vector<int64_t> v) {
    Value r;
    r.type = ValueType::ARRAY;
    r.elem_type = elem;
    r.ints = std::move(v);
    return r;
}

Value make_float_array(ValueType elem, std::vector<double> v) {
    Value r;
    r.type = ValueType::ARRAY;
    r.elem_type = elem;
    r.floats = std::move(v);
    if (elem == ValueType::FLOAT32) {
        for (double& x : r.floats) x = static_cast<double>(static_cast<float>(x));
    }
    return r;
}

Value make_array_array(std::vector<Value> v) {
    Value r;
    r.type = ValueType::ARRAY;
    r.elem_type = ValueType::ARRAY;
    r.arrays = std::move(v);
    return r;
}

// --- metadata -------------------------------------------------------------------------------

void Writer::set_value(std::string_view key, Value v) {
    std::string k(key);
    check_value(k, v, 0);
    if (k == "general.alignment") alignment_of(v);
    for (auto& [name, value] : metadata_) {
        if (name == k) {
            value = std::move(v);
            return;
        }
    }
    metadata_.emplace_back(std::move(k), std::move(v));
}

void Writer::set_u8(std::string_view key, uint8_t v) {
    set_value(key, make_int(ValueType::UINT8, v));
}
void Writer::set_i8(std::string_view key, int8_t v) {
    set_value(key, make_int(ValueType::INT8, v));
}
void Writer::set_u16(std::string_view key, uint16_t v) {
    set_value(key, make_int(ValueType::UINT16, v));
}
void Writer::set_i16(std::string_view key, int16_t v) {
    set_value(key, make_int(ValueType::INT16, v));
}
void Writer::set_u32(std::string_view key, uint32_t v) {
    set_value(key, make_int(ValueType::UINT32, v));
}
void Writer::set_i32(std::string_view key, int32_t v) {
    set_value(key, make_int(ValueType::INT32, v));
}
void Writer::set_u64(std::string_view key, uint64_t v) {
    set_value(key, make_int(ValueType::UINT64, static_cast<int64_t>(v)));
}
void Writer::set_i64(std::string_view key, int64_t v) {
    set_value(key, make_int(ValueType::INT64, v));
}
void Writer::set_f32(std::string_view key, float v) {
    set_value(key, make_float(ValueType::FLOAT32, v));
}
void Writer::set_f64(std::string_view key, double v) {
    set_value(key, make_float(ValueType::FLOAT64, v));
}
void Writer::set_bool(std::string_view key, bool v) {
    set_value(key, make_bool(v));
}
void Writer::set_string(std::string_view key, std::string_view v) {
    set_value(key, make_string(std::string(v)));
}

void Writer::set_string_array(std::string_view key, std::vector<std::string> v) {
    set_value(key, make_string_array(std::move(v)));
}
void Writer::set_f32_array(std::string_view key, std::span<const float> v) {
    set_value(key, make_float_array(ValueType::FLOAT32, {v.begin(), v.end()}));
}
void Writer::set_f64_array(std::string_view key, std::span<const double> v) {
    set_value(key, make_float_array(ValueType::FLOAT64, {v.begin(), v.end()}));
}
void Writer::set_i32_array(std::string_view key, std::span<const int32_t> v) {
    set_value(key, make_int_array(ValueType::INT32, {v.begin(), v.end()}));
}
void Writer::set_u32_array(std::string_view key, std::span<const uint32_t> v) {
    set_value(key, make_int_array(ValueType::UINT32, {v.begin(), v.end()}));
}
void Writer::set_i64_array(std::string_view key, std::span<const int64_t> v) {
    set_value(key, make_int_array(ValueType::INT64, {v.begin(), v.end()}));
}
void Writer::set_u8_array(std::string_view key, std::span<const uint8_t> v) {
    set_value(key, make_int_array(ValueType::UINT8, {v.begin(), v.end()}));
}
void Writer::set_bool_array(std::string_view key, const std::vector<bool>& v) {
    set_value(key, make_int_array(ValueType::BOOL, {v.begin(), v.end()}));
}

bool Writer::remove(std::string_view key) {
    for (auto it = metadata_.begin(); it != metadata_.end(); ++it) {
        if (it->first == key) {
            metadata_.erase(it);
            return true;
        }
    }
    return false;
}

const Value* Writer::find(std::string_view key) const {
    for (const auto& [name, value] : metadata_) {
        if (name == key) return &value;
    }
    return nullptr;
}

void Writer::set_alignment(uint64_t n) {
    if (n == 0 || n > kMaxAlignment || (n & (n - 1)) != 0) {
        throw Error("GGUF writer: alignment " + std::to_string(n) +
                    " is not a power of two between 1 and 2^30");
    }
    set_u32("general.alignment", static_cast<uint32_t>(n));
}

uint64_t Writer::alignment() const {
    const Value* a = find("general.alignment");
    return a ? alignment_of(*a) : kDefaultAlignment;
}

// --- tensors --------------------------------------------------------------------------------

Writer::Tensor& Writer::new_tensor(std::string_view name, DType type, std::vector<uint64_t> dims,
                                   size_t bytes) {
    const std::string n(name);
    auto bad = [&](const std::string& why) {
        throw Error("GGUF writer: tensor '" + n + "': " + why);
    };
    if (n.size() > kMaxNameBytes) bad("name longer than 63 bytes");
    for (const Tensor& t : tensors_) {
        if (t.name == n) bad("added twice");
    }
    const auto info = dtype_info(static_cast<uint32_t>(type));
    if (!info) bad("unknown type id " + std::to_string(static_cast<uint32_t>(type)));
    if (dims.empty() || dims.size() > static_cast<size_t>(kMaxDims)) {
        bad(std::to_string(dims.size()) + " dimensions (1 to 4 allowed)");
    }
    uint64_t elems = 1;
    for (uint64_t d : dims) {
        if (d == 0 || elems > (uint64_t(1) << 60) / d)
            bad("invalid dimension " + std::to_string(d));
        elems *= d;
    }
    if (dims[0] % info->block_elems != 0) {
        bad(std::to_string(dims[0]) + " columns, not a multiple of the " + std::string(info->name) +
            " block size " + std::to_string(info->block_elems));
    }
    const uint64_t want = elems / info->block_elems * info->block_bytes;
    if (bytes != want) {
        bad("has " + std::to_string(bytes) + " bytes of data, its shape and type need " +
            std::to_string(want));
    }
    Tensor& t = tensors_.emplace_back();
    t.name = n;
    t.type = type;
    t.dims = std::move(dims);
    t.bytes = want;
    return t;
}

void Writer::add_tensor(std::string_view name, DType type, std::vector<uint64_t> dims,
                        const void* data, size_t bytes) {
    Tensor& t = new_tensor(name, type, std::move(dims), bytes);
    const auto* p = static_cast<const uint8_t*>(data);
    t.owned.assign(p, p + bytes);
}

void Writer::add_tensor(std::string_view name, DType type, std::vector<uint64_t> dims,
                        std::vector<uint8_t> data) {
    Tensor& t = new_tensor(name, type, std::move(dims), data.size());
    t.owned = std::move(data);
}

void Writer::add_tensor_ref(std::string_view name, DType type, std::vector<uint64_t> dims,
                            const void* data, size_t bytes) {
    Tensor& t = new_tensor(name, type, std::move(dims), bytes);
    t.data = static_cast<const uint8_t*>(data);
}

void Writer::add_tensor_deferred(std::string_view name, DType type, std::vector<uint64_t> dims,
                                 size_t bytes, std::function<std::vector<uint8_t>()> produce) {
    Tensor& t = new_tensor(name, type, std::move(dims), bytes);
    t.produce = std::move(produce);
}

void Writer::add_tensor_f32(std::string_view name, DType type, std::vector<uint64_t> dims,
                            std::span<const float> values) {
    uint64_t elems = 1;
    for (uint64_t d : dims) elems *= d;
    if (dims.empty() || elems != values.size()) {
        throw Error("GGUF writer: tensor '" + std::string(name) +
                    "': " + std::to_string(values.size()) + " values for shape with " +
                    std::to_string(elems) + " elements");
    }
    const auto info = dtype_info(static_cast<uint32_t>(type));
    if (!info || dims[0] % info->block_elems != 0 || !can_quantize(type)) {
        // Let new_tensor name the shape problem; otherwise the type cannot be produced.
        if (info && dims[0] % info->block_elems != 0) new_tensor(name, type, dims, 0);
        throw Error("GGUF writer: tensor '" + std::string(name) + "': cannot convert floats to " +
                    (info ? std::string(info->name) : std::string("an unknown type")));
    }
    const uint64_t cols = dims[0];
    const uint64_t rows = elems / cols;
    const uint64_t rb = row_bytes(type, cols);
    std::vector<uint8_t> data(rows * rb);
    for (uint64_t r = 0; r < rows; ++r) {
        quantize_row(type, values.data() + r * cols, data.data() + r * rb,
                     static_cast<int64_t>(cols));
    }
    add_tensor(name, type, std::move(dims), std::move(data));
}

void Writer::add_random_tensor(std::string_view name, DType type, std::vector<uint64_t> dims,
                               uint64_t seed, float scale) {
    uint64_t elems = 1;
    for (uint64_t d : dims) elems = d != 0 && elems <= (uint64_t(1) << 32) / d ? elems * d : 0;
    if (elems == 0) {
        throw Error("GGUF writer: tensor '" + std::string(name) +
                    "': random tensors need nonzero dimensions and at most 2^32 elements");
    }
    std::vector<float> v(elems);
    uint64_t state = seed;
    for (float& x : v) {
        const float u = static_cast<float>(splitmix64(state) >> 40) * (1.0f / 16777216.0f);
        x = (2.0f * u - 1.0f) * scale;
    }
    add_tensor_f32(name, type, std::move(dims), v);
}

// --- output ---------------------------------------------------------------------------------

std::vector<uint8_t> Writer::header_bytes() const {
    const uint64_t align = alignment();
    Bytes h;
    h.put<uint32_t>(kMagic);
    h.put<uint32_t>(3);
    h.put<uint64_t>(tensors_.size());
    h.put<uint64_t>(metadata_.size());
    for (const auto& [key, value] : metadata_) {
        h.put_string(key);
        h.put(static_cast<uint32_t>(value.type));
        h.put_value(value);
    }
    uint64_t offset = 0;
    for (const Tensor& t : tensors_) {
        h.put_string(t.name);
        h.put<uint32_t>(static_cast<uint32_t>(t.dims.size()));
        for (uint64_t d : t.dims) h.put<uint64_t>(d);
        h.put(static_cast<uint32_t>(t.type));
        h.put<uint64_t>(offset);
        offset += pad_to(t.bytes, align);
    }
    h.b.resize(pad_to(h.b.size(), align), 0);
    return std::move(h.b);
}

template <typename Sink>
void Writer::emit(Sink& sink) const {
    const uint64_t align = alignment();
    const std::vector<uint8_t> header = header_bytes();
    sink.put(header.data(), header.size());
    static const uint8_t zeros[4096] = {};
    for (const Tensor& t : tensors_) {
        if (t.produce) {
            const std::vector<uint8_t> produced = t.produce();
            if (produced.size() != t.bytes) {
                throw Error("GGUF writer: tensor '" + t.name + "': produced " +
                            std::to_string(produced.size()) + " bytes, expected " +
                            std::to_string(t.bytes));
            }
            sink.put(produced.data(), t.bytes);
        } else {
            sink.put(t.bytes_ptr(), t.bytes);
        }
        for (uint64_t pad = pad_to(t.bytes, align) - t.bytes; pad > 0;) {
            const uint64_t n = pad < sizeof zeros ? pad : sizeof zeros;
            sink.put(zeros, n);
            pad -= n;
        }
    }
}

uint64_t Writer::file_size() const {
    const uint64_t align = alignment();
    uint64_t n = header_bytes().size();
    for (const Tensor& t : tensors_) n += pad_to(t.bytes, align);
    return n;
}

std::vector<uint8_t> Writer::to_bytes() const {
    std::vector<uint8_t> out;
    out.reserve(file_size());
    VectorSink sink{out};
    emit(sink);
    return out;
}

void Writer::write_file(const std::string& path) const {
    static std::atomic<uint64_t> counter{0};
    const std::string tmp =
        path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) throw Error("cannot create '" + tmp + "': " + std::strerror(errno));
    bool fd_open = true;
    try {
        FdSink sink(fd, tmp);
        emit(sink);
        sink.flush();
        if (::fsync(fd) != 0) throw Error("cannot sync '" + tmp + "': " + std::strerror(errno));
        fd_open = false;
        if (::close(fd) != 0) throw Error("cannot close '" + tmp + "': " + std::strerror(errno));
    } catch (...) {
        if (fd_open) ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw Error("cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(err));
    }
}

}  // namespace lokal::gguf
