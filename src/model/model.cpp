#include "model/model.h"

#include <atomic>

#include "base/error.h"
#include "model/arch/arch.h"

namespace lokal::model {

namespace {

uint64_t next_model_id() {
    static std::atomic<uint64_t> last{0};
    return ++last;
}

}  // namespace

Model::Model() : id_(next_model_id()) {}

std::unique_ptr<Model> Model::load(const std::string& path) {
    return load(path, repack_cache_params_from_env());
}

std::unique_ptr<Model> Model::load(const std::string& path, const RepackCacheParams& cache) {
    std::unique_ptr<Model> m(new Model());
    m->file_ = gguf::File::open(path);
    const gguf::File& f = *m->file_;
    const auto arch_name = f.get_string("general.architecture");
    if (!arch_name) throw Error("'" + path + "' has no general.architecture; is it a model file?");
    const ArchDesc* arch = find_arch(*arch_name);
    if (!arch) {
        throw Error("unsupported model architecture '" + *arch_name +
                        "' (lokal supports: " + supported_arch_list() + ")",
                    ErrorKind::Unsupported);
    }
    m->config_.arch = *arch_name;
    arch->read_config(f, m->config_);
    WeightBinder binder(f);
    arch->bind_weights(binder, m->config_, m->weights_);
    m->packed_.repack(m->weights_, f, cache);
    m->tokenizer_ = tokenizer::Tokenizer::from_gguf(f);
    return m;
}

}  // namespace lokal::model
