// optim/schedule.hpp: constant, step and cosine schedules with linear warmup.
#include "optim/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <variant>

namespace ablate {
namespace {

/// An epoch count declared as an integer or a real.
double epochs_of(const Params& train, const std::string& key) {
  const auto it = train.values().find(key);
  if (it == train.values().end()) return train.real(key);  // throws: not declared
  if (const auto* whole = std::get_if<std::int64_t>(&it->second))
    return static_cast<double>(*whole);
  return train.real(key);
}

}  // namespace

double scheduled_lr(const Params& train, std::int64_t step, std::int64_t steps_per_epoch) {
  if (steps_per_epoch < 1 || step < 0)
    throw Error("scheduled_lr needs step >= 0 and steps_per_epoch >= 1, got step " +
                std::to_string(step) + " and " + std::to_string(steps_per_epoch) +
                " steps per epoch");
  const double lr = train.real("lr");
  const std::string& schedule = train.string("schedule");
  const double per_epoch = static_cast<double>(steps_per_epoch);

  const double warmup_epochs = epochs_of(train, "warmup_epochs");
  if (warmup_epochs < 0)
    throw ConfigError("train.warmup_epochs must be >= 0, got " + std::to_string(warmup_epochs));
  const auto warmup = static_cast<std::int64_t>(std::llround(warmup_epochs * per_epoch));
  if (step < warmup) return lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  const std::int64_t after = step - warmup;  // the schedule's own clock

  if (schedule == "constant") return lr;
  if (schedule == "step") {
    const double step_size = epochs_of(train, "step_size");
    if (!(step_size > 0))
      throw ConfigError("train.step_size must be > 0 epochs, got " + std::to_string(step_size));
    const double decays = std::floor(static_cast<double>(after) / (step_size * per_epoch));
    return lr * std::pow(train.real("gamma"), decays);
  }
  if (schedule == "cosine") {
    const double min_lr = train.real("min_lr");
    const double span = epochs_of(train, "epochs") * per_epoch - static_cast<double>(warmup);
    const double t = span > 0 ? std::min(1.0, static_cast<double>(after) / span) : 1.0;
    return min_lr + (lr - min_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * t));
  }
  throw ConfigError("train.schedule '" + schedule +
                    "' is unknown: choose one of constant, step, cosine");
}

}  // namespace ablate
