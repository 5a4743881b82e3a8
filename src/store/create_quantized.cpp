#include "store/create_quantized.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <optional>

#include "base/error.h"
#include "quant/quantize_file.h"

namespace lokal::store {
namespace {

ModelRef temporary_ref() {
    static std::atomic<int> counter{0};
    return parse_ref("lokal-quantizing-" + std::to_string(::getpid()) + "-" +
                     std::to_string(counter.fetch_add(1)));
}

void quantize_model_layer(Store& store, const ModelRef& ref, const quant::FileType& ft,
                          const std::function<void(const std::string&)>& say) {
    std::optional<Manifest> m = store.read_manifest(ref);
    if (!m) throw Error("model '" + ref.display() + "' vanished while it was created");
    auto layer = std::find_if(m->layers.begin(), m->layers.end(),
                              [](const Layer& l) { return l.media_type == media::kModel; });
    if (layer == m->layers.end()) throw Error("the model has no model layer to quantize");
    const Layer original = *layer;
    const std::filesystem::path tmp = store.temp_path("quantize");
    say("quantizing " + std::string(ft.name));
    try {
        quant::quantize_file(store.blob_path(layer->digest).string(), tmp.string(), ft, {});
        say("importing quantized model");
        *layer = store.import_file(media::kModel, tmp.string());
    } catch (...) {
        std::error_code ec;
        std::filesystem::remove(tmp, ec);
        throw;
    }
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    store.write_manifest(ref, m->to_json());
    store.remove_unreferenced({original});  // the unquantized file, unless another model uses it
}

}  // namespace

ModelRef create_quantized_model(Store& store, const std::string& name, const Modelfile& mf,
                                const std::filesystem::path& base_dir, PathAccess access,
                                const std::string& quantize_type,
                                const std::function<void(const std::string&)>& status) {
    const std::optional<quant::FileType> ft = quant::find_file_type(quantize_type);
    if (!ft) throw Error("unknown quantization type '" + quantize_type + "'");
    auto say = [&](const std::string& s) {
        if (status) status(s);
    };
    ModelRef dst = parse_ref(name);
    const ModelRef tmp = temporary_ref();
    create_model(store, tmp.display(), mf, base_dir, access, status);
    try {
        quantize_model_layer(store, tmp, *ft, say);
        store.copy(tmp, dst);
    } catch (...) {
        store.remove(tmp);
        throw;
    }
    store.remove(tmp);
    return dst;
}

}  // namespace lokal::store
