// `lokal create NAME -f Modelfile --quantize TYPE` and /api/create's "quantize": creates the
// model as create_model does, with its GGUF converted to a quantization mix (quant/).
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "store/create.h"

namespace lokal::store {

// The model is built under a temporary name, its model layer replaced by the quantized file,
// then renamed; on any error (an unknown type, an input that is already quantized, a full disk)
// the store is left as it was. Throws lokal::Error.
ModelRef create_quantized_model(Store& store, const std::string& name, const Modelfile& mf,
                                const std::filesystem::path& base_dir, PathAccess access,
                                const std::string& quantize_type,
                                const std::function<void(const std::string&)>& status = {});

}  // namespace lokal::store
