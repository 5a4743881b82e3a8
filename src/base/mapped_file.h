// A read-only memory-mapped file. Model weights stay in the page cache and are shared between
// processes; nothing is copied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace lokal {

class MappedFile {
  public:
    // Throws lokal::Error naming the path and the reason when the file cannot be opened.
    explicit MappedFile(const std::string& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    const std::string& path() const { return path_; }

    // Drops the pages of [p, p + n) (inside this mapping) from the process's resident set once a
    // copy of them is kept elsewhere; a later read faults them back in from the file.
    void release_pages(const uint8_t* p, size_t n) const;

  private:
    std::string path_;
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace lokal
