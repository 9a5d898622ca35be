#pragma once
// How a stage's units are fitted. The Trainer owns the loop every engine shares (tasks,
// stages from the orderer, unit sums, capacity, records); an Engine owns what differs: gradient
// steps (GradientEngine) or the hashtron solve.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "ablate/model.hpp"
#include "ablate/orderer.hpp"
#include "ablate/state.hpp"

namespace ablate {

struct EpochFigures {
  double loss = 0;      // mean training loss (0 where an engine has none)
  bool has_loss = true; // false: the engine minimizes no loss (hashtrons): none is printed
  double accuracy = 0;  // training accuracy seen while fitting
  bool finite = true;   // false: the loss became NaN or infinite
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual Model& model() = 0;
  /// Fits the stage's units for one epoch. `epoch` counts the run's epochs from 0,
  /// `task_epoch` the task's (the learning-rate clock).
  virtual EpochFigures fit_epoch(const Task& task, const Stage& stage, int epoch,
                                 int task_epoch) = 0;
  /// Every unit's +1/-1 sum over `samples`, laid out as UnitGraph::offset.
  virtual void unit_sums(const Samples& samples, std::span<std::int64_t> sums) = 0;
  virtual double accuracy(const Samples& split) = 0;
  /// Mean task loss on `split` in eval mode, penalties left out (what "validation loss" means);
  /// none where an engine has no loss.
  virtual std::optional<double> loss(const Samples& /*split*/) { return std::nullopt; }
  /// The capacity the output units bootstrap with when the run's first stage trains them alone
  /// (the backward pipeline's phase 0, shared/seeds/002), for `n` training samples; 0: no
  /// bootstrap, the capacity law alone decides.
  virtual double bootstrap_capacity(std::int64_t /*n*/) const { return 0.0; }
  /// Where an engine fits units one at a time (hashtrons), `save` is called after each unit an
  /// epoch fits (it saves when train.unit_checkpoint_seconds have passed since the last save),
  /// and save() records how far into the epoch it got, so a killed run resumes at the unit
  /// after the last one saved (the pipeline state after each neuron, shared/seeds/002). Empty:
  /// no saving.
  virtual void save_after_each_unit(std::function<void()> /*save*/) {}
  /// The learning rate at the start of a task epoch (0 where meaningless).
  virtual double learning_rate(const Task& /*task*/, int /*task_epoch*/) const { return 0.0; }
  /// At the end of an epoch (`epoch` counts from 1): the model may grow or rewire.
  virtual void end_epoch(int epoch, Rng& rng, Figures& out) { model().on_epoch_end(epoch, rng, out); }
  /// At the end of a task (regularizers consolidate).
  virtual void end_task(const Task& /*task*/, Rng& /*rng*/) {}
  /// The shapes of the GEMMs a training step makes, as a cache key for the GEMM threading
  /// measured for them (train/gemm_choice.hpp); empty where an engine makes none.
  virtual std::string gemm_workload() const { return {}; }
  /// Seconds per training step over `steps` steps on `task`'s first batch, the engine's state
  /// restored afterwards. Called only where gemm_workload() is not empty.
  virtual double time_steps(const Task& /*task*/, int /*steps*/) { return 0.0; }
  /// Parameters, optimizer and plugin state; the model's structure first.
  virtual void save(StateStore& out) const = 0;
  virtual void load(const StateStore& in) = 0;
};

}  // namespace ablate
