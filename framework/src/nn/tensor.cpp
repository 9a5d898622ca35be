// ablate/tensor.hpp: GEMM through OpenBLAS's cblas_sgemm on row-major views, and the thread
// count shared by BLAS and the host's own loops.
#include "ablate/tensor.hpp"

#include <cblas.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>

#include "ablate/error.hpp"

namespace ablate {
namespace {

std::atomic<int> configured_threads{0};  // 0: not set yet (BLAS's own default)

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
  cblas_sgemm(CblasRowMajor, to_cblas(ta), to_cblas(tb), static_cast<blasint>(m),
              static_cast<blasint>(n), static_cast<blasint>(k), alpha, a.data(),
              static_cast<blasint>(std::max<Eigen::Index>(1, a.outerStride())), b.data(),
              static_cast<blasint>(std::max<Eigen::Index>(1, b.outerStride())), beta, c.data(),
              static_cast<blasint>(std::max<Eigen::Index>(1, c.outerStride())));
}

void set_threads(int threads) {
  if (threads < 1)
    throw Error("threads must be at least 1 (got " + std::to_string(threads) +
                "); this machine has " + std::to_string(hardware_threads()));
  openblas_set_num_threads(threads);
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
