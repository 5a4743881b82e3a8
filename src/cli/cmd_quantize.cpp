#include "cli/cmd_quantize.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "base/error.h"
#include "quant/imatrix_file.h"
#include "quant/quantize_file.h"

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

std::string type_list() {
    std::string s;
    for (const quant::FileType& ft : quant::file_types()) s += (s.empty() ? "" : ", ") + std::string(ft.name);
    return s;
}

// One line on stderr, redrawn in place on a terminal; only the final line otherwise.
class ProgressBar {
  public:
    explicit ProgressBar(bool quiet) : quiet_(quiet), tty_(::isatty(STDERR_FILENO) != 0) {}
    void update(uint64_t done, uint64_t total) {
        if (quiet_ || (!tty_ && done < total)) return;
        constexpr int kWidth = 40;
        const double frac = total ? (double)done / (double)total : 1.0;
        const int filled = (int)(frac * kWidth);
        std::fprintf(stderr, "%squantizing [%s%s] %3d%%%s", tty_ ? "\r\033[K" : "",
                     std::string((size_t)filled, '#').c_str(),
                     std::string((size_t)(kWidth - filled), ' ').c_str(), (int)(frac * 100 + 0.5),
                     done >= total ? "\n" : "");
        std::fflush(stderr);
    }

  private:
    bool quiet_;
    bool tty_;
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
                     o.out.c_str(), (double)r.bytes_in / 1048576.0,
                     (double)r.bytes_out / 1048576.0, secs, mix.c_str());
        if (fallbacks > 0) {
            std::fprintf(stderr,
                         "%d tensor(s) got a type with smaller blocks: their rows are not a whole "
                         "number of %s blocks\n",
                         fallbacks, std::string(ft->name).c_str());
        }
    }
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
    q->add_flag("--leave-output-tensor", o->leave_output_tensor,
                "Copy output.weight as it is");
    q->add_flag("--pure", o->pure, "Every quantizable tensor gets the base type (no mix)");
    q->add_flag("-q,--quiet", o->quiet, "No progress or summary");
    return [o, q]() -> std::optional<int> {
        if (*q) return quantize_command(*o);
        return std::nullopt;
    };
}

}  // namespace lokal::cli
