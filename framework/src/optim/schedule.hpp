#pragma once
// Learning-rate schedules, as a pure function of the step: resuming at step k needs no state.
//   constant  lr
//   step      lr * gamma^floor(e / step_size), e = whole epochs since warmup ended
//   cosine    min_lr + (lr - min_lr) (1 + cos(pi t)) / 2, t = progress from the end of warmup
//             to the end of train.epochs, in [0, 1] (Loshchilov & Hutter 2017, no restarts)
// With warmup_epochs > 0, the first W = round(warmup_epochs * steps_per_epoch) steps ramp
// linearly: step s gets lr * (s + 1) / W (Goyal et al. 2017), and the schedule's own clock
// starts after them.
// [train] keys read: lr, schedule (constant|step|cosine), warmup_epochs, and step_size, gamma
// (step) or epochs, min_lr (cosine). Epoch counts may be integers or reals.
#include <cstdint>

#include "ablate/params.hpp"

namespace ablate {

/// The learning rate for `step` (counted from 0); `steps_per_epoch` >= 1.
double scheduled_lr(const Params& train, std::int64_t step, std::int64_t steps_per_epoch);

}  // namespace ablate
