// Counters for GET /metrics (Prometheus text format). Besides lokal's own names it exports the
// gauges the Kubernetes Gateway API Inference Extension's model-server protocol reads (queued
// and running requests, KV-cache utilisation, LoRA adapter info), so an inference gateway can
// route load- and prefix-aware across lokal replicas.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace lokal::server {

class ModelManager;

class Metrics {
  public:
    void count_request(int status);
    void count_tokens(uint64_t prompt, uint64_t generated);
    void count_draft(uint64_t drafted, uint64_t accepted);  // speculative decoding
    void add_ttft(double seconds);
    std::string render(const ModelManager& models);

  private:
    std::mutex mutex_;
    std::map<int, uint64_t> requests_by_status_;
    std::atomic<uint64_t> prompt_tokens_{0}, generated_tokens_{0};
    std::atomic<uint64_t> draft_tokens_{0}, draft_accepted_{0};
    double ttft_sum_ = 0;
    uint64_t ttft_count_ = 0;
    uint64_t last_generated_ = 0;
    std::chrono::steady_clock::time_point last_render_ = std::chrono::steady_clock::now();
};

}  // namespace lokal::server
