#include <algorithm>

#include "ablate/stats.hpp"

namespace ablate {

void SumCache::record(UnitId unit, const SumRecord& r) {
  if (keep_ == 0) return;  // a cache told to keep nothing
  auto& history = history_[unit];
  if (history.capacity() < keep_) history.reserve(keep_);
  if (history.size() >= keep_) history.erase(history.begin());  // keep_ is small: a short move
  history.push_back(r);
}

std::optional<SumRecord> SumCache::latest(UnitId unit) const {
  auto it = history_.find(unit);
  if (it == history_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::span<const SumRecord> SumCache::history(UnitId unit) const { return trend(unit, keep_); }

std::span<const SumRecord> SumCache::trend(UnitId unit, std::size_t k) const {
  auto it = history_.find(unit);
  if (it == history_.end()) return {};
  std::span<const SumRecord> all = it->second;
  return all.last(std::min(k, all.size()));
}

std::vector<UnitId> SumCache::gold_zone(int layer, const Zones& zones) const {
  std::vector<UnitId> out;
  for (auto it = history_.lower_bound({layer, 0}); it != history_.end() && it->first.layer == layer;
       ++it)
    if (!it->second.empty() && zones.gold(it->second.back().s, it->second.back().n))
      out.push_back(it->first);
  return out;
}

std::vector<double> SumCache::margins(int layer) const {
  std::vector<double> out;
  for (auto it = history_.lower_bound({layer, 0}); it != history_.end() && it->first.layer == layer;
       ++it)
    if (!it->second.empty()) out.push_back(it->second.back().margin());
  return out;
}

std::size_t SumCache::bytes() const {
  constexpr std::size_t map_node = 48;  // red-black node header + key, as libstdc++ lays it out
  std::size_t total = sizeof(*this) + stages_.capacity() * sizeof(StageRecord);
  for (const auto& [unit, history] : history_)
    total += map_node + sizeof(history) + history.capacity() * sizeof(SumRecord);
  return total;
}

bool SumCache::operator==(const SumCache& other) const {
  return keep_ == other.keep_ && history_ == other.history_ && stages_ == other.stages_;
}

SumCache as_stale(const SumCache& earlier, std::size_t keep) {
  auto mark = [](std::int32_t stage) { return stage < 0 ? stage : -1 - stage; };
  SumCache out(keep);
  for (const auto& [unit, history] : earlier.units())
    for (SumRecord r : earlier.trend(unit, keep)) {
      r.stage = mark(r.stage);
      out.record(unit, r);
    }
  for (StageRecord stage : earlier.stages()) {
    stage.stage = mark(stage.stage);
    out.record_stage(stage);
  }
  return out;
}

}  // namespace ablate
