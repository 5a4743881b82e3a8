// Times the Vulkan matvec shaders: y = W x for a rows x cols matrix of each type (4096 x 4096 by
// default). For one vector (token generation) it reports microseconds per product and the weight
// bytes read per second, the bound that matters there; for a batch of vectors (prompt
// processing, 512 by default) the per-row and the tiled path's GFLOP/s (2 rows cols n_vec per
// product). Usage: bench_vulkan_matvec [rows cols [reps [batch]]]; the device is LOKAL_DEVICE's
// choice (vulkan, vulkan:N; default: the best Vulkan device, software too).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "backends/vulkan/buffer.h"
#include "backends/vulkan/command_stream.h"
#include "backends/vulkan/device.h"
#include "backends/vulkan/matvec.h"
#include "backends/vulkan/transfer.h"
#include "base/error.h"
#include "base/random_values.h"
#include "tensor/dtype.h"
#include "vulkan_bench_device.h"

namespace {

using namespace lokal;

double time_matvec(vk::CommandStream& stream, vk::Matvec& matvec, DType t, const vk::Buffer& w,
                   const vk::Buffer& x, const vk::Buffer& y, const vk::MatvecShape& shape, int reps,
                   vk::MatvecPath path = vk::MatvecPath::Rows) {
    // One submission of `reps` products, each after a barrier (as a forward pass runs them), so
    // the per-submission cost is spread over all of them.
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) {
        matvec.record(stream, t, w, vk::dense_rows(x, shape.cols), vk::dense_rows(y, shape.rows),
                      shape, path);
        stream.barrier();
    }
    stream.submit_and_wait();
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    return elapsed.count() / reps;
}

int run(int argc, char** argv) {
    const uint32_t rows = argc > 2 ? std::atoi(argv[1]) : 4096;
    const uint32_t cols = argc > 2 ? std::atoi(argv[2]) : 4096;
    const int reps = argc > 3 ? std::atoi(argv[3]) : 200;
    const uint32_t batch = argc > 4 ? std::atoi(argv[4]) : 512;
    if (rows == 0 || cols % 256 != 0 || reps < 1 || reps > 1000 || batch < 1 || batch > 4096) {
        std::fprintf(stderr,
                     "usage: bench_vulkan_matvec [rows cols [reps [batch]]] (cols: a multiple "
                     "of 256, reps: 1..1000, batch: 1..4096)\n");
        return 2;
    }
    const bench::BenchDevice bench_device = bench::open_bench_device();
    const vk::Device& device = *bench_device.device;
    std::printf("%-6s %14s %10s %-10s %12s %10s %8s\n", "type", "shape", "MiB", "path",
                "us/product", "GB/s", "GFLOP/s");

    vk::CommandStream stream(device, 1024);
    vk::Matvec matvec(device);
    const std::vector<float> source = random_normal(int64_t{rows} * cols, 1, 0.5f);
    const std::vector<float> x = random_normal(int64_t{cols} * batch, 2, 1.0f);
    const vk::Buffer x_buf(device, x.size() * 4, vk::MemoryKind::DeviceLocal, "x");
    const vk::Buffer y_buf(device, uint64_t{rows} * batch * 4, vk::MemoryKind::DeviceLocal, "y");
    vk::upload(stream, x_buf, 0, x.data(), x.size() * 4);
    const auto report = [&](const DTypeInfo& info, uint64_t bytes, const std::string& path,
                            const vk::MatvecShape& shape, double seconds) {
        const std::string dims =
            std::to_string(rows) + "x" + std::to_string(cols) + "x" + std::to_string(shape.n_vec);
        std::printf("%-6s %14s %10.1f %-10s %12.1f %10.1f %8.2f\n", std::string(info.name).c_str(),
                    dims.c_str(), bytes / 1048576.0, path.c_str(), seconds * 1e6,
                    bytes / seconds / 1e9, 2.0 * rows * cols * shape.n_vec / seconds / 1e9);
    };
    // The batch runs take `batch` times the work of one vector: fewer repetitions.
    const int batch_reps = std::max(1, reps / static_cast<int>(batch));
    for (DType t :
         {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q6_K, DType::Q5_K, DType::Q4_K,
          DType::Q3_K, DType::Q2_K, DType::Q5_1, DType::Q5_0, DType::Q4_1, DType::Q4_0}) {
        const DTypeInfo& info = dtype_info(t);
        const uint64_t rb = row_bytes(t, cols);
        std::vector<uint8_t> raw(rb * rows);
        for (uint32_t r = 0; r < rows; ++r) {
            info.from_float(source.data() + uint64_t{r} * cols, raw.data() + r * rb, cols);
        }
        const vk::Buffer w(device, raw.size(), vk::MemoryKind::DeviceLocal, "the weights");
        vk::upload(stream, w, 0, raw.data(), raw.size());
        const vk::MatvecShape shape{rows, cols, 1};
        time_matvec(stream, matvec, t, w, x_buf, y_buf, shape, 3);  // warm-up
        report(info, raw.size(), "rows", shape,
               time_matvec(stream, matvec, t, w, x_buf, y_buf, shape, reps));
        // A batch: per row and vector against tiles of rows x vectors.
        const vk::MatvecShape batch_shape{rows, cols, batch};
        for (const auto& [name, path] :
             {std::pair{"rows", vk::MatvecPath::Rows}, std::pair{"tiled", vk::MatvecPath::Tiled}}) {
            time_matvec(stream, matvec, t, w, x_buf, y_buf, batch_shape, 1, path);  // warm-up
            const double seconds =
                time_matvec(stream, matvec, t, w, x_buf, y_buf, batch_shape, batch_reps, path);
            report(info, raw.size(), name, batch_shape, seconds);
        }
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const lokal::Error& e) {
        std::fprintf(stderr, "bench_vulkan_matvec: %s\n", e.what());
        return 1;
    }
}
