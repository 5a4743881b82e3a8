#include "convert/spm_model.h"

#include <cstring>
#include <fstream>
#include <iterator>

#include "base/error.h"

namespace lokal::convert {

namespace {

// A cursor over protobuf wire format.
class Reader {
  public:
    Reader(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
    bool done() const { return p_ == end_; }

    uint64_t varint() {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (p_ == end_) fail();
            const uint8_t b = *p_++;
            v |= uint64_t(b & 0x7F) << shift;
            if (!(b & 0x80)) return v;
        }
        fail();
    }
    Reader sub() {
        const uint64_t n = varint();
        if (n > uint64_t(end_ - p_)) fail();
        Reader r(p_, n);
        p_ += n;
        return r;
    }
    float fixed32_float() {
        if (end_ - p_ < 4) fail();
        float f;
        std::memcpy(&f, p_, 4);
        p_ += 4;
        return f;
    }
    std::string bytes() {
        Reader r = sub();
        return {reinterpret_cast<const char*>(r.p_), size_t(r.end_ - r.p_)};
    }
    void skip(uint32_t wire_type) {
        switch (wire_type) {
            case 0:
                varint();
                return;
            case 1:
                advance(8);
                return;
            case 2:
                sub();
                return;
            case 5:
                advance(4);
                return;
            default:
                fail();
        }
    }

  private:
    void advance(size_t n) {
        if (size_t(end_ - p_) < n) fail();
        p_ += n;
    }
    [[noreturn]] static void fail() { throw Error("tokenizer.model: not a valid SentencePiece model"); }
    const uint8_t* p_;
    const uint8_t* end_;
};

SpmPiece read_piece(Reader r) {
    SpmPiece p;
    while (!r.done()) {
        const uint64_t tag = r.varint();
        const uint32_t field = uint32_t(tag >> 3), wire = uint32_t(tag & 7);
        if (field == 1 && wire == 2) {
            p.text = r.bytes();
        } else if (field == 2 && wire == 5) {
            p.score = r.fixed32_float();
        } else if (field == 3 && wire == 0) {
            p.type = int32_t(r.varint());
        } else {
            r.skip(wire);
        }
    }
    return p;
}

}  // namespace

SpmModel parse_spm_model(const uint8_t* data, size_t size) {
    SpmModel m;
    Reader r(data, size);
    while (!r.done()) {
        const uint64_t tag = r.varint();
        const uint32_t field = uint32_t(tag >> 3), wire = uint32_t(tag & 7);
        if (field == 1 && wire == 2) {
            m.pieces.push_back(read_piece(r.sub()));
        } else if (field == 3 && wire == 2) {
            Reader n = r.sub();
            while (!n.done()) {
                const uint64_t t = n.varint();
                if ((t >> 3) == 3 && (t & 7) == 0) {
                    m.add_dummy_prefix = n.varint() != 0;
                } else {
                    n.skip(uint32_t(t & 7));
                }
            }
        } else {
            r.skip(wire);
        }
    }
    if (m.pieces.empty()) throw Error("tokenizer.model: no pieces");
    return m;
}

SpmModel read_spm_model(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot read " + path.string(), ErrorKind::Io);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                     std::istreambuf_iterator<char>());
    return parse_spm_model(bytes.data(), bytes.size());
}

}  // namespace lokal::convert
