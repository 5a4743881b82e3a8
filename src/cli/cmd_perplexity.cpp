// `lokal perplexity`: the same measure as llama.cpp's perplexity tool — the text is cut into
// non-overlapping chunks of n_ctx tokens, each starts with BOS, and only the second half of each
// chunk is scored (so every scored token has at least n_ctx/2 tokens of context).
#include <cmath>
#include <cstdio>

#include "base/error.h"
#include "cli/options.h"
#include "model/context.h"
#include "store/resolve.h"

namespace lokal::cli {


int perplexity_command(const PerplexityOptions& o) {
    auto model = model::Model::load(store::resolve_model(o.model));
    const auto& tok = model->tokenizer();
    const std::string text = read_text_file(o.file);
    std::vector<int32_t> tokens = tok.encode(text, true, false);
    const int n_ctx = o.n_ctx;
    if (n_ctx < 8) throw Error("--ctx must be at least 8");
    int n_chunks = (int)(tokens.size() / n_ctx);
    if (o.max_chunks > 0) n_chunks = std::min(n_chunks, o.max_chunks);
    if (n_chunks == 0) {
        throw Error("the text has " + std::to_string(tokens.size()) +
                    " tokens, fewer than one chunk of " + std::to_string(n_ctx));
    }
    model::ContextParams cp;
    cp.n_ctx = n_ctx;
    cp.n_threads = o.n_threads;
    cp.kv_type = kv_type_option(o.cache_type);
    model::Context ctx(*model, cp);
    const int V = ctx.n_vocab();
    const int first = n_ctx / 2;
    double nll = 0, nll2 = 0;
    int64_t count = 0;
    std::vector<int32_t> chunk(n_ctx);
    std::fprintf(stderr, "perplexity: %zu tokens, %d chunks of %d\n", tokens.size(), n_chunks,
                 n_ctx);
    for (int c = 0; c < n_chunks; ++c) {
        std::copy(tokens.begin() + (size_t)c * n_ctx, tokens.begin() + (size_t)(c + 1) * n_ctx,
                  chunk.begin());
        if (tok.add_bos() && tok.bos() >= 0) chunk[0] = tok.bos();
        ctx.truncate(0);
        ctx.eval(chunk, true);
        for (int i = first; i < n_ctx - 1; ++i) {
            const float* lg = ctx.logits(i);
            float mx = lg[0];
            for (int v = 1; v < V; ++v) mx = std::max(mx, lg[v]);
            double sum = 0;
            for (int v = 0; v < V; ++v) sum += std::exp((double)lg[v] - mx);
            const double logprob = (double)lg[chunk[i + 1]] - mx - std::log(sum);
            nll -= logprob;
            nll2 += logprob * logprob;
            ++count;
        }
        std::fprintf(stderr, "[%d]%.4f,", c + 1, std::exp(nll / count));
        if ((c + 1) % 16 == 0) std::fputc('\n', stderr);
    }
    const double mean = nll / count;
    const double var = nll2 / count - mean * mean;
    const double ppl = std::exp(mean);
    const double err = var > 0 && count > 1 ? ppl * std::sqrt(var / (count - 1)) : 0.0;
    std::printf("Final estimate: PPL = %.4f +/- %.5f (%d chunks of %d tokens)\n", ppl, err,
                n_chunks, n_ctx);
    return 0;
}

}  // namespace lokal::cli
