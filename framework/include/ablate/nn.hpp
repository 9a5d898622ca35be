#pragma once
// Building blocks of the gradient engine, for topology plugins: dense layers (optionally
// masked), activations, dropout, an MLP block, and the softmax cross-entropy loss.
// Buffers are sized once by reserve(max_batch); forward/backward then never allocate.
// Shapes: a batch is rows x features; Dense weight is out x in (PyTorch's nn.Linear layout).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ablate/model.hpp"
#include "ablate/random.hpp"
#include "ablate/tensor.hpp"

namespace ablate::nn {

enum class Activation { identity, relu, tanh, gelu };
Activation parse_activation(std::string_view name);  // throws ablate::Error listing choices
const char* to_string(Activation a);

/// y = act(x W^T + b). W: out x in, b: 1 x out. Initialised as PyTorch's nn.Linear
/// (uniform in +-1/sqrt(in), the weights row by row, then the biases). With a mask (all ones
/// at first; the topology edits it and calls apply_mask()), absent connections stay exactly 0.
/// Parameters are named "<name>.weight" and "<name>.bias".
class Dense {
 public:
  Dense(std::string name, int in, int out, Activation act, Rng& rng, bool masked = false);

  void reserve(int max_batch);
  /// x: n x in -> output(): n x out. A batch larger than reserved grows the buffers (allocates).
  void forward(const ConstMatrixRef& x);
  /// dy: n x out (dLoss/doutput). Overwrites weight.grad and bias.grad; if want_dx, also
  /// input_grad(): n x in.
  void backward(const ConstMatrixRef& x, const ConstMatrixRef& dy, bool want_dx);

  ConstMatrixRef output() const { return out_.topRows(rows_); }
  MatrixRef output() { return out_.topRows(rows_); }
  /// x W^T + b. A linear layer keeps no separate copy: it is output().
  ConstMatrixRef preactivation() const { return preactivation_buffer().topRows(rows_); }
  ConstMatrixRef input_grad() const { return dx_.topRows(rows_); }
  /// Writable, for a layer below that scales it in place (dropout's backward).
  MatrixRef input_grad() { return dx_.topRows(rows_); }
  int rows() const { return rows_; }
  int in() const { return in_; }
  int out() const { return out_features_; }
  Activation activation() const { return act_; }

  /// Only these units (output rows of W, and their biases) keep gradients in backward();
  /// an empty span freezes the whole layer. Indices out of range throw ablate::Error.
  void set_trainable_units(std::span<const int> units);
  void set_all_trainable();
  bool all_trainable() const { return trainable_.empty(); }
  /// Re-applies the mask to the weights (after the mask changed).
  void apply_mask();

  Parameter weight, bias;

 private:
  int in_, out_features_;
  Activation act_;
  int rows_ = 0;
  Matrix pre_, out_, dpre_, dx_;
  std::vector<std::uint8_t> trainable_;  // per unit; empty: all
  int trainable_count_ = 0;

  const Matrix& preactivation_buffer() const { return act_ == Activation::identity ? out_ : pre_; }
  void grow(int rows);
};

/// Inverted dropout (Srivastava et al. 2014, scaled at training time as PyTorch does): in
/// training each value is zeroed with probability p (one Rng::uniform_float() draw per value,
/// row by row) and the rest are scaled by 1/(1-p); in evaluation it does nothing.
class Dropout {
 public:
  /// p in [0, 1); anything else throws ablate::Error.
  explicit Dropout(double p);
  void reserve(int max_batch, int features);
  /// In place on x (n x features).
  void forward(MatrixRef x, Mode mode, Rng& rng);
  /// In place on dy.
  void backward(MatrixRef dy) const;
  double p() const { return p_; }

 private:
  double p_;
  bool active_ = false;
  Matrix mask_;
};

/// A stack of Dense layers: sizes = {in, h1, ..., out}; hidden layers use `act` (and
/// dropout if > 0), the last layer is linear. Parameters are named "<prefix>layerK.weight".
class Mlp {
 public:
  struct Options {
    std::vector<int> sizes;
    Activation act = Activation::relu;
    double dropout = 0.0;
    bool masked = false;
    std::string prefix;  // "" or "expert3."
    /// Output layers, one per task (multi-head continual learning); select_head() picks the
    /// one in use. With more than one, head t's parameters are "<prefix>layerK.head<t>.*".
    int heads = 1;
  };
  Mlp(const Options& options, Rng& rng);

  void reserve(int max_batch);
  void forward(const ConstMatrixRef& x, Mode mode, Rng& rng);
  ConstMatrixRef output() const { return output_layer().output(); }
  /// x: the batch forward() saw; dy: n x out. Overwrites all grads; input_grad() valid if
  /// want_dx.
  void backward(const ConstMatrixRef& x, const ConstMatrixRef& dy, bool want_dx);
  ConstMatrixRef input_grad() const { return layers_.front().input_grad(); }

  /// Every head's parameters, the inactive ones included (their grads stay zero).
  std::vector<Parameter*> parameters();
  /// The hidden layers, then the output layer of each head.
  std::vector<Dense>& layers() { return layers_; }
  const std::vector<Dense>& layers() const { return layers_; }
  /// Makes head `head` the output layer; the others are frozen with zero gradients.
  void select_head(int head);
  int heads() const { return heads_; }

  /// One unit layer per hidden layer, then the active head's outputs; names "<prefix>layerK".
  std::vector<UnitLayer> unit_layers(int first_index = 0) const;
  /// Hidden units fire when their preactivation is > 0; output units when they are the
  /// row's argmax. Adds +1/-1 per row into `sums` (layout of unit_layers()).
  void accumulate_unit_sums(std::span<std::int64_t> sums) const;
  /// `selection` in this block's own layer numbering (first_index = 0).
  void set_trainable(const UnitSelection& selection);

 private:
  std::vector<Dense> layers_;       // hidden layers, then one output layer per head
  std::vector<Dropout> dropouts_;  // after each hidden layer; empty without dropout
  int hidden_ = 0;
  int heads_ = 1;
  int head_ = 0;

  std::size_t depth() const { return static_cast<std::size_t>(hidden_) + 1; }
  /// Layer k of the active network: a hidden layer, or the active head for k == hidden_.
  Dense& layer(std::size_t k) { return layers_[k + (k == depth() - 1 ? head_ : 0)]; }
  const Dense& layer(std::size_t k) const { return layers_[k + (k == depth() - 1 ? head_ : 0)]; }
  const Dense& output_layer() const { return layer(depth() - 1); }
};

/// Mean softmax cross-entropy over the rows. Writes probs (n x k) and dlogits = (p - onehot)/n.
/// Returns the mean loss (double accumulation, from the log-partition: no log of an underflowed
/// probability). A label outside [0, k) throws ablate::Error.
double softmax_cross_entropy(const ConstMatrixRef& logits, std::span<const std::int32_t> labels,
                             MatrixRef probs, MatrixRef dlogits);
/// Row-wise softmax.
void softmax(const ConstMatrixRef& logits, MatrixRef probs);
/// Row-wise argmax; ties go to the first maximum.
void argmax(const ConstMatrixRef& scores, std::span<std::int32_t> out);

/// A shuffled batch: row i of `out` = row rows[i] of `source`, for i < rows.size(), copied on
/// threads() threads (the copy waits on memory, so two cores fetch nearly twice as fast).
/// Out-of-range rows or a too small `out` throw ablate::Error.
void gather_rows(const ConstMatrixRef& source, std::span<const std::uint32_t> rows, MatrixRef out);

}  // namespace ablate::nn
