// config.json -> GGUF metadata and Hugging Face tensor names -> GGUF names, per architecture we
// run, with the changes llama.cpp's converter makes to the weights (llama's q/k rows reordered
// for its rotary layout, gemma's RMSNorm weights stored as 1 + w).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "convert/hf_vocab.h"
#include "gguf/gguf_writer.h"

namespace lokal::convert {

// What to do to a tensor's values on the way in.
enum class Transform { None, PermuteQ, PermuteK, AddOne };

struct MappedName {
    std::string gguf;  // "" when the tensor is not part of the GGUF (dropped)
    Transform transform = Transform::None;
};

class ArchMapper {
  public:
    virtual ~ArchMapper() = default;
    virtual const std::string& arch() const = 0;
    // Writes "<arch>.*" hyperparameters (and nothing of the vocabulary).
    virtual void write_metadata(const HfFiles& hf, gguf::Writer& w) const = 0;
    // nullopt: a tensor this architecture does not know (the caller reports it).
    virtual std::optional<MappedName> map(const std::string& hf_name) const = 0;
    // Tensors computed from the config rather than read (llama 3's rope_freqs).
    virtual void write_extra_tensors(const HfFiles& /*hf*/, gguf::Writer& /*w*/) const {}
    // Vocabulary keys this architecture states its own way, written after write_vocab.
    virtual void adjust_vocab(gguf::Writer& /*w*/) const {}
};

// The mapper for config.json's "architectures"[0]; throws lokal::Error (Unsupported) naming the
// architecture when we do not convert it.
std::unique_ptr<ArchMapper> mapper_for(const HfFiles& hf);

// Reorders the rows of a [n_head * head_dim, cols] projection from Hugging Face's rotary layout
// (first halves, then second halves of each head) to GGML's interleaved pairs.
std::vector<float> permute_rotary_rows(const std::vector<float>& w, int n_head, int64_t cols);

}  // namespace lokal::convert
