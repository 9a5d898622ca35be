// The host's cut of a GEMM across threads (nn/gemm_threading.hpp), the pool primitives it
// stands on (nn/parallel.hpp) and the optimizer's matching cut: exact blocks, deterministic, no
// writes outside C, nesting safe.
#include <cblas.h>
#include <dlfcn.h>

#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <limits>
#include <string>
#include <vector>

#include "ablate/random.hpp"
#include "ablate/tensor.hpp"
#include "nn/gemm_threading.hpp"
#include "nn/parallel.hpp"
#include "optim/optimizer.hpp"
#include "tensor_support.hpp"

using namespace ablate;

namespace {

using ablate::test::random_matrix;

/// Restores the thread count and GEMM threading a test changed.
struct ThreadsGuard {
  int threads_before = threads();
  GemmThreading threading_before = gemm_threading();
  ~ThreadsGuard() {
    set_gemm_threading(threading_before);
    set_threads(threads_before);
  }
};

struct Shape {
  int m, n, k;
};

/// The sgemm calls libablate makes while a SgemmLog is alive, seen by interposing cblas_sgemm
/// (below): how a product was really split, whatever rounding this CPU's kernel gives.
struct SgemmCall {
  int m, n, k;
};
std::array<SgemmCall, 64> sgemm_calls;
std::atomic<std::size_t> sgemm_count{0};
std::atomic<bool> sgemm_logging{false};

struct SgemmLog {
  SgemmLog() {
    sgemm_count = 0;
    sgemm_logging = true;
  }
  ~SgemmLog() { sgemm_logging = false; }
  std::vector<SgemmCall> calls() const {
    const std::size_t n = std::min(sgemm_count.load(), sgemm_calls.size());
    return {sgemm_calls.begin(), sgemm_calls.begin() + static_cast<std::ptrdiff_t>(n)};
  }
};

}  // namespace

