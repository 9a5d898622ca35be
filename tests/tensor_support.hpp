#pragma once
// Test inputs for the numeric tests: seeded random matrices.
#include "ablate/random.hpp"
#include "ablate/tensor.hpp"

namespace ablate::test {

/// A rows x cols matrix of normal draws times `scale`, from `rng`.
inline Matrix random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng, double scale = 1.0) {
  Matrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i)
    m.data()[i] = static_cast<float>(scale * rng.normal());
  return m;
}

}  // namespace ablate::test
