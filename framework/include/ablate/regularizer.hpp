#pragma once
// Regularizers add a penalty to the loss and its gradient (DESIGN.md, "Plugin contract").
#include "ablate/model.hpp"
#include "ablate/plugin.hpp"

namespace ablate {

class ABLATE_API Regularizer : public Plugin {
 public:
  /// After forward(), before backward(): penalties on a distribution - `output` (the softmax
  /// over the logits) or one the model offers (model.distribution("gate")). Add the gradient,
  /// already divided by the batch rows, to its grad_logits. Returns the penalty (batch mean).
  virtual double on_forward(GradientModel& /*model*/, const Distribution& /*output*/) { return 0.0; }
  /// After backward(): penalties on parameters (add to Parameter::grad). Returns the penalty.
  virtual double on_backward(GradientModel& /*model*/) { return 0.0; }
  /// At the end of a task of a sequence: consolidate what must be kept (EWC's Fisher).
  /// `task` holds the task's training samples.
  virtual void end_task(GradientModel& /*model*/, const Task& /*task*/, Rng& /*rng*/) {}
};

}  // namespace ablate
