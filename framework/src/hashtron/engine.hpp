#pragma once
// The hashtron engine as the Trainer drives it (train/engine.hpp): an epoch of a stage fits each
// of the stage's units once with HashtronModel::fit_unit, in the order the stage lists them (the
// orderer's choice: backward, gold zone...), or layer by layer from the input when the stage
// trains every unit. Each unit's fit draws from its own stream keyed by (epoch, position in the
// epoch), so a run resumed after any unit (save_after_each_unit) fits exactly as the
// uninterrupted run.
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "ablate/hashtron.hpp"
#include "runs/log.hpp"
#include "train/engine.hpp"

namespace ablate {

class HashtronEngine final : public Engine {
 public:
  /// `progress` (optional) hears of every fit: the live line and the run's progress.json.
  HashtronEngine(std::shared_ptr<HashtronModel> model, std::uint64_t seed,
                 Progress* progress = nullptr);

  Model& model() override { return *model_; }
  /// loss 0; accuracy: the training accuracy after the epoch's last fit.
  EpochFigures fit_epoch(const Task& task, const Stage& stage, int epoch, int task_epoch) override;
  void unit_sums(const Samples& samples, std::span<std::int64_t> sums) override;
  double accuracy(const Samples& split) override;
  /// Phase 0: premodulo = N (capacity sqrt(N)), heavy collisions: the final unit learns the
  /// dataset prior.
  double bootstrap_capacity(std::int64_t n) const override;
  void save_after_each_unit(std::function<void()> save) override { save_ = std::move(save); }
  /// The model under "model/", and how far the current epoch got.
  void save(StateStore& out) const override;
  void load(const StateStore& in) override;

  /// Every fit of the last epoch, in order (since the resume, for a resumed epoch).
  const std::vector<std::pair<UnitId, FitResult>>& last_fits() const { return fits_; }

 private:
  std::shared_ptr<HashtronModel> model_;
  std::uint64_t seed_;
  std::vector<std::pair<UnitId, FitResult>> fits_;
  std::function<void()> save_;
  Progress* progress_;
  // The epoch being fitted (-1 between epochs) and how many of its units are done.
  std::int64_t epoch_ = -1, done_ = 0;
};

}  // namespace ablate
