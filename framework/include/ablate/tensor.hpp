#pragma once
// float32 tensors: row-major Eigen matrices (a batch is rows x features) and GEMM through
// OpenBLAS. Weights follow PyTorch's nn.Linear layout (out x in) so checkpoints match it.
#include <Eigen/Core>
#include <cstdint>

namespace ablate {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::Matrix<float, 1, Eigen::Dynamic, Eigen::RowMajor>;
/// A view of a matrix or of its first rows (a batch smaller than the buffer).
using MatrixRef = Eigen::Ref<Matrix>;
using ConstMatrixRef = Eigen::Ref<const Matrix>;

enum class Transpose { no, yes };

/// C = alpha * op(A) * op(B) + beta * C (cblas_sgemm). Shapes are checked in debug builds.
void gemm(Transpose ta, Transpose tb, float alpha, const ConstMatrixRef& a, const ConstMatrixRef& b,
          float beta, MatrixRef c);

/// Threads used by BLAS and by the host's own parallel loops.
void set_threads(int threads);
int threads();
/// Cores on this machine.
int hardware_threads();

}  // namespace ablate
