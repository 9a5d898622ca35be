#pragma once
// The unit statistics shared by both engines (DESIGN.md): over N samples a unit's sum S is the
// count of samples where it fires minus those where it does not, S in [-N, N], margin |S|/N.
// Noise floor epsilon = sqrt(N), collapse threshold tau = 0.8 N; the gold zone lies between.
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ablate/model.hpp"

namespace ablate {

struct Zones {
  double noise_factor = 1.0;      // epsilon = noise_factor * sqrt(N)
  double collapse_fraction = 0.8; // tau = collapse_fraction * N

  double epsilon(std::int64_t n) const { return noise_factor * std::sqrt(static_cast<double>(n)); }
  double tau(std::int64_t n) const { return collapse_fraction * static_cast<double>(n); }
  bool collapsed(std::int64_t s, std::int64_t n) const { return std::abs(double(s)) >= tau(n); }
  bool noisy(std::int64_t s, std::int64_t n) const { return std::abs(double(s)) <= epsilon(n); }
  bool gold(std::int64_t s, std::int64_t n) const { return !collapsed(s, n) && !noisy(s, n); }
  /// The middle of the gold zone, as a margin.
  double gold_middle(std::int64_t n) const {
    return 0.5 * (epsilon(n) + tau(n)) / static_cast<double>(n);
  }
};

/// One observation of a unit, recorded after a stage: 16 bytes, so that 100k units x 50 records
/// stay under 100 MB. What holds for the whole stage (epoch, time, accuracy) is a StageRecord.
struct SumRecord {
  std::int32_t s = 0;
  std::int32_t n = 0;
  float capacity = 0;     // the capacity the unit had while trained (0: none)
  /// The stage (of its task) after which it was recorded; negative, -1 - stage, for a record an
  /// earlier run made ([pipeline] sums_from): stale, as it describes another run's weights.
  std::int32_t stage = 0;
  double margin() const { return n ? std::abs(double(s)) / double(n) : 0.0; }
  bool stale() const { return stage < 0; }
  bool operator==(const SumRecord&) const = default;
};

struct StageRecord {
  std::int32_t stage = 0;  // negative, -1 - stage, for an earlier run's stage (as SumRecord)
  std::int32_t epoch = 0;
  double timestamp = 0;  // when the stage began: seconds of training since the run began
  double duration = 0;   // seconds the stage trained
  double train_accuracy = 0;
  double val_accuracy = 0;
  std::string label;
  std::int32_t layer = -1;  // the layer the stage trained (Stage::layer), -1 when several
  bool stale() const { return stage < 0; }
  bool operator==(const StageRecord&) const = default;
};

/// The layered graph of units a model declares, with forward and backward orders.
/// Built with Boost.Graph (framework/src/stats/unit_graph.cpp).
class ABLATE_API UnitGraph {
 public:
  explicit UnitGraph(std::vector<UnitLayer> layers);
  const std::vector<UnitLayer>& layers() const { return layers_; }
  /// Layer indices, a topological order from the data; the output layer last.
  const std::vector<int>& forward_order() const { return forward_; }
  /// The reverse: output layer first.
  std::vector<int> backward_order() const { return {forward_.rbegin(), forward_.rend()}; }
  int output_layer() const { return forward_.back(); }
  int unit_count() const { return total_; }
  /// Offset of a layer's first unit in the flat layout of accumulate_unit_sums.
  int offset(int layer) const { return offsets_[layer]; }

 private:
  std::vector<UnitLayer> layers_;
  std::vector<int> forward_;
  std::vector<int> offsets_;
  int total_ = 0;
};

/// In-memory history of every unit's sums (the last `keep` records per unit) and of the stages.
class ABLATE_API SumCache {
 public:
  explicit SumCache(std::size_t keep = 50) : keep_(keep) {}

  void record(UnitId unit, const SumRecord& r);
  void record_stage(const StageRecord& stage) { stages_.push_back(stage); }

  std::optional<SumRecord> latest(UnitId unit) const;
  /// Oldest first, at most the last `keep`.
  std::span<const SumRecord> history(UnitId unit) const;
  /// Oldest first, at most the last k.
  std::span<const SumRecord> trend(UnitId unit, std::size_t k) const;
  /// Units of `layer` whose latest record is in the gold zone.
  std::vector<UnitId> gold_zone(int layer, const Zones& zones) const;
  /// Latest margins of a layer's units (those with a record), in unit order.
  std::vector<double> margins(int layer) const;

  const std::vector<StageRecord>& stages() const { return stages_; }
  const std::map<UnitId, std::vector<SumRecord>>& units() const { return history_; }
  std::size_t keep() const { return keep_; }
  /// Memory held, in bytes (records, per-unit bookkeeping, stages).
  std::size_t bytes() const;
  bool operator==(const SumCache&) const;

 private:
  std::size_t keep_;
  std::map<UnitId, std::vector<SumRecord>> history_;
  std::vector<StageRecord> stages_;
};

/// An earlier run's cache as the start of a new one's: its last `keep` records per unit and its
/// stages, every one marked stale.
ABLATE_API SumCache as_stale(const SumCache& earlier, std::size_t keep);

}  // namespace ablate
