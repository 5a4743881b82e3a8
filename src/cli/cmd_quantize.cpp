#include "cli/cmd_quantize.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "backends/cpu/cpu_backend.h"
#include "base/error.h"
#include "cli/options.h"
#include "model/context.h"
#include "quant/imatrix_collector.h"
#include "quant/imatrix_file.h"
#include "quant/quantize_file.h"
#include "store/resolve.h"

namespace lokal::cli {
namespace {

struct QuantizeCliOptions {
    std::string in, out, type;
    int threads = 0;
    std::string imatrix;
    bool allow_requantize = false;
    bool leave_output_tensor = false;
    bool pure = false;
    bool quiet = false;
};

struct ImatrixCliOptions {
    std::string model, text, out = "imatrix.gguf";
    int chunks = -1;
    int n_ctx = 512;
    int threads = 0;
    bool process_output = false;
};

std::string type_list() {
    std::string s;
    for (const quant::FileType& ft : quant::file_types())
        s += (s.empty() ? "" : ", ") + std::string(ft.name);
    return s;
}

// One line on stderr, redrawn in place on a terminal; only the final line otherwise.
class ProgressBar {
  public:
    explicit ProgressBar(bool quiet, const char* what = "quantizing")
        : quiet_(quiet), tty_(::isatty(STDERR_FILENO) != 0), what_(what) {}
    void update(uint64_t done, uint64_t total) {
        if (quiet_ || (!tty_ && done < total)) return;
        constexpr int kWidth = 40;
        const double frac = total ? (double)done / (double)total : 1.0;
        const int filled = (int)(frac * kWidth);
        std::fprintf(stderr, "%s%s [%s%s] %3d%%%s", tty_ ? "\r\033[K" : "", what_,
                     std::string((size_t)filled, '#').c_str(),
                     std::string((size_t)(kWidth - filled), ' ').c_str(),
                     (int)std::lround(frac * 100), done >= total ? "\n" : "");
        std::fflush(stderr);
    }

  private:
    bool quiet_;
    bool tty_;
    const char* what_;
};

int quantize_command(const QuantizeCliOptions& o) {
    const std::optional<quant::FileType> ft = quant::find_file_type(o.type);
    if (!ft) throw Error("unknown quantization type '" + o.type + "' (known: " + type_list() + ")");
    quant::Importance importance;
    quant::QuantizeOptions opts;
    opts.threads = o.threads;
    opts.allow_requantize = o.allow_requantize;
    opts.leave_output_tensor = o.leave_output_tensor;
    opts.pure = o.pure;
    if (!o.imatrix.empty()) {
        importance = quant::read_imatrix(o.imatrix);
        opts.importance = &importance;
    }
    ProgressBar bar(o.quiet);
    opts.progress = [&](uint64_t done, uint64_t total) { bar.update(done, total); };
    const auto start = std::chrono::steady_clock::now();
    const quant::QuantizeResult r = quant::quantize_file(o.in, o.out, *ft, opts);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!o.quiet) {
        std::map<std::string, int> counts;
        int fallbacks = 0;
        for (const quant::QuantizedTensor& t : r.tensors) {
            ++counts[std::string(dtype_name(t.to))];
            fallbacks += t.fell_back ? 1 : 0;
        }
        std::string mix;
        for (const auto& [name, n] : counts) mix += " " + name + ":" + std::to_string(n);
        std::fprintf(stderr, "%s: %.1f MiB -> %.1f MiB in %.2f s; tensors by type:%s\n",
                     o.out.c_str(), (double)r.bytes_in / 1048576.0, (double)r.bytes_out / 1048576.0,
                     secs, mix.c_str());
        if (fallbacks > 0) {
            std::fprintf(stderr,
                         "%d tensor(s) got a type with smaller blocks: their rows are not a whole "
                         "number of %s blocks\n",
                         fallbacks, std::string(ft->name).c_str());
        }
    }
    return 0;
}

// Runs the text through the model in chunks of n_ctx tokens on the CPU, summing the squared
// inputs of every matrix product (quant/imatrix_collector.h), and writes llama.cpp's GGUF
// imatrix format.
int imatrix_command(const ImatrixCliOptions& o) {
    if (o.n_ctx < 8) throw Error("--ctx must be at least 8");
    // The collector knows weights by their mapped rows: no repacked copies, no GPU.
    setenv("LOKAL_REPACK", "0", 1);
    setenv("LOKAL_DEVICE", "cpu", 1);
    auto model = model::Model::load(store::resolve_model(o.model));
    const auto& tok = model->tokenizer();
    const std::vector<int32_t> tokens = tok.encode(read_text_file(o.text), true, false);
    int n_chunks = (int)(tokens.size() / (size_t)o.n_ctx);
    if (o.chunks > 0) n_chunks = std::min(n_chunks, o.chunks);
    if (n_chunks == 0) {
        throw Error("the text has " + std::to_string(tokens.size()) +
                    " tokens, fewer than one chunk of " + std::to_string(o.n_ctx));
    }
    quant::ImatrixCollector collector(model->file(), o.process_output);
    backends::set_matmul_observer([&](const kernels::MatrixView& w, const float* x, int n) {
        collector.add(w.data, w.cols, x, n);
    });
    model::ContextParams cp;
    cp.n_ctx = o.n_ctx;
    cp.n_threads = o.threads;
    model::Context ctx(*model, cp);
    std::vector<int32_t> chunk((size_t)o.n_ctx);
    ProgressBar bar(false, "imatrix");
    for (int c = 0; c < n_chunks; ++c) {
        std::copy(tokens.begin() + (ptrdiff_t)c * o.n_ctx,
                  tokens.begin() + (ptrdiff_t)(c + 1) * o.n_ctx, chunk.begin());
        if (tok.add_bos() && tok.bos() >= 0) chunk[0] = tok.bos();
        ctx.truncate(0);
        ctx.eval(chunk, true);
        bar.update((uint64_t)c + 1, (uint64_t)n_chunks);
    }
    backends::set_matmul_observer(nullptr);
    const quant::ImatrixStats stats =
        collector.stats(o.text, (uint32_t)n_chunks, (uint32_t)o.n_ctx);
    quant::write_imatrix(o.out, stats);
    std::fprintf(stderr, "%s: %zu weights, %d chunks of %d tokens\n", o.out.c_str(),
                 stats.entries.size(), n_chunks, o.n_ctx);
    return 0;
}

}  // namespace

