#include "hashtron/engine.hpp"

#include <algorithm>
#include <cmath>

namespace ablate {

HashtronEngine::HashtronEngine(std::shared_ptr<HashtronModel> model, std::uint64_t seed,
                               Progress* progress)
    : model_(std::move(model)), seed_(seed), progress_(progress) {}

EpochFigures HashtronEngine::fit_epoch(const Task& task, const Stage& stage, int epoch,
                                       int /*task_epoch*/) {
  std::vector<UnitId> units = stage.units.units;
  const auto layers = model_->unit_layers();
  if (stage.units.all) {
    units.clear();
    for (int l = 0; l < static_cast<int>(layers.size()); ++l)
      for (int i = 0; i < layers[static_cast<std::size_t>(l)].size; ++i) units.push_back({l, i});
  }
  // A checkpoint taken inside this epoch: its first done_ units are fitted already.
  if (epoch_ != epoch) done_ = 0;
  epoch_ = epoch;
  fits_.clear();
  for (auto position = static_cast<std::size_t>(done_); position < units.size(); ++position) {
    const std::uint64_t key = (static_cast<std::uint64_t>(epoch) << 32) | position;
    Rng rng = Rng::stream(seed_, "hashtron_fit", key);
    fits_.emplace_back(units[position], model_->fit_unit(units[position], task.train, rng));
    ++done_;
    if (progress_) {
      const UnitId unit = units[position];
      progress_->unit_done(epoch, layers[static_cast<std::size_t>(unit.layer)].name, unit.index,
                           done_, static_cast<std::int64_t>(units.size()));
    }
    if (save_ && position + 1 < units.size()) save_();  // the epoch's end is the trainer's
  }
  epoch_ = -1;
  done_ = 0;
  EpochFigures out;
  out.has_loss = false;
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

double HashtronEngine::bootstrap_capacity(std::int64_t n) const {
  return std::sqrt(static_cast<double>(std::max<std::int64_t>(n, 1)));
}

void HashtronEngine::save(StateStore& out) const {
  model_->save(out, "model/");
  out.put("hashtron/epoch_progress", std::vector<std::int64_t>{epoch_, done_});
}

void HashtronEngine::load(const StateStore& in) {
  model_->load(in, "model/");
  const auto progress = in.integers("hashtron/epoch_progress");
  if (progress.size() != 2)
    throw Error("checkpoint tensor 'hashtron/epoch_progress' holds " +
                std::to_string(progress.size()) + " values, expected 2 (epoch, units done)");
  epoch_ = progress[0];
  done_ = progress[1];
}

}  // namespace ablate
