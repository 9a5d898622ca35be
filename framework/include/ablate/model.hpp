#pragma once
// What a topology builds: a Model. Every model offers the unit view (DESIGN.md, "Unit
// statistics") that orderers and capacity laws work on; a GradientModel adds forward/backward
// over named parameters for the gradient engine.
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ablate/data.hpp"
#include "ablate/random.hpp"
#include "ablate/state.hpp"
#include "ablate/tensor.hpp"
#include "ablate/error.hpp"

namespace ablate {

/// A layer of units: neurons of a hidden layer, experts, router outputs, hashtrons.
struct UnitLayer {
  std::string name;
  int size = 0;
  std::vector<int> inputs;  // indices of the unit layers feeding this one; empty: the data
};

/// A unit by position: layer index into unit_layers(), index within the layer.
struct UnitId {
  int layer = 0;
  int index = 0;
  auto operator<=>(const UnitId&) const = default;
};

/// Which units may change during a stage. `all` overrides the lists.
struct UnitSelection {
  bool all = true;
  std::vector<UnitId> units;
  static UnitSelection everything() { return {}; }
};

/// Extra figures a model reports (routing accuracy, expert utilization, connection count).
using Figures = std::map<std::string, double>;

enum class Mode { train, eval };

class ABLATE_API Model {
 public:
  virtual ~Model() = default;

  /// Unit layers in an order where inputs come first; the last is the output layer.
  virtual std::vector<UnitLayer> unit_layers() const = 0;

  /// Class predictions for a batch of rows (argmax for gradient models).
  virtual void predict(const ConstMatrixRef& x, std::span<std::int32_t> out) = 0;

  /// Whether capacity means anything to this model (DESIGN.md: premodulo, connection budget).
  virtual bool uses_capacity() const { return false; }
  virtual void apply_capacity(UnitId /*unit*/, double /*capacity*/) {}

  /// Called at every epoch end (growth, rewiring); `epoch` counts from 1.
  virtual void on_epoch_end(int /*epoch*/, Rng& /*rng*/, Figures& /*out*/) {}
  /// Figures measured on a split (routing accuracy, oracle accuracy...), added to `out`
  /// with names the model chooses.
  virtual void evaluate(const Samples& /*split*/, Figures& /*out*/) {}
  /// Continual learning: which task the next batches belong to (heads, task gates).
  virtual void set_task(int /*task*/) {}

  /// Everything that is not a parameter value but must survive a checkpoint (the topology's
  /// structure, capacities), under names starting with `prefix`. Parameters and their masks
  /// are saved by the host.
  virtual void save(StateStore& /*out*/, const std::string& /*prefix*/) const {}
  virtual void load(const StateStore& /*in*/, const std::string& /*prefix*/) {}
};

/// A named trainable tensor. `mask` (optional, same shape, 0 or 1) marks connections that
/// exist; value and grad stay 0 where it is 0.
struct Parameter {
  std::string name;  // "layer1.weight"
  Matrix value;
  Matrix grad;
  Matrix mask;       // empty: dense
  /// Empty: every entry trains. Else 1 where the current stage freezes the entry (its unit is
  /// outside the stage's selection): optimizers leave such an entry and its state untouched, so
  /// neither momentum nor weight decay moves it (issue 4: frozen units do not move at all).
  Matrix frozen;
  bool has_mask() const { return mask.size() != 0; }
  bool has_frozen() const { return frozen.size() != 0; }
};

/// A probability distribution that regularizers act on: the output softmax ("output") or a
/// gate ("gate"). Rows are the current batch.
struct Distribution {
  ConstMatrixRef logits;
  ConstMatrixRef probs;
  MatrixRef grad_logits;  // add dPenalty/dlogits here before backward()
};

class ABLATE_API GradientModel : public Model {
 public:
  /// Sizes every buffer for batches up to `max_batch`: no allocation happens after this in
  /// forward, backward or optimizer steps.
  virtual void reserve(int max_batch) = 0;
  virtual std::vector<Parameter*> parameters() = 0;

  /// x: batch x features. Afterwards logits() is batch x classes.
  virtual void forward(const ConstMatrixRef& x, Mode mode, Rng& rng) = 0;
  virtual ConstMatrixRef logits() const = 0;
  /// dlogits: batch x classes (already divided by the batch size). Overwrites every grad,
  /// including the contributions of distribution() grad_logits added since forward().
  virtual void backward(const ConstMatrixRef& dlogits) = 0;

  /// After forward(): per unit, over the batch rows, add +1 where it fires and -1 where not
  /// into `sums`, laid out layer by layer as in unit_layers().
  virtual void accumulate_unit_sums(std::span<std::int64_t> sums) const = 0;
  /// Restricts the next backward() to the gradients of these units (others are zeroed).
  virtual void set_trainable(const UnitSelection& units) = 0;

  /// A distribution regularizers can act on, or none.
  virtual std::optional<Distribution> distribution(std::string_view /*name*/) { return {}; }
  /// An extra loss the model itself adds (e.g. load balancing), counted after forward().
  virtual double auxiliary_loss() { return 0.0; }

  void predict(const ConstMatrixRef& x, std::span<std::int32_t> out) override;
};

}  // namespace ablate
