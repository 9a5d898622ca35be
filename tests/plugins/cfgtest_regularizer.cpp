// Test plugin for the configuration tests: an L2 penalty (weight/2) * sum theta^2 on every
// parameter.
#include "ablate/regularizer.hpp"

namespace {

class CfgL2 : public ablate::Regularizer {
 public:
  explicit CfgL2(const ablate::Params& params) : weight_(params.real("weight")) {}
  double on_backward(ablate::GradientModel& model) override {
    double penalty = 0;
    for (ablate::Parameter* parameter : model.parameters()) {
      penalty += 0.5 * weight_ * parameter->value.squaredNorm();
      parameter->grad += static_cast<float>(weight_) * parameter->value;
    }
    return penalty;
  }

 private:
  double weight_;
};

ablate::PluginInfo info() {
  using namespace ablate;
  return {kAbiVersion,
          Kind::regularizer,
          "cfg_l2",
          "1.0",
          "configuration-test L2 penalty",
          {real("weight", std::nullopt, 0, kInf, "penalty weight")}};
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  return std::make_unique<CfgL2>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
