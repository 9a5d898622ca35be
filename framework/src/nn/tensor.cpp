// ablate/tensor.hpp: GEMM through OpenBLAS's cblas_sgemm on row-major views, and the thread
// count shared by BLAS and the host's own loops. At more than one thread the host cuts a GEMM
// into one single-threaded sgemm per thread (nn/gemm_threading.hpp says why and how).
#include "ablate/tensor.hpp"

#include <cblas.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>

#include "ablate/error.hpp"
#include "nn/gemm_threading.hpp"
#include "nn/parallel.hpp"

namespace ablate {
namespace {

std::atomic<int> configured_threads{0};  // 0: not set yet (BLAS's own default)
std::atomic<GemmThreading> threading{GemmThreading::host};

// Below this many multiply-adds (~3 us on one core) a GEMM stays on one thread: handing half
// of it to another thread costs about as much as it saves. The MLP's 32 x 256 x 10 output layer
// stays whole; its 32 x 784 x 256 and 32 x 256 x 256 products are cut.
constexpr double kCutFromMacs = 1 << 18;

/// Threads to cut a product of `macs` multiply-adds across; 1: do not cut.
std::size_t cut_parts(double macs) {
  const int threads = configured_threads;
  if (threads <= 1 || threading != GemmThreading::host || macs < kCutFromMacs ||
      in_parallel_job())
    return 1;
  return static_cast<std::size_t>(threads);
}

/// One row-major sgemm, of which gemm() computes blocks of C.
struct Sgemm {
  CBLAS_TRANSPOSE ta, tb;
  blasint k;
  float alpha;
  const float* a;
  blasint lda;
  const float* b;
  blasint ldb;
  float beta;
  float* c;
  blasint ldc;

  /// C[row0 .. row0+rows, col0 .. col0+cols): the same rows of op(A), columns of op(B).
  void block(std::size_t row0, std::size_t rows, std::size_t col0, std::size_t cols) const {
    const auto r = static_cast<std::ptrdiff_t>(row0), c0 = static_cast<std::ptrdiff_t>(col0);
    cblas_sgemm(CblasRowMajor, ta, tb, static_cast<blasint>(rows), static_cast<blasint>(cols), k,
                alpha, a + (ta == CblasTrans ? r : r * lda), lda,
                b + (tb == CblasTrans ? c0 * ldb : c0), ldb, beta, c + r * ldc + c0, ldc);
  }

