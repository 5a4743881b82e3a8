#include "model/weight_binder.h"

#include "base/error.h"
#include "tensor/dequantize.h"

namespace lokal::model {
namespace {

std::string shape(int64_t rows, int64_t cols) {
    return "[" + std::to_string(cols) + ", " + std::to_string(rows) + "]";
}

void check_computable(const gguf::TensorInfo& t) {
    if (!dtype_info(t.type).can_compute) {
        throw Error("tensor '" + t.name + "' has type " + std::string(dtype_name(t.type)) +
                    ", which lokal cannot compute with yet");
    }
}

}  // namespace

std::optional<MatrixView> WeightBinder::optional_matrix(const std::string& name, int64_t rows,
                                                        int64_t cols) const {
    const gguf::TensorInfo* t = file_.find_tensor(name);
    if (!t) return std::nullopt;
    const bool ok = t->dims.size() <= 2 && (int64_t)t->cols() == cols && (int64_t)t->rows() == rows;
    if (!ok) {
        throw Error("tensor '" + name + "' has shape " + t->shape_string() + ", expected " +
                    shape(rows, cols));
    }
    check_computable(*t);
    MatrixView m;
    m.type = t->type;
    m.rows = rows;
    m.cols = cols;
    m.data = t->data;
    m.row_stride = row_bytes(t->type, cols);
    return m;
}

MatrixView WeightBinder::matrix(const std::string& name, int64_t rows, int64_t cols) const {
    auto m = optional_matrix(name, rows, cols);
    if (!m) throw Error("model file is missing tensor '" + name + "'");
    return *m;
}

std::optional<std::vector<float>> WeightBinder::optional_vector(const std::string& name,
                                                                int64_t n) const {
    const gguf::TensorInfo* t = file_.find_tensor(name);
    if (!t) return std::nullopt;
    if ((int64_t)t->n_elements != n || t->dims.size() != 1) {
        throw Error("tensor '" + name + "' has shape " + t->shape_string() + ", expected [" +
                    std::to_string(n) + "]");
    }
    check_computable(*t);
    std::vector<float> v(n);
    dequantize_row(t->type, t->data, v.data(), n);
    return v;
}

std::vector<float> WeightBinder::vector(const std::string& name, int64_t n) const {
    auto v = optional_vector(name, n);
    if (!v) throw Error("model file is missing tensor '" + name + "'");
    return *v;
}

}  // namespace lokal::model
