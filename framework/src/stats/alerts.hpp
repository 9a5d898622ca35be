#pragma once
// Alerts over the unit statistics (the backward-pipeline epic, "Add alerting for critical
// conditions"; issue 4, "Observability and alerts"). Pure functions, each alert raised once,
// where its condition begins to hold, so a run that stays in a bad state logs it once rather
// than at every check: memorization after every epoch (memorization_alert), the others, which
// read the sum cache, after each stage (new_alerts). The thresholds are [pipeline] keys.
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ablate/stats.hpp"
#include "runs/json.hpp"

namespace ablate {

struct AlertRules {
  /// Train accuracy above this: memorization risk.
  double memorization_accuracy = 0.95;
  /// No unit's margin changed over more than this many consecutive stages: margin stagnation.
  int stagnation_stages = 3;
  /// A unit's capacity change flipped sign this many times in a row: capacity oscillation.
  int oscillation_flips = 3;
  /// This many consecutive stages trained one layer and left train accuracy unchanged
  /// (within accuracy_tolerance): stuck in one layer. The epic's "forward skip after 3 attempts".
  int stuck_stages = 3;
  double accuracy_tolerance = 1e-3;
};

enum class AlertKind { memorization, margin_stagnation, capacity_oscillation, stuck_in_layer };
const char* to_string(AlertKind kind);

struct Alert {
  AlertKind kind;
  std::string message;
  int layer = -1;             // the layer concerned, -1 for the whole network
  std::vector<UnitId> units;  // the units concerned (capacity oscillation)
};

/// Memorization, when train accuracy went above the threshold from `before` (the previous
/// epoch's) to `now`.
std::optional<Alert> memorization_alert(double before, double now, const AlertRules& rules = {});

/// The sum-cache alerts whose condition starts to hold at the latest stage of `sums`.
/// `layers` names the layers in messages (may be empty).
std::vector<Alert> new_alerts(const SumCache& sums, std::span<const UnitLayer> layers,
                              const AlertRules& rules = {});

// The conditions, each as a count at the latest stage (exposed for tests and reports).

/// Trailing stages over which no unit's margin |S|/N changed (0 when the latest stage changed one).
int stagnant_stages(const SumCache& sums);
/// Trailing sign flips of a unit's capacity changes (a zero change ends the run).
int capacity_flips(std::span<const SumRecord> history);
/// Trailing stages that trained the latest stage's layer without changing train accuracy.
int stuck_stages(std::span<const StageRecord> stages, double tolerance);

/// {"kind":"alert","alert":"memorization","message":..,"layer":..,"units":["1.4",..]}
Json to_json(const Alert& alert);

}  // namespace ablate