// The executable's definition comes first in the dynamic linker's lookup, so libablate's calls
// land here; RTLD_NEXT is OpenBLAS's. Logs without allocating (pool threads call it too).
extern "C" void cblas_sgemm(OPENBLAS_CONST enum CBLAS_ORDER order,
                            OPENBLAS_CONST enum CBLAS_TRANSPOSE ta,
                            OPENBLAS_CONST enum CBLAS_TRANSPOSE tb, OPENBLAS_CONST blasint m,
                            OPENBLAS_CONST blasint n, OPENBLAS_CONST blasint k,
                            OPENBLAS_CONST float alpha, OPENBLAS_CONST float* a,
                            OPENBLAS_CONST blasint lda, OPENBLAS_CONST float* b,
                            OPENBLAS_CONST blasint ldb, OPENBLAS_CONST float beta, float* c,
                            OPENBLAS_CONST blasint ldc) {
  using Sgemm = decltype(&cblas_sgemm);
  static const auto real = reinterpret_cast<Sgemm>(dlsym(RTLD_NEXT, "cblas_sgemm"));
  if (sgemm_logging)
    if (const std::size_t i = sgemm_count++; i < sgemm_calls.size())
      sgemm_calls[i] = {static_cast<int>(m), static_cast<int>(n), static_cast<int>(k)};
  real(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

TEST_CASE("cut() splits a range into aligned blocks that cover it once", "[nn][tensor]") {
  for (std::size_t count : {0u, 1u, 15u, 16u, 33u, 256u, 784u, 1000u}) {
    for (std::size_t parts : {1u, 2u, 3u, 4u}) {
      std::size_t next = 0;
      for (std::size_t part = 0; part < parts; ++part) {
        const Block block = cut(count, parts, part);
        INFO("count " << count << " parts " << parts << " part " << part);
        CHECK(block.begin == next);
        CHECK(block.begin <= block.end);
        if (block.end < count) CHECK(block.end % 16 == 0);
        next = block.end;
      }
      CHECK(next == count);
    }
  }
}

TEST_CASE("parallel_parts runs every part once, and nested loops run inline", "[nn][tensor]") {
  const ThreadsGuard guard;
  set_threads(2);
  std::vector<int> runs(5, 0);
  std::vector<std::size_t> inner(5, 0);
  parallel_parts(runs.size(), [&](std::size_t part, std::size_t end) {
    REQUIRE(end == part + 1);
    ++runs[part];
    // A loop inside a job must not wait for the pool that runs it.
    parallel_for(1000, 0, [&](std::size_t b, std::size_t e) { inner[part] += e - b; });
  });
  CHECK(runs == std::vector<int>(5, 1));
  CHECK(inner == std::vector<std::size_t>(5, 1000));
}

TEST_CASE("a GEMM cut across threads matches the product and is deterministic",
          "[nn][tensor]") {
  const ThreadsGuard guard;
  set_gemm_threading(GemmThreading::host);
  Rng rng(7);
  // Large enough to be cut (>= 2^18 multiply-adds); C's rows or columns are cut depending on
  // the transposes, with sides that do not divide evenly and one too short to cut.
  for (const Shape shape : {Shape{32, 256, 784}, Shape{250, 100, 33}, Shape{8, 900, 80}}) {
    for (Transpose ta : {Transpose::no, Transpose::yes}) {
      for (Transpose tb : {Transpose::no, Transpose::yes}) {
        const auto [m, n, k] = shape;
        Matrix a_buffer = random_matrix(k + m + 3, k + m + 3, rng);
        Matrix b_buffer = random_matrix(k + n + 3, k + n + 3, rng);
        const Matrix c_start = random_matrix(m + 4, n + 5, rng);
        const auto a =
            ta == Transpose::no ? a_buffer.block(1, 2, m, k) : a_buffer.block(1, 2, k, m);
        const auto b =
            tb == Transpose::no ? b_buffer.block(3, 1, k, n) : b_buffer.block(3, 1, n, k);
        const Matrix op_a = ta == Transpose::no ? Matrix(a) : Matrix(a.transpose());
        const Matrix op_b = tb == Transpose::no ? Matrix(b) : Matrix(b.transpose());
        const Matrix expected = 0.5f * op_a * op_b + 2.0f * c_start.block(2, 3, m, n);
        INFO("m " << m << " n " << n << " k " << k << " ta " << (ta == Transpose::yes)
                  << " tb " << (tb == Transpose::yes));
        std::vector<Matrix> results;
        for (int t : {1, 2, 2, 3}) {
          set_threads(t);
          Matrix c = c_start;
          gemm(ta, tb, 0.5f, a, b, 2.0f, c.block(2, 3, m, n));
          CHECK(c.block(2, 3, m, n).isApprox(expected, 1e-4f));
          Matrix outside = c - c_start;
          outside.block(2, 3, m, n).setZero();
          CHECK(outside.isZero(0.0f));
          results.push_back(c);
        }
        CHECK(results[1] == results[2]);  // same thread count: the same bits
      }
    }
  }
}

TEST_CASE("dy W cut along the layer's units sums its parts and never reads C at beta 0",
          "[nn][tensor]") {
  const ThreadsGuard guard;
  set_gemm_threading(GemmThreading::host);
  Rng rng(5);
  // dx = dpre W of a 256-unit layer over 784 inputs: cut along the 256 units (each thread
  // reads only the rows of W it updates), the partial products summed.
  const Matrix dpre = random_matrix(32, 256, rng), w = random_matrix(256, 784, rng);
  const Matrix expected = dpre * w;
  std::vector<Matrix> results;
  for (int t : {1, 2, 2, 3}) {
    set_threads(t);
    Matrix dx = Matrix::Constant(32, 784, std::numeric_limits<float>::quiet_NaN());
    const SgemmLog log;
    gemm(Transpose::no, Transpose::no, 1.0f, dpre, w, 0.0f, dx);
    const std::vector<SgemmCall> calls = log.calls();
    INFO("threads " << t);
    REQUIRE(dx.allFinite());  // beta 0: C's NaNs are not read
    CHECK(dx.isApprox(expected, 1e-5f));
    results.push_back(dx);
    // One sgemm per thread, each the whole of C over its own block of the 256 units.
    REQUIRE(calls.size() == static_cast<std::size_t>(t));
    int depth = 0;
    for (const SgemmCall& call : calls) {
      CHECK(call.m == 32);
      CHECK(call.n == 784);
      CHECK(call.k % 16 == 0);
      depth += call.k;
    }
    CHECK(depth == 256);
    if (t > 1) CHECK(calls[0].k < 256);
  }
  CHECK(results[1] == results[2]);  // same thread count: the same bits
}

TEST_CASE("gemm called from inside a parallel job computes on its own thread", "[nn][tensor]") {
  const ThreadsGuard guard;
  set_threads(2);
  Rng rng(3);
  const Matrix a = random_matrix(64, 300, rng), b = random_matrix(300, 64, rng);
  const Matrix expected = a * b;
  std::vector<Matrix> c(4, Matrix::Zero(64, 64));
  parallel_parts(c.size(), [&](std::size_t part, std::size_t) {
    gemm(Transpose::no, Transpose::no, 1.0f, a, b, 0.0f, c[part]);
  });
  for (const Matrix& product : c) CHECK(product.isApprox(expected, 1e-4f));
}

TEST_CASE("OpenBLAS's threading gives the same product", "[nn][tensor]") {
  const ThreadsGuard guard;
  Rng rng(11);
  const Matrix a = random_matrix(32, 784, rng), w = random_matrix(256, 784, rng);
  Matrix host(32, 256), blas(32, 256);
  set_threads(2);
  set_gemm_threading(GemmThreading::host);
  gemm(Transpose::no, Transpose::yes, 1.0f, a, w, 0.0f, host);
  set_gemm_threading(GemmThreading::blas);
  gemm(Transpose::no, Transpose::yes, 1.0f, a, w, 0.0f, blas);
  CHECK(host.isApprox(blas, 1e-5f));
  CHECK(host.isApprox(Matrix(a * w.transpose()), 1e-4f));
}

TEST_CASE("an optimizer step cut across threads by rows or elements equals the 1-thread step",
          "[nn][optim]") {
  const ThreadsGuard guard;
  // Large enough to be cut: a matrix with rows to share, one with too few (cut by elements),
  // a single row; one of them masked.
  const std::vector<std::pair<int, int>> shapes{{300, 200}, {10, 5000}, {1, 40000}};
  for (const std::string name : {"sgd", "adamw"}) {
    std::vector<std::vector<Matrix>> results;
    for (int t : {1, 2}) {
      set_threads(t);
      Rng rng(21);
      std::vector<Parameter> params(shapes.size());
      std::vector<Parameter*> pointers;
      for (std::size_t i = 0; i < shapes.size(); ++i) {
        params[i].name = std::string(1, static_cast<char>('a' + i));  // unique names
        params[i].value = random_matrix(shapes[i].first, shapes[i].second, rng);
        params[i].grad = random_matrix(shapes[i].first, shapes[i].second, rng);
        pointers.push_back(&params[i]);
      }
      params[1].mask = (random_matrix(10, 5000, rng).array() > 0.0f).cast<float>();
      params[1].value.array() *= params[1].mask.array();  // masked out: 0, and must stay 0
      auto optimizer = make_optimizer(Params({{"optimizer", name},
                                              {"momentum", 0.9},
                                              {"nesterov", false},
                                              {"weight_decay", 0.01},
                                              {"beta1", 0.9},
                                              {"beta2", 0.999},
                                              {"eps", 1e-8}}),
                                       pointers);
      for (int step = 0; step < 3; ++step) optimizer->step(0.01f);
      std::vector<Matrix> values;
      for (const Parameter& p : params) values.push_back(p.value);
      results.push_back(values);
    }
    INFO(name);
    for (std::size_t i = 0; i < shapes.size(); ++i) CHECK(results[0][i] == results[1][i]);
    CHECK((results[0][1].array() != 0.0f).count() < 5000 * 10);  // the mask was applied
  }
}
