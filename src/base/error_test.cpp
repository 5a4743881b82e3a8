#include "base/error.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "base/mapped_file.h"

namespace lokal {
namespace {

TEST(Error, KindDefaultsToInvalidInputAndIsKept) {
    EXPECT_EQ(Error("bad option").kind(), ErrorKind::InvalidInput);
    EXPECT_EQ(Error("gone", ErrorKind::NotFound).kind(), ErrorKind::NotFound);
    EXPECT_STREQ(error_kind_name(ErrorKind::Io), "I/O error");
    EXPECT_STREQ(error_kind_name(ErrorKind::Unsupported), "unsupported");
}

ErrorKind kind_of_opening(const std::string& path) {
    try {
        MappedFile f(path);
    } catch (const Error& e) {
        return e.kind();
    }
    ADD_FAILURE() << path << " opened";
    return ErrorKind::Internal;
}

TEST(Error, OpeningAFileSaysWhatWentWrong) {
    EXPECT_EQ(kind_of_opening("/no/such/model.gguf"), ErrorKind::NotFound);
    EXPECT_EQ(kind_of_opening(std::filesystem::temp_directory_path().string()),
              ErrorKind::InvalidInput);  // a directory
}

}  // namespace
}  // namespace lokal
