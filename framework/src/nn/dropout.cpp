// ablate/nn.hpp: inverted dropout. The mask is drawn once per forward and kept for backward.
#include <string>

#include "ablate/error.hpp"
#include "ablate/nn.hpp"

namespace ablate::nn {

Dropout::Dropout(double p) : p_(p) {
  if (!(p >= 0.0 && p < 1.0))
    throw Error("dropout probability must be in [0, 1), got " + std::to_string(p));
}

void Dropout::reserve(int max_batch, int features) { mask_.resize(max_batch, features); }

void Dropout::forward(MatrixRef x, Mode mode, Rng& rng) {
  active_ = mode == Mode::train && p_ > 0.0;
  if (!active_) return;
  if (mask_.rows() < x.rows() || mask_.cols() != x.cols()) mask_.resize(x.rows(), x.cols());
  const auto drop = static_cast<float>(p_);
  const auto keep_scale = static_cast<float>(1.0 / (1.0 - p_));
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    float* __restrict m = mask_.row(r).data();
    float* __restrict v = x.row(r).data();
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      m[j] = rng.uniform_float() < drop ? 0.0f : keep_scale;
      v[j] *= m[j];
    }
  }
}

void Dropout::backward(MatrixRef dy) const {
  if (!active_) return;
  if (dy.cols() != mask_.cols() || dy.rows() > mask_.rows())
    throw Error("dropout backward: the gradient's shape differs from the forward batch's");
  dy.array() *= mask_.topRows(dy.rows()).array();
}

}  // namespace ablate::nn
