#include "base/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/error.h"

namespace lokal {

MappedFile::MappedFile(const std::string& path) : path_(path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        throw Error("cannot open '" + path + "': " + std::strerror(err),
                    err == ENOENT ? ErrorKind::NotFound : ErrorKind::Io);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        throw Error("cannot stat '" + path + "': " + std::strerror(err), ErrorKind::Io);
    }
    if (S_ISDIR(st.st_mode)) {
        ::close(fd);
        throw Error("'" + path + "' is a directory, not a model file");
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
        void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            throw Error("cannot map '" + path + "': " + std::strerror(err), ErrorKind::Io);
        }
        data_ = static_cast<const uint8_t*>(p);
    }
    ::close(fd);
}

void MappedFile::release_pages(const uint8_t* p, size_t n) const {
    const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const uintptr_t begin =
        std::max(reinterpret_cast<uintptr_t>(p), reinterpret_cast<uintptr_t>(data_));
    const uintptr_t end =
        std::min(reinterpret_cast<uintptr_t>(p) + n, reinterpret_cast<uintptr_t>(data_) + size_);
    // Only whole pages: the neighbouring tensors may still be in use.
    const uintptr_t first = (begin + page - 1) / page * page;
    const uintptr_t last = end / page * page;
    // The page-aligned address as an offset into the mapping: pointer arithmetic, not a cast.
    uint8_t* base = static_cast<uint8_t*>(const_cast<void*>(static_cast<const void*>(data_)));
    const uintptr_t origin = reinterpret_cast<uintptr_t>(data_);
    if (last > first) ::madvise(base + (first - origin), last - first, MADV_DONTNEED);
}

MappedFile::~MappedFile() {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace lokal
