// Regularizer `@name@` (ablate/regularizer.hpp): penalties added to the loss, with their
// gradients. As written it is L2 weight decay, (strength/2) sum theta^2, in on_backward; the
// other two hooks show where a penalty on a distribution, and consolidation at the end of a
// task, go.
#include "ablate/regularizer.hpp"

namespace {

class @Name@ final : public ablate::Regularizer {
 public:
  explicit @Name@(const ablate::Params& params) : strength_(params.real("strength")) {}

  /// After forward(): a penalty on `output` (the softmax) or on a distribution the model offers
  /// (model.distribution("gate")); its gradient, divided by the batch rows, goes to grad_logits.
  double on_forward(ablate::GradientModel& /*model*/, const ablate::Distribution& /*output*/) override {
    return 0.0;
  }

  /// After backward(): a penalty on parameters, its gradient added to Parameter::grad.
  double on_backward(ablate::GradientModel& model) override {
    double penalty = 0;
    for (ablate::Parameter* p : model.parameters()) {
      p->grad.array() += static_cast<float>(strength_) * p->value.array();
      penalty += 0.5 * strength_ * p->value.cast<double>().squaredNorm();
    }
    return penalty;
  }

  /// At the end of each task of a sequence ([tasks]): keep what later tasks are pulled towards.
  void end_task(ablate::GradientModel& /*model*/, const ablate::Task& /*task*/,
                ablate::Rng& /*rng*/) override {}

 private:
  double strength_;
};

ablate::PluginInfo info() {
  return {ablate::kAbiVersion, ablate::Kind::regularizer, "@name@", "0.1",
          "L2 weight decay: (strength/2) sum theta^2",
          {ablate::real("strength", 1e-4, 0.0, 1e3, "weight of the penalty")}};
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  return std::make_unique<@Name@>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
