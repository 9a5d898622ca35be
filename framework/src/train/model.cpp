#include "ablate/model.hpp"

#include "ablate/nn.hpp"

namespace ablate {

void GradientModel::predict(const ConstMatrixRef& x, std::span<std::int32_t> out) {
  Rng unused;  // eval mode draws nothing
  forward(x, Mode::eval, unused);
  nn::argmax(logits(), out);
}

}  // namespace ablate
