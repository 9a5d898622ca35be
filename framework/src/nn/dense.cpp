// ablate/nn.hpp: the dense layer. Each direction is one GEMM per product plus a single fused
// pass over the batch's activations (bias and activation forward; activation derivative and
// bias gradient backward), so the step's cost is as close to its GEMMs as it can be. At more
// than one thread both run block by block of units, each block's pass on the thread that
// computes its product (nn/gemm_threading.hpp).
#include <cmath>
#include <numbers>
#include <string>
#include <unsupported/Eigen/SpecialFunctions>

#include "ablate/error.hpp"
#include "ablate/nn.hpp"
#include "nn/gemm_threading.hpp"

namespace ablate::nn {
namespace {

constexpr float kInvSqrt2 = static_cast<float>(std::numbers::sqrt2 / 2);
constexpr float kInvSqrt2Pi = static_cast<float>(std::numbers::inv_sqrtpi / std::numbers::sqrt2);

/// Multiply-adds of one of a layer's products: what gemm() weighs to decide whether to cut it.
double macs(int rows, int in, int out) {
  return static_cast<double>(rows) * static_cast<double>(in) * static_cast<double>(out);
}

/// Units [begin, end) of a layer as Eigen's first index and count.
struct Units {
  Eigen::Index first, count;
};
Units units_of(std::size_t begin, std::size_t end) {
  return {static_cast<Eigen::Index>(begin), static_cast<Eigen::Index>(end - begin)};
}

std::string dims(Eigen::Index rows, Eigen::Index cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

/// out = act(pre), pre already holding x W^T + b.
void activate(Activation act, const ConstMatrixRef& pre_block, MatrixRef out_block) {
  const auto pre = pre_block.array();
  auto out = out_block.array();
  switch (act) {
    case Activation::identity:
      break;  // output is the preactivation buffer itself
    case Activation::relu:
      out = pre.max(0.0f);
      break;
    case Activation::tanh:
      out = pre.tanh();
      break;
    // Exact GELU, as PyTorch's default: x * Phi(x) = x/2 (1 + erf(x / sqrt 2)).
    case Activation::gelu:
      out = 0.5f * pre * (1.0f + (pre * kInvSqrt2).erf());
      break;
  }
}

/// dpre = dy * act'(pre) and bias_grad = column sums of dpre, in one pass over the rows.
/// Derivatives are taken from the preactivation only, so dropout may scale the output in place.
void activation_backward(Activation act, const ConstMatrixRef& pre, const ConstMatrixRef& dy,
                         MatrixRef dpre, float* __restrict sums) {
  const auto rows = dy.rows();
  const auto cols = dy.cols();
  std::fill(sums, sums + cols, 0.0f);
  for (Eigen::Index r = 0; r < rows; ++r) {
    const float* __restrict p = pre.row(r).data();
    const float* __restrict g = dy.row(r).data();
    float* __restrict d = dpre.row(r).data();
    switch (act) {
      case Activation::identity:  // not reached: a linear layer uses dy as it is
      case Activation::relu:
        for (Eigen::Index j = 0; j < cols; ++j) d[j] = p[j] > 0.0f ? g[j] : 0.0f;
        break;
      case Activation::tanh: {
        const auto t = Eigen::Map<const Vector>(p, cols).array().tanh();
        Eigen::Map<Vector>(d, cols).array() =
            Eigen::Map<const Vector>(g, cols).array() * (1.0f - t * t);
        break;
      }
      case Activation::gelu: {
        // d/dx x Phi(x) = Phi(x) + x phi(x).
        const auto x = Eigen::Map<const Vector>(p, cols).array();
        const auto cdf = 0.5f * (1.0f + (x * kInvSqrt2).erf());
        const auto pdf = kInvSqrt2Pi * (-0.5f * x * x).exp();
        Eigen::Map<Vector>(d, cols).array() =
            Eigen::Map<const Vector>(g, cols).array() * (cdf + x * pdf);
        break;
      }
    }
    for (Eigen::Index j = 0; j < cols; ++j) sums[j] += d[j];
  }
}

void column_sums(const ConstMatrixRef& m, float* __restrict sums) {
  std::fill(sums, sums + m.cols(), 0.0f);
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    const float* __restrict row = m.row(r).data();
    for (Eigen::Index j = 0; j < m.cols(); ++j) sums[j] += row[j];
  }
}

}  // namespace

Dense::Dense(std::string name, int in, int out, Activation act, Rng& rng, bool masked)
    : in_(in), out_features_(out), act_(act) {
  if (in < 1 || out < 1)
    throw Error("dense layer '" + name + "' needs at least one input and one output (got " +
                std::to_string(in) + " -> " + std::to_string(out) + ")");
  weight.name = name + ".weight";
  bias.name = name + ".bias";
  // PyTorch's nn.Linear: kaiming_uniform(a = sqrt 5) for W and the same bound for b.
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  auto draw = [&] { return static_cast<float>((2.0 * rng.uniform() - 1.0) * bound); };
  weight.value.resize(out, in);
  for (Eigen::Index i = 0; i < weight.value.size(); ++i) weight.value.data()[i] = draw();
  bias.value.resize(1, out);
  for (Eigen::Index i = 0; i < bias.value.size(); ++i) bias.value.data()[i] = draw();
  weight.grad = Matrix::Zero(out, in);
  bias.grad = Matrix::Zero(1, out);
  if (masked) weight.mask = Matrix::Ones(out, in);
}

void Dense::grow(int rows) {
  if (act_ != Activation::identity) pre_.resize(rows, out_features_);
  out_.resize(rows, out_features_);
}

void Dense::reserve(int max_batch) {
  if (max_batch < 1) throw Error("reserve needs a batch of at least 1 row");
  grow(max_batch);
  if (act_ != Activation::identity) dpre_.resize(max_batch, out_features_);
  dx_.resize(max_batch, in_);
}

void Dense::forward(const ConstMatrixRef& x) {
  if (x.cols() != in_)
    throw Error("dense layer '" + weight.name + "' takes " + std::to_string(in_) +
                " features per row, got a batch of " + dims(x.rows(), x.cols()));
  const int rows = static_cast<int>(x.rows());
  if (rows > out_.rows()) grow(rows);
  rows_ = rows;
  Matrix& pre = act_ == Activation::identity ? out_ : pre_;
  // Block by block of units, each on the thread whose cache holds it (as gemm() would cut the
  // product, so the sgemm calls are the same): bias, product, activation. The bias is written
  // first and the product added to it (beta = 1): OpenBLAS would otherwise spend a pass
  // zeroing C for beta = 0.
  const double size = macs(rows, in_, out_features_);
  for_each_unit_block(out_features_, size, [&](std::size_t begin, std::size_t end) {
    const auto [first, units] = units_of(begin, end);
    auto block = pre.topRows(rows).middleCols(first, units);
    block.rowwise() = bias.value.row(0).segment(first, units);
    gemm(Transpose::no, Transpose::yes, 1.0f, x, weight.value.middleRows(first, units), 1.0f,
         block);
    if (act_ != Activation::identity)
      activate(act_, block, out_.topRows(rows).middleCols(first, units));
  });
}

void Dense::backward(const ConstMatrixRef& x, const ConstMatrixRef& dy, bool want_dx) {
  if (dy.rows() != rows_ || dy.cols() != out_features_ || x.rows() != rows_ || x.cols() != in_)
    throw Error("dense layer '" + weight.name + "': backward needs the forward batch's input (" +
                dims(rows_, in_) + ") and a gradient of its output (" + dims(rows_, out_features_) +
                "), got " + dims(x.rows(), x.cols()) + " and " + dims(dy.rows(), dy.cols()));
  const bool linear = act_ == Activation::identity;
  if (!linear && dpre_.rows() < rows_) dpre_.resize(rows_, out_features_);
  const ConstMatrixRef dpre = linear ? dy : ConstMatrixRef(dpre_.topRows(rows_));
  const bool weights_train = trainable_.empty() || trainable_count_ > 0;
  // Block by block of units, on the thread that computed them forward: their derivative and
  // bias gradient, then their rows of dW (cut as gemm() would cut dW).
  const double size = macs(rows_, in_, out_features_);
  for_each_unit_block(out_features_, size, [&](std::size_t begin, std::size_t end) {
    const auto [first, units] = units_of(begin, end);
    float* bias_grad = bias.grad.data() + first;
    if (linear)
      column_sums(dy.middleCols(first, units), bias_grad);
    else
      activation_backward(act_, pre_.topRows(rows_).middleCols(first, units),
                          dy.middleCols(first, units),
                          dpre_.topRows(rows_).middleCols(first, units), bias_grad);
    if (!weights_train) return;
    auto grad = weight.grad.middleRows(first, units);
    gemm(Transpose::yes, Transpose::no, 1.0f, dpre.middleCols(first, units), x, 0.0f, grad);
    if (weight.has_mask()) grad.array() *= weight.mask.middleRows(first, units).array();
    if (!trainable_.empty())  // frozen units of the block: no gradient
      for (Eigen::Index unit = first; unit < first + units; ++unit) {
        if (trainable_[static_cast<std::size_t>(unit)]) continue;
        weight.grad.row(unit).setZero();
        bias.grad(0, unit) = 0.0f;
      }
  });

  if (!weights_train) {  // the whole layer is frozen: no product needed
    weight.grad.setZero();
    bias.grad.setZero();
  }
  if (want_dx) {
    if (dx_.rows() < rows_) dx_.resize(rows_, in_);
    gemm(Transpose::no, Transpose::no, 1.0f, dpre, weight.value, 0.0f, dx_.topRows(rows_));
  }
}

void Dense::set_trainable_units(std::span<const int> units) {
  trainable_.assign(static_cast<std::size_t>(out_features_), 0);
  trainable_count_ = 0;
  for (int unit : units) {
    if (unit < 0 || unit >= out_features_)
      throw Error("unit " + std::to_string(unit) + " does not exist in layer '" + weight.name +
                  "' (units 0.." + std::to_string(out_features_ - 1) + ")");
    auto& flag = trainable_[static_cast<std::size_t>(unit)];
    trainable_count_ += flag == 0;
    flag = 1;
  }
  // For the optimizer: a frozen unit's weights and bias must not move at all (zero gradients
  // alone would still let momentum and weight decay move them).
  weight.frozen.setZero(out_features_, in_);
  bias.frozen.setZero(1, out_features_);
  for (int unit = 0; unit < out_features_; ++unit) {
    if (trainable_[static_cast<std::size_t>(unit)]) continue;
    weight.frozen.row(unit).setOnes();
    bias.frozen(0, unit) = 1.0f;
  }
}

void Dense::set_all_trainable() {
  trainable_.clear();
  trainable_count_ = 0;
  weight.frozen.resize(0, 0);
  bias.frozen.resize(0, 0);
}

void Dense::apply_mask() {
  if (!weight.has_mask()) return;
  weight.value.array() *= weight.mask.array();
  weight.grad.array() *= weight.mask.array();
}

}  // namespace ablate::nn
