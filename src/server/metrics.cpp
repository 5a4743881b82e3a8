#include "server/metrics.h"

#include <sstream>

#include "server/model_manager.h"

namespace lokal::server {

void Metrics::count_request(int status) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++requests_by_status_[status];
}

void Metrics::count_tokens(uint64_t prompt, uint64_t generated) {
    prompt_tokens_ += prompt;
    generated_tokens_ += generated;
}

void Metrics::count_draft(uint64_t drafted, uint64_t accepted) {
    draft_tokens_ += drafted;
    draft_accepted_ += accepted;
}

void Metrics::add_ttft(double seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    ttft_sum_ += seconds;
    ++ttft_count_;
}

std::string Metrics::render(const ModelManager& models) {
    std::ostringstream o;
    int running = 0, queued = 0, pages_used = 0, pages_total = 0, parallel = 0;
    uint64_t cached = 0;
    const auto loaded = models.loaded();
    for (const auto& m : loaded) {
        if (!m.model->scheduler) continue;
        const auto s = m.model->scheduler->stats();
        running += s.running;
        queued += s.queued;
        pages_used += s.kv_pages_used;
        pages_total += s.kv_pages_total;
        parallel += s.n_parallel;
        cached += s.cached_tokens;
    }
    const double kv_usage = pages_total > 0 ? (double)pages_used / pages_total : 0.0;
    std::lock_guard<std::mutex> lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    const double dt = std::chrono::duration<double>(now - last_render_).count();
    const uint64_t gen = generated_tokens_.load();
    const double rate = dt > 0 ? (double)(gen - last_generated_) / dt : 0.0;
    last_generated_ = gen;
    last_render_ = now;

    o << "# HELP lokal_requests_total HTTP requests answered, by status code.\n"
         "# TYPE lokal_requests_total counter\n";
    for (const auto& [status, n] : requests_by_status_) {
        o << "lokal_requests_total{status=\"" << status << "\"} " << n << "\n";
    }
    o << "# HELP lokal_prompt_tokens_total Prompt tokens received.\n"
         "# TYPE lokal_prompt_tokens_total counter\n"
      << "lokal_prompt_tokens_total " << prompt_tokens_.load() << "\n"
      << "# HELP lokal_prompt_tokens_cached_total Prompt tokens served from the prefix cache.\n"
         "# TYPE lokal_prompt_tokens_cached_total counter\n"
      << "lokal_prompt_tokens_cached_total " << cached << "\n"
      << "# HELP lokal_generated_tokens_total Tokens generated.\n"
         "# TYPE lokal_generated_tokens_total counter\n"
      << "lokal_generated_tokens_total " << gen << "\n"
      << "# HELP lokal_draft_tokens_total Tokens guessed ahead by speculative decoding.\n"
         "# TYPE lokal_draft_tokens_total counter\n"
      << "lokal_draft_tokens_total " << draft_tokens_.load() << "\n"
      << "# HELP lokal_draft_tokens_accepted_total Guessed tokens the model kept.\n"
         "# TYPE lokal_draft_tokens_accepted_total counter\n"
      << "lokal_draft_tokens_accepted_total " << draft_accepted_.load() << "\n"
      << "# HELP lokal_generation_tokens_per_second Generated tokens per second since the last "
         "scrape.\n# TYPE lokal_generation_tokens_per_second gauge\n"
      << "lokal_generation_tokens_per_second " << rate << "\n"
      << "# HELP lokal_time_to_first_token_seconds Time to first token.\n"
         "# TYPE lokal_time_to_first_token_seconds summary\n"
      << "lokal_time_to_first_token_seconds_sum " << ttft_sum_ << "\n"
      << "lokal_time_to_first_token_seconds_count " << ttft_count_ << "\n"
      << "# HELP lokal_num_requests_waiting Requests queued for a free sequence slot.\n"
         "# TYPE lokal_num_requests_waiting gauge\n"
      << "lokal_num_requests_waiting " << queued << "\n"
      << "# HELP lokal_num_requests_running Sequences being evaluated.\n"
         "# TYPE lokal_num_requests_running gauge\n"
      << "lokal_num_requests_running " << running << "\n"
      << "# HELP lokal_max_parallel_sequences Sequence slots of the loaded models.\n"
         "# TYPE lokal_max_parallel_sequences gauge\n"
      << "lokal_max_parallel_sequences " << parallel << "\n"
      << "# HELP lokal_kv_cache_usage_perc Fraction (0-1) of KV-cache pages in use.\n"
         "# TYPE lokal_kv_cache_usage_perc gauge\n"
      << "lokal_kv_cache_usage_perc " << kv_usage << "\n"
      << "# HELP lokal_kv_cache_pages KV-cache pages in use and in total.\n"
         "# TYPE lokal_kv_cache_pages gauge\n"
      << "lokal_kv_cache_pages{state=\"used\"} " << pages_used << "\n"
      << "lokal_kv_cache_pages{state=\"total\"} " << pages_total << "\n"
      << "# HELP lokal_loaded_models Models in memory.\n# TYPE lokal_loaded_models gauge\n"
      << "lokal_loaded_models " << loaded.size()
      << "\n"
      // LoRA info as the inference extension's proposal 003 describes: label sets of running
      // and waiting adapters and the limit, value = a timestamp. lokal serves no adapters yet.
      << "# HELP lokal_lora_requests_info LoRA adapters of running and waiting requests.\n"
         "# TYPE lokal_lora_requests_info gauge\n"
      << "lokal_lora_requests_info{running_lora_adapters=\"\",waiting_lora_adapters=\"\","
         "max_lora=\"0\"} "
      << std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count()
      << "\n";
    return o.str();
}

}  // namespace lokal::server
