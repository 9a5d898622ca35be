#pragma once
// The loop every engine shares: for each task, for each stage the orderer yields, epochs of the
// engine fitting the stage's units; after each stage the units' sums go to the SumCache and,
// through the capacity law, back into the model; rows and checkpoints along the way.
// Everything random is drawn from streams keyed by (seed, purpose, epoch), so a run resumed from
// a checkpoint continues exactly as the uninterrupted run would have.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ablate/capacity.hpp"
#include "ablate/orderer.hpp"
#include "ablate/topology.hpp"
#include "config/experiment.hpp"
#include "data/prepare.hpp"
#include "plugins/registry.hpp"
#include "runs/json.hpp"
#include "runs/log.hpp"
#include "stats/alerts.hpp"
#include "train/engine.hpp"
#include "train/gemm_choice.hpp"

namespace ablate {

/// Where a run stands: what a checkpoint records besides tensors.
struct Position {
  int task = 0;
  int stage = 0;          // stages begun in this task
  int stage_epoch = 0;    // epochs done in the current stage
  int epoch = 0;          // epochs done in the whole run
  int task_epoch = 0;     // epochs done in this task (the learning-rate clock)
  bool in_stage = false;  // a stage has begun and not ended
};

/// The epoch that did best on [train] best_metric in the task being trained (for summary.json
/// and early stopping).
struct BestEpoch {
  int epoch = 0;  // 0: none yet
  double value = 0, val_loss = 0, val_accuracy = 0, train_accuracy = 0;
  bool has_val_loss = false;
  int since = 0;  // epochs since it
};

/// How a run ended.
struct Outcome {
  std::string status = "ok";  // ok | diverged | interrupted (train/stop.hpp)
  std::string reason;
  Json summary = Json::object();
};

class Trainer {
 public:
  /// Builds every plugin, reads the data and builds the model. ConfigError for a [capacity]
  /// the topology cannot use, before any data is read.
  Trainer(const Experiment& experiment, Registry& registry);
  ~Trainer();

  using RowSink = std::function<void(const Json& row)>;
  using CheckpointSink = std::function<void(const StateStore& state)>;

  /// Trains from the start, or from `resume` (a checkpoint's state). Each metrics row goes to
  /// `emit`; `checkpoint` receives the state whenever one is due (it records the row count).
  Outcome run(const RowSink& emit, const CheckpointSink& checkpoint,
              const StateStore* resume = nullptr);

  /// The sum cache inside a checkpoint's state, as stats/sum_cache_io.hpp's checksummed snapshot.
  static std::string sums_snapshot(const StateStore& checkpoint);

  /// Where training is, about twice a second (runs/log.hpp, Progress::report_state_to).
  void report_state_to(std::function<void(const Json&)> sink) {
    progress_->report_state_to(std::move(sink));
  }

  /// Picks the GEMM threading (train/gemm_choice.hpp) and applies it: `recorded` (a resumed
  /// run's manifest entry) when given, else [train] gemm_threading. For the manifest.
  GemmChoice use_gemm_threading(const Json* recorded);

  /// The plugins in use, for the manifest.
  const std::vector<const PluginEntry*>& plugins_used() const { return used_; }

 private:
  void end_stage(const Task& task, const RowSink& emit);
  void end_task(const RowSink& emit);
  Json final_summary();
  /// Seconds of training since the run began (a resumed run goes on from its checkpoint's).
  double elapsed() const;
  /// After an epoch: the stage's patience and timeout, [train] best_metric and early stopping.
  /// Sets why the stage ends early (stage_ended_early_), if it does.
  void judge_epoch(double train_accuracy, const std::optional<double>& val_loss);
  /// A fresh run on an earlier run's sums: every unit's capacity from the law on its history.
  void start_from_imported_sums();
  /// With a capacity law, when the run's first stage trains the output layer: its units start
  /// from Engine::bootstrap_capacity.
  void bootstrap_output_capacity(const Task& task);
  /// final_neuron_first, sumcache_bytes and, with a capacity law, capacity_r2.
  void add_schedule_figures(Json& summary) const;
  void save(StateStore& out) const;
  void load(const StateStore& in);
  std::shared_ptr<Orderer> make_orderer() const;

  const Experiment& experiment_;
  Registry& registry_;
  std::vector<const PluginEntry*> used_;
  // What crash reports name around calls into plugin code (plugins/plugin_call.hpp).
  const PluginEntry* topology_entry_ = nullptr;
  const PluginEntry* orderer_entry_ = nullptr;
  const PluginEntry* capacity_entry_ = nullptr;
  std::uint64_t seed_;
  PreparedData data_;
  std::shared_ptr<Topology> topology_;
  std::shared_ptr<Orderer> orderer_;
  std::shared_ptr<CapacityLaw> capacity_;
  std::unique_ptr<Progress> progress_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<UnitGraph> graph_;
  SumCache sums_;
  Zones zones_;
  AlertRules rules_;
  bool imported_sums_ = false;  // sums_ began as an earlier run's ([pipeline] sums_from)
  bool has_loss_ = false;       // the model has a loss (hashtrons have none)
  std::string best_metric_;     // val_loss | val_accuracy
  // The clock: seconds trained before this process (from the checkpoint), and since when.
  double elapsed_before_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  // The stage in training: when it began, its best train accuracy and the epochs since, and why
  // it ends early (empty: it runs its epochs); the task: its best epoch, and whether it stopped.
  double stage_started_ = 0, stage_best_accuracy_ = -1;
  int stage_stalled_ = 0;
  std::string stage_ended_early_;
  BestEpoch best_;
  bool task_stopped_ = false;
  Position at_;
  std::optional<Stage> stage_;
  std::map<UnitId, float> capacity_now_;  // the capacity each unit trains with
  std::vector<std::vector<double>> task_accuracy_;  // [after task i][on task j]
  std::vector<std::int64_t> unit_sums_;
  double last_train_accuracy_ = 0, last_val_accuracy_ = 0, last_train_loss_ = 0;
};

}  // namespace ablate
