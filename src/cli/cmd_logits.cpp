#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>

#include "base/error.h"
#include "cli/options.h"
#include "model/context.h"
#include "store/resolve.h"

namespace lokal::cli {
namespace {

std::vector<int32_t> parse_token_list(const std::string& s) {
    std::vector<int32_t> ids;
    std::istringstream in(s);
    std::string word;
    while (in >> word) {
        for (char& ch : word) {
            if (ch == ',') ch = ' ';
        }
        std::istringstream w(word);
        long long v;
        while (w >> v) {
            if (v < 0 || v > INT32_MAX) throw Error("bad token id '" + std::to_string(v) + "'");
            ids.push_back((int32_t)v);
        }
        if (!w.eof()) throw Error("--tokens expects numbers, got '" + word + "'");
    }
    return ids;
}

}  // namespace

int logits_command(const LogitsOptions& o) {
    if (o.text.has_value() == o.tokens.has_value()) {
        throw Error("give exactly one of --text or --tokens");
    }
    auto model = model::Model::load(store::resolve_model(o.model));
    const std::vector<int32_t> ids =
        o.text ? model->tokenizer().encode(*o.text, true, false) : parse_token_list(*o.tokens);
    if (ids.empty()) throw Error("nothing to evaluate: the token list is empty");
    model::ContextParams cp;
    cp.n_ctx = o.n_ctx > 0 ? o.n_ctx : std::max<int>((int)ids.size(), 16);
    cp.n_threads = o.n_threads;
    model::Context ctx(*model, cp);
    ctx.eval(ids, o.all_positions);

    const int V = ctx.n_vocab();
    const int n_rows = o.all_positions ? (int)ids.size() : 1;
    nlohmann::json out;
    out["n_vocab"] = V;
    out["tokens"] = ids;
    nlohmann::json rows = nlohmann::json::array();
    std::vector<int32_t> order(V);
    for (int r = 0; r < n_rows; ++r) {
        const float* lg = ctx.logits(r);
        if (o.top > 0) {
            const int k = std::min(o.top, V);
            std::iota(order.begin(), order.end(), 0);
            std::partial_sort(
                order.begin(), order.begin() + k, order.end(),
                [&](int32_t a, int32_t b) { return lg[a] > lg[b] || (lg[a] == lg[b] && a < b); });
            nlohmann::json top = nlohmann::json::array();
            for (int i = 0; i < k; ++i) top.push_back({order[i], lg[order[i]]});
            rows.push_back(std::move(top));
        } else {
            rows.push_back(std::vector<float>(lg, lg + V));
        }
    }
    out[o.top > 0 ? "top" : "logits"] = std::move(rows);
    const std::string s = out.dump();
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fputc('\n', stdout);
    return 0;
}

}  // namespace lokal::cli
