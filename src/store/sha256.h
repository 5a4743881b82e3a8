// SHA-256 through OpenSSL's EVP interface: incremental hashing for downloads, whole files for
// imports. Digests are written as Ollama writes them: "sha256:<64 lowercase hex>".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lokal::store {

class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(const void* data, size_t n);
    // 64 lowercase hex digits; the hasher is reset afterwards.
    std::string hex();

  private:
    void* ctx_;  // EVP_MD_CTX
};

std::string sha256_hex(std::string_view data);
// Hashes a file; adds the bytes read to *n_bytes when given. Throws lokal::Error on I/O errors.
std::string sha256_file_hex(const std::string& path, uint64_t* n_bytes = nullptr);

// "sha256:<64 lowercase hex>" exactly.
bool is_valid_digest(std::string_view digest);

}  // namespace lokal::store