  /// alpha op(A) op(B) over inner indices [k0, k0 + depth) only, into `out` (rows x cols,
  /// leading dimension `ldo`; C untouched). Neither A nor B transposed.
  void inner_block(std::size_t k0, std::size_t depth, std::size_t rows, std::size_t cols,
                   float* out, blasint ldo) const {
    const auto first = static_cast<std::ptrdiff_t>(k0);
    cblas_sgemm(CblasRowMajor, ta, tb, static_cast<blasint>(rows), static_cast<blasint>(cols),
                static_cast<blasint>(depth), alpha, a + first, lda, b + first * ldb, ldb, 0.0f,
                out, ldo);
  }
};

/// C = sum over parts of the inner-dimension blocks' products (+ beta C): each part's product
/// on its thread into a scratch matrix, then each thread sums a block of C's columns, adding
/// the parts in order (so the bits depend only on the shapes and the thread count).
void sum_inner_blocks(const Sgemm& call, std::size_t rows, std::size_t cols, std::size_t parts) {
  // Scratch of the calling thread, kept: grown once, then every step reuses it. Rows padded to
  // a cache line, so no two threads write one line.
  thread_local Matrix scratch;
  const std::size_t stride = (cols + 15) / 16 * 16;
  const auto height = static_cast<Eigen::Index>(rows * parts);
  if (scratch.rows() < height || scratch.cols() < static_cast<Eigen::Index>(stride))
    scratch.resize(std::max(scratch.rows(), height),
                   std::max(scratch.cols(), static_cast<Eigen::Index>(stride)));
  const auto ldo = static_cast<std::size_t>(scratch.cols());
  float* const partials = scratch.data();
  parallel_parts(parts, [&](std::size_t part, std::size_t) {
    const Block block = cut(static_cast<std::size_t>(call.k), parts, part);
    float* out = partials + part * rows * ldo;
    if (block.begin < block.end)
      call.inner_block(block.begin, block.end - block.begin, rows, cols, out,
                       static_cast<blasint>(ldo));
    else
      for (std::size_t r = 0; r < rows; ++r) std::fill_n(out + r * ldo, cols, 0.0f);
  });
  parallel_parts(parts, [&](std::size_t part, std::size_t) {
    const Block block = cut(cols, parts, part);
    for (std::size_t r = 0; r < rows; ++r) {
      float* __restrict c = call.c + r * static_cast<std::size_t>(call.ldc);
      const float* first = partials + r * ldo;
      for (std::size_t j = block.begin; j < block.end; ++j) {
        float sum = first[j];
        for (std::size_t q = 1; q < parts; ++q) sum += first[q * rows * ldo + j];
        // beta 0: C is not read (BLAS's rule; it may hold anything).
        c[j] = call.beta == 0.0f ? sum : sum + call.beta * c[j];
      }
    }
  });
}

CBLAS_TRANSPOSE to_cblas(Transpose t) { return t == Transpose::yes ? CblasTrans : CblasNoTrans; }

std::string shape(const char* name, Eigen::Index rows, Eigen::Index cols, Transpose t) {
  return std::string(name) + " " + std::to_string(rows) + "x" + std::to_string(cols) +
         (t == Transpose::yes ? " (transposed)" : "");
}

}  // namespace

void gemm(Transpose ta, Transpose tb, float alpha, const ConstMatrixRef& a, const ConstMatrixRef& b,
          float beta, MatrixRef c) {
  const bool at = ta == Transpose::yes, bt = tb == Transpose::yes;
  const Eigen::Index m = at ? a.cols() : a.rows();
  const Eigen::Index k = at ? a.rows() : a.cols();
  const Eigen::Index k_b = bt ? b.cols() : b.rows();
  const Eigen::Index n = bt ? b.rows() : b.cols();
  // Checked always: a few integer compares against microseconds of arithmetic.
  if (k != k_b || c.rows() != m || c.cols() != n)
    throw Error("gemm: shapes do not match: " + shape("A", a.rows(), a.cols(), ta) + ", " +
                shape("B", b.rows(), b.cols(), tb) + ", C " + std::to_string(c.rows()) + "x" +
                std::to_string(c.cols()) +
                "; C must be op(A).rows x op(B).cols and the inner dimensions equal");
  if (m == 0 || n == 0) return;
  if (k == 0) {  // BLAS needs leading dimensions >= 1; the product is empty
    if (beta == 0.0f)
      c.setZero();
    else
      c *= beta;
    return;
  }
  // Row-major: the leading dimension is the distance between rows, so blocks of a larger
  // buffer (a batch's first rows, a group of columns) are used in place.
  const Sgemm call{to_cblas(ta),
                   to_cblas(tb),
                   static_cast<blasint>(k),
                   alpha,
                   a.data(),
                   static_cast<blasint>(std::max<Eigen::Index>(1, a.outerStride())),
                   b.data(),
                   static_cast<blasint>(std::max<Eigen::Index>(1, b.outerStride())),
                   beta,
                   c.data(),
                   static_cast<blasint>(std::max<Eigen::Index>(1, c.outerStride()))};
  const auto rows = static_cast<std::size_t>(m), cols = static_cast<std::size_t>(n);
  const std::size_t parts =
      cut_parts(static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k));
  if (parts == 1) {
    call.block(0, rows, 0, cols);
    return;
  }
  // Which side to cut: the units of a layer, so that each thread keeps computing (and the
  // optimizer, cut alike, keeps updating) the same weights. In x W^T those are C's columns; in
  // dW = dy^T x (A transposed: the batch is the inner dimension) C's rows. In dy W they are
  // the inner dimension (W's rows): cutting C instead would have every thread read every row
  // of W, half of them from the other core's cache just after its optimizer wrote them.
  if (ta == Transpose::no && tb == Transpose::no &&
      static_cast<std::size_t>(k) >= kMinCutSide * parts) {
    sum_inner_blocks(call, rows, cols, parts);
    return;
  }
  // A side too short to give every thread a block of 16 falls back to the other.
  bool by_rows = ta == Transpose::yes;
  if ((by_rows ? rows : cols) < kMinCutSide * parts) by_rows = rows >= cols;
  parallel_parts(parts, [&](std::size_t part, std::size_t) {
    const Block block = cut(by_rows ? rows : cols, parts, part);
    if (block.begin == block.end) return;
    if (by_rows)
      call.block(block.begin, block.end - block.begin, 0, cols);
    else
      call.block(0, rows, block.begin, block.end - block.begin);
  });
}

void for_each_unit_block(std::size_t units, double macs, RangeFn body) {
  const std::size_t parts = cut_parts(macs);
  if (parts == 1 || units < kMinCutSide * parts) {
    body(0, units);
    return;
  }
  parallel_parts(parts, [&](std::size_t part, std::size_t) {
    const Block block = cut(units, parts, part);
    if (block.begin < block.end) body(block.begin, block.end);
  });
}

void set_gemm_threading(GemmThreading mode) {
  threading = mode;
  if (const int configured = configured_threads; configured > 0) set_threads(configured);
}

GemmThreading gemm_threading() { return threading; }

void set_threads(int threads) {
  if (threads < 1)
    throw Error("threads must be at least 1 (got " + std::to_string(threads) +
                "); this machine has " + std::to_string(hardware_threads()));
  const bool host = threading == GemmThreading::host;
  openblas_set_num_threads(host ? 1 : threads);
  set_pool_polling(host && threads > 1);
  configured_threads = threads;
}

int threads() {
  const int configured = configured_threads;
  return configured > 0 ? configured : openblas_get_num_threads();
}

int hardware_threads() {
  // The CPUs this process may run on (taskset, cgroups), not the machine's total.
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace ablate
