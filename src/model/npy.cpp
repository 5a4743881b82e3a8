#include "model/npy.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "base/error.h"

namespace lokal::model {

NpyArray read_npy_f32(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot open '" + path + "'");
    char magic[8];
    in.read(magic, 8);
    if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0) throw Error("'" + path + "' is not .npy");
    uint32_t header_len = 0;
    if (magic[6] == 1) {
        uint16_t n;
        in.read(reinterpret_cast<char*>(&n), 2);
        header_len = n;
    } else {
        in.read(reinterpret_cast<char*>(&header_len), 4);
    }
    std::string header(header_len, '\0');
    in.read(header.data(), header_len);
    if (header.find("'<f4'") == std::string::npos ||
        header.find("'fortran_order': False") == std::string::npos) {
        throw Error("'" + path + "' is not a C-order float32 array");
    }
    NpyArray a;
    const auto open = header.find('(', header.find("'shape'"));
    const auto close = header.find(')', open);
    std::string dims = header.substr(open + 1, close - open - 1);
    for (char& c : dims) {
        if (c == ',') c = ' ';
    }
    std::istringstream ds(dims);
    size_t d, total = 1;
    while (ds >> d) {
        a.shape.push_back(d);
        total *= d;
    }
    a.data.resize(total);
    in.read(reinterpret_cast<char*>(a.data.data()), (std::streamsize)(total * sizeof(float)));
    if (!in) throw Error("'" + path + "' is truncated");
    return a;
}

}  // namespace lokal::model
