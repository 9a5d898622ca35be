#pragma once
// The gradient engine: minibatch steps of softmax cross-entropy plus regularizer penalties,
// an optimizer over the model's named parameters, and no allocation inside the step loop.
#include <memory>
#include <vector>

#include "ablate/regularizer.hpp"
#include "optim/optimizer.hpp"
#include "runs/log.hpp"
#include "train/engine.hpp"

namespace ablate {

class GradientEngine final : public Engine {
 public:
  GradientEngine(std::shared_ptr<GradientModel> model,
                 std::vector<std::shared_ptr<Regularizer>> regularizers, const DataShape& shape,
                 const Params& train, std::uint64_t seed, Progress* progress);

  Model& model() override { return *model_; }
  EpochFigures fit_epoch(const Task& task, const Stage& stage, int epoch, int task_epoch) override;
  void unit_sums(const Samples& samples, std::span<std::int64_t> sums) override;
  double accuracy(const Samples& split) override;
  std::optional<double> loss(const Samples& split) override;
  double learning_rate(const Task& task, int task_epoch) const override;
  void end_epoch(int epoch, Rng& rng, Figures& out) override;
  void end_task(const Task& task, Rng& rng) override;
  void save(StateStore& out) const override;
  void load(const StateStore& in) override;
  std::string gemm_workload() const override;
  double time_steps(const Task& task, int steps) override;

 private:
  std::int64_t steps_per_epoch(const Task& task) const;
  /// Forward and backward on `samples` of `train` (gradients set, no step); the batch's loss,
  /// penalties included.
  double forward_backward(const Samples& train, std::span<const std::uint32_t> samples,
                          Rng& dropout);

  std::shared_ptr<GradientModel> model_;
  std::vector<std::shared_ptr<Regularizer>> regularizers_;
  const Params& train_;
  std::uint64_t seed_;
  Progress* progress_;
  int batch_;
  std::vector<Parameter*> parameters_;
  std::unique_ptr<Optimizer> optimizer_;
  // Step buffers, sized once.
  Matrix x_, probs_, dlogits_;
  std::vector<std::int32_t> y_, predicted_;
  std::vector<std::uint32_t> order_;
};

}  // namespace ablate
