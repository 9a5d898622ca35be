// ablate/tensor.hpp: gemm on blocks of larger buffers, every transpose, against Eigen's product.
#include <catch2/catch.hpp>

#include "ablate/error.hpp"
#include "ablate/random.hpp"
#include "ablate/tensor.hpp"
#include "tensor_support.hpp"

using namespace ablate;

namespace {
using ablate::test::random_matrix;
}  // namespace

TEST_CASE("gemm computes alpha op(A) op(B) + beta C on blocks of larger buffers", "[tensor]") {
  Rng rng(1);
  for (Transpose ta : {Transpose::no, Transpose::yes}) {
    for (Transpose tb : {Transpose::no, Transpose::yes}) {
      const int m = 5, n = 3, k = 4;
      // Operands live inside larger buffers, so each leading dimension differs from its width.
      Matrix a_buffer = random_matrix(9, 9, rng), b_buffer = random_matrix(9, 9, rng);
      Matrix c_buffer = random_matrix(8, 8, rng);
      const auto a = ta == Transpose::no ? a_buffer.block(1, 2, m, k) : a_buffer.block(1, 2, k, m);
      const auto b = tb == Transpose::no ? b_buffer.block(0, 1, k, n) : b_buffer.block(0, 1, n, k);
      const Matrix op_a = ta == Transpose::no ? Matrix(a) : Matrix(a.transpose());
      const Matrix op_b = tb == Transpose::no ? Matrix(b) : Matrix(b.transpose());
      const Matrix c_before = c_buffer;
      const Matrix expected = 0.5f * op_a * op_b + 2.0f * c_buffer.block(2, 3, m, n);
      gemm(ta, tb, 0.5f, a, b, 2.0f, c_buffer.block(2, 3, m, n));
      INFO("ta " << (ta == Transpose::yes) << " tb " << (tb == Transpose::yes));
      CHECK(c_buffer.block(2, 3, m, n).isApprox(expected, 1e-5f));
      // Outside the block nothing moved.
      Matrix outside = c_buffer - c_before;
      outside.block(2, 3, m, n).setZero();
      CHECK(outside.isZero(0.0f));
    }
  }
}

TEST_CASE("gemm refuses mismatched shapes and handles empty products", "[tensor]") {
  Matrix a(2, 3), b(4, 2), c(2, 2);
  a.setOnes();
  b.setOnes();
  REQUIRE_THROWS_WITH(gemm(Transpose::no, Transpose::no, 1, a, b, 0, c),
                      Catch::Contains("A 2x3") && Catch::Contains("B 4x2"));
  Matrix empty_a(2, 0), empty_b(0, 2);
  c.setConstant(3);
  gemm(Transpose::no, Transpose::no, 1, empty_a, empty_b, 0.5f, c);
  CHECK(c.isApproxToConstant(1.5f));
}

TEST_CASE("threads are set for BLAS and read back", "[tensor]") {
  const int before = threads();
  CHECK(hardware_threads() >= 1);
  set_threads(1);
  CHECK(threads() == 1);
  set_threads(before);
  CHECK(threads() == before);
  REQUIRE_THROWS_AS(set_threads(0), Error);
}
