#include "hashtron/engine.hpp"

namespace ablate {

HashtronEngine::HashtronEngine(std::shared_ptr<HashtronModel> model, std::uint64_t seed)
    : model_(std::move(model)), seed_(seed) {}

EpochFigures HashtronEngine::fit_epoch(const Task& task, const Stage& stage, int epoch,
                                       int /*task_epoch*/) {
  std::vector<UnitId> units = stage.units.units;
  if (stage.units.all) {
    units.clear();
    const auto layers = model_->unit_layers();
    for (int l = 0; l < static_cast<int>(layers.size()); ++l)
      for (int i = 0; i < layers[static_cast<std::size_t>(l)].size; ++i) units.push_back({l, i});
  }
  Rng rng = Rng::stream(seed_, "hashtron_fit", static_cast<std::uint64_t>(epoch));
  fits_.clear();
  for (const UnitId unit : units) fits_.emplace_back(unit, model_->fit_unit(unit, task.train, rng));
  EpochFigures out;
  if (fits_.empty()) {
    out.accuracy = model_->accuracy(task.train);
  } else {
    const FitResult& last = fits_.back().second;
    out.accuracy = last.accepted ? last.accuracy_after : last.accuracy_before;
  }
  return out;
}

void HashtronEngine::unit_sums(const Samples& samples, std::span<std::int64_t> sums) {
  std::fill(sums.begin(), sums.end(), std::int64_t{0});
  model_->accumulate_unit_sums(samples, sums);
}

double HashtronEngine::accuracy(const Samples& split) { return model_->accuracy(split); }

void HashtronEngine::save(StateStore& out) const { model_->save(out, "model/"); }

void HashtronEngine::load(const StateStore& in) { model_->load(in, "model/"); }

}  // namespace ablate