std::function<std::optional<int>()> add_quantize_commands(CLI::App& app) {
    auto o = std::make_shared<QuantizeCliOptions>();
    auto* q = app.add_subcommand("quantize", "Quantize a GGUF model file (llama-quantize's mixes)");
    q->add_option("input", o->in, "Model file to read (.gguf, F32/F16/BF16)")->required();
    q->add_option("output", o->out, "Model file to write")->required();
    q->add_option("type", o->type, "Quantization: " + type_list())->required();
    q->add_option("-t,--threads", o->threads, "Threads (0: one per physical core)");
    q->add_option("--imatrix", o->imatrix, "Importance matrix (lokal imatrix or llama-imatrix)");
    q->add_flag("--allow-requantize", o->allow_requantize,
                "Accept an input whose tensors are already quantized");
    q->add_flag("--leave-output-tensor", o->leave_output_tensor, "Copy output.weight as it is");
    q->add_flag("--pure", o->pure, "Every quantizable tensor gets the base type (no mix)");
    q->add_flag("-q,--quiet", o->quiet, "No progress or summary");
    auto im = std::make_shared<ImatrixCliOptions>();
    auto* imc = app.add_subcommand(
        "imatrix", "Importance matrix of a model on a text file (for quantize --imatrix)");
    imc->add_option("model", im->model, "Model (.gguf path or store name)")->required();
    imc->add_option("-f,--file", im->text, "Text file")->required();
    imc->add_option("-o,--output", im->out, "File to write (llama.cpp's GGUF imatrix format)");
    imc->add_option("--chunks", im->chunks, "Use at most this many chunks");
    imc->add_option("-c,--ctx", im->n_ctx, "Chunk length in tokens");
    imc->add_option("-t,--threads", im->threads, "Threads (0: one per physical core)");
    imc->add_flag("--process-output", im->process_output, "Include output.weight");
    return [o, q, im, imc]() -> std::optional<int> {
        if (*q) return quantize_command(*o);
        if (*imc) return imatrix_command(*im);
        return std::nullopt;
    };
}

}  // namespace lokal::cli
