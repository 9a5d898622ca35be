#include "train/trainer.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>

#include "ablate/dataset.hpp"
#include "ablate/hashtron.hpp"
#include "ablate/regularizer.hpp"
#include "hashtron/engine.hpp"
#include "plugins/plugin_call.hpp"
#include "stats/alerts.hpp"
#include "stats/capacity_fit.hpp"
#include "stats/layer_summary.hpp"
#include "stats/sum_cache_io.hpp"
#include "train/gradient_engine.hpp"
#include "train/stop.hpp"
#include "util/atomic_file.hpp"

namespace ablate {
namespace {

std::vector<std::int64_t> flatten(const std::vector<UnitId>& units) {
  std::vector<std::int64_t> out;
  for (auto u : units) out.insert(out.end(), {u.layer, u.index});
  return out;
}

std::vector<UnitId> unflatten(const std::vector<std::int64_t>& flat) {
  std::vector<UnitId> out;
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2)
    out.push_back({static_cast<int>(flat[i]), static_cast<int>(flat[i + 1])});
  return out;
}

constexpr const char* kSumsPrefix = "sums/";

}  // namespace

std::string Trainer::sums_snapshot(const StateStore& checkpoint) {
  return checkpoint.text(std::string(kSumsPrefix) + "snapshot");
}

Trainer::Trainer(const Experiment& experiment, Registry& registry)
    : experiment_(experiment),
      registry_(registry),
      seed_(static_cast<std::uint64_t>(experiment.experiment.integer("seed"))) {
  const Params& train = experiment.train;
  const Params& pipeline = experiment.pipeline;
  zones_ = {pipeline.real("noise_factor"), pipeline.real("collapse_fraction")};
  rules_.memorization_accuracy = pipeline.real("memorization_accuracy");
  rules_.stagnation_stages = static_cast<int>(pipeline.integer("stagnation_stages"));
  rules_.oscillation_flips = static_cast<int>(pipeline.integer("oscillation_flips"));
  rules_.stuck_stages = static_cast<int>(pipeline.integer("stuck_stages"));
  rules_.accuracy_tolerance = pipeline.real("stuck_tolerance");
  sums_ = SumCache(static_cast<std::size_t>(pipeline.integer("sums_kept")));
  const auto threads = static_cast<int>(train.integer("threads"));
  set_threads(threads > 0 ? threads : hardware_threads());

  auto note = [&](const PluginChoice& c) {
    used_.push_back(registry_.find(c.kind, c.plugin));
    return used_.back();
  };
  topology_ = registry_.create<Topology>(Kind::topology, experiment.topology.plugin,
                                         experiment.topology.params);
  topology_entry_ = note(experiment.topology);
  // Checked before any data is read: a [capacity] the topology ignores is a config error.
  check_capacity_use(experiment, topology_->uses_capacity());
  if (experiment.capacity) {
    capacity_ = registry_.create<CapacityLaw>(Kind::capacity_law, experiment.capacity->plugin,
                                              experiment.capacity->params);
    capacity_entry_ = note(*experiment.capacity);
  }
  orderer_entry_ = note(experiment.orderer);
  orderer_ = make_orderer();
  std::vector<std::shared_ptr<Regularizer>> regularizers;
  for (const auto& choice : experiment.regularizers) {
    regularizers.push_back(
        registry_.create<Regularizer>(Kind::regularizer, choice.plugin, choice.params));
    note(choice);
  }

  std::vector<Source> sources;
  for (std::size_t i = 0; i < experiment.datasets.size(); ++i) {
    const auto& choice = experiment.datasets[i];
    auto dataset = registry_.create<Dataset>(Kind::dataset, choice.plugin, choice.params);
    const PluginCall call(note(choice));
    Rng rng = Rng::stream(seed_, "data", i);
    sources.push_back(dataset->load(rng));
  }
  data_ = prepare_data(std::move(sources), experiment.split, experiment.tasks, seed_);
  for (const auto& warning : data_.warnings) spdlog::warn("{}", warning);
  const auto n = static_cast<std::int64_t>(data_.tasks.front().train.size());
  if (zones_.epsilon(n) >= zones_.tau(n))
    throw ConfigError(fmt::format("[pipeline] leaves no gold zone for N = {} training samples: the "
                                  "noise floor noise_factor * sqrt(N) = {:.1f} is not below the "
                                  "collapse threshold collapse_fraction * N = {:.1f}; lower "
                                  "pipeline.noise_factor or raise pipeline.collapse_fraction",
                                  n, zones_.epsilon(n), zones_.tau(n)),
                      experiment.file.string());

  const auto batch = train.integer("batch_size");
  const auto first_train = static_cast<std::int64_t>(data_.tasks.front().train.size());
  progress_ = std::make_unique<Progress>(
      static_cast<int>(train.integer("epochs") * static_cast<std::int64_t>(data_.tasks.size())),
      (first_train + batch - 1) / batch);

  Rng init = Rng::stream(seed_, "init");
  std::unique_ptr<Model> built;
  if (const PluginCall call(topology_entry_); true) built =
      topology_->build({data_.shape, static_cast<int>(data_.tasks.size())}, init);
  if (auto* gradient = dynamic_cast<GradientModel*>(built.get())) {
    built.release();
    has_loss_ = true;
    engine_ = std::make_unique<GradientEngine>(
        tie_to(topology_, std::unique_ptr<GradientModel>(gradient)), std::move(regularizers),
        data_.shape, train, seed_, progress_.get());
  } else if (auto* hashtron = dynamic_cast<HashtronModel*>(built.get())) {
    if (!experiment.regularizers.empty()) {
      const PluginChoice& first = experiment.regularizers.front();
      throw ConfigError("[[regularizer]] plugin '" + first.plugin +
                            "' adds to a loss, and topology '" + experiment.topology.plugin +
                            "' trains hashtrons, which have none (no gradients): remove the "
                            "[[regularizer]] sections or choose a gradient topology",
                        first.where.str());
    }
    built.release();
    engine_ = std::make_unique<HashtronEngine>(
        tie_to(topology_, std::unique_ptr<HashtronModel>(hashtron)), seed_, progress_.get());
  } else {
    throw Error("topology '" + experiment.topology.plugin +
                "' builds a model no engine of this host can train");
  }
  graph_ = std::make_unique<UnitGraph>(engine_->model().unit_layers());
  unit_sums_.assign(static_cast<std::size_t>(graph_->unit_count()), 0);
  if (const int planned = orderer_->planned_epochs(*graph_, static_cast<int>(train.integer("epochs"))))
    progress_->set_epochs(planned * static_cast<int>(data_.tasks.size()));

  best_metric_ = train.string("best_metric");
  if (best_metric_ == "auto") best_metric_ = has_loss_ ? "val_loss" : "val_accuracy";
  if (best_metric_ == "val_loss" && !has_loss_)
    throw ConfigError("train.best_metric = \"val_loss\", but topology '" +
                          experiment.topology.plugin +
                          "' trains a model without a loss: choose \"val_accuracy\" or \"auto\"",
                      experiment.file.string());

  // A new session of an earlier run's pipeline: its sums, marked stale, start this run's cache.
  if (const std::string from = pipeline.string("sums_from"); !from.empty()) {
    SumSnapshot earlier;
    try {
      earlier = decode_sums(read_file(from), from);
      require_identity(earlier.identity, {earlier.identity.run, graph_->layers()}, from);
    } catch (const Error& e) {  // a setting that cannot work: before anything runs
      throw ConfigError(std::string("pipeline.sums_from: ") + e.what(), experiment.file.string());
    }
    sums_ = as_stale(earlier.sums, sums_.keep());
    imported_sums_ = true;
    spdlog::info("starting from the sum cache of '{}' ({}): {} units, {} stages, marked stale",
                 earlier.identity.run, from, sums_.units().size(), sums_.stages().size());
  }
}

Trainer::~Trainer() = default;

GemmChoice Trainer::use_gemm_threading(const Json* recorded) {
  const std::string workload = engine_->gemm_workload();
  GemmChoice choice;
  if (recorded)
    choice = resumed_gemm_choice(*recorded, "manifest.json");
  else if (workload.empty())
    choice = {GemmThreading::host, "no GEMMs", {}, {}};
  else
    choice = choose_gemm_threading(
        experiment_.train.string("gemm_threading"), threads(), workload,
        [&](GemmThreading threading, int steps) {
          set_gemm_threading(threading);
          return engine_->time_steps(data_.tasks.front(), steps);
        });
  set_gemm_threading(choice.threading);
  if (threads() > 1 && !workload.empty())
    spdlog::info("GEMM threading at {} threads: {}", threads(), describe(choice));
  return choice;
}

std::shared_ptr<Orderer> Trainer::make_orderer() const {
  return registry_.create<Orderer>(Kind::orderer, experiment_.orderer.plugin,
                                   experiment_.orderer.params);
}

double Trainer::elapsed() const {
  return elapsed_before_ +
         std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

Outcome Trainer::run(const RowSink& emit, const CheckpointSink& checkpoint,
                     const StateStore* resume) {
  std::int64_t rows = 0;
  started_ = std::chrono::steady_clock::now();
  if (resume) {
    load(*resume);
    rows = resume->integers("trainer/rows").at(0);
  } else if (imported_sums_) {
    start_from_imported_sums();
  }
  // Every row carries the training clock (the one field a re-run does not reproduce).
  auto row = [&](const Json& r) {
    Json timed = r;
    timed["elapsed_s"] = std::round(elapsed() * 1000) / 1000;
    emit(timed);
    ++rows;
  };
  using Clock = std::chrono::steady_clock;
  auto last_saved = Clock::now();
  auto save_checkpoint = [&] {
    StateStore state;
    save(state);
    state.put("trainer/rows", std::vector<std::int64_t>{rows});
    checkpoint(state);
    last_saved = Clock::now();
  };
  const auto every = experiment_.train.integer("checkpoint_every");
  // Engines that fit unit by unit may save the pipeline after any unit; the hook dies with
  // run(). Each save is a whole, fsynced checkpoint (a few ms): after every one of a hashtron
  // epoch's hundreds of fits, they made runs ~1.8x slower, so they are spaced in time. Where
  // they land changes no result: a resume continues at the unit after the last one saved.
  const std::chrono::duration<double> unit_spacing(
      experiment_.train.real("unit_checkpoint_seconds"));
  auto save_after_unit = [&] {
    if (Clock::now() - last_saved >= unit_spacing) save_checkpoint();
  };
  struct UnitSaves {
    Engine& engine;
    ~UnitSaves() { engine.save_after_each_unit({}); }
  } unit_saves{*engine_};
  if (every > 0) engine_->save_after_each_unit(save_after_unit);
  const auto epochs = static_cast<int>(experiment_.train.integer("epochs"));
  const int tasks = static_cast<int>(data_.tasks.size());
  Model& model = engine_->model();

  Outcome outcome;
  // A stop signal is honoured where a checkpoint is whole: between epochs and between tasks.
  auto interrupted = [&] {
    outcome.status = "interrupted";
    outcome.reason = "interrupted by " + signal_name(stop_signal()) + " after epoch " +
                     std::to_string(at_.epoch);
    outcome.summary["epochs"] = at_.epoch;
    return outcome;
  };
  if (stop_signal()) return interrupted();  // before training: the last checkpoint stands
  while (at_.task < tasks) {
    const Task& task = data_.tasks[static_cast<std::size_t>(at_.task)];
    model.set_task(at_.task);
    if (!at_.in_stage) {
      stage_.reset();
      if (!task_stopped_) {  // an early stop ends the task: the orderer is not asked again
        Rng rng = Rng::stream(seed_, "orderer", static_cast<std::uint64_t>(at_.epoch));
        const OrderContext ctx{*graph_, sums_, zones_, rng, at_.stage, epochs,
                               last_train_accuracy_, stage_ended_early_};
        if (const PluginCall call(orderer_entry_); true) stage_ = orderer_->next(ctx);
      }
      if (!stage_) {  // the task is done
        end_task(row);
        ++at_.task;
        at_.stage = 0;
        at_.task_epoch = 0;
        orderer_ = make_orderer();
        if (at_.task < tasks) {  // the summary keeps the last task's best epoch
          best_ = {};
          task_stopped_ = false;
          save_checkpoint();
          if (stop_signal()) return interrupted();
        }
        continue;
      }
      at_.in_stage = true;
      at_.stage_epoch = 0;
      stage_started_ = elapsed();
      stage_best_accuracy_ = -1;
      stage_stalled_ = 0;
      stage_ended_early_.clear();
      if (sums_.stages().empty()) bootstrap_output_capacity(task);
    }
    while (at_.stage_epoch < stage_->epochs && stage_ended_early_.empty()) {
      const double lr = engine_->learning_rate(task, at_.task_epoch);
      EpochFigures epoch;
      if (const PluginCall call(topology_entry_); true)  // the topology's model does the work
        epoch = engine_->fit_epoch(task, *stage_, at_.epoch, at_.task_epoch);
      ++at_.stage_epoch;
      ++at_.epoch;
      ++at_.task_epoch;
      if (!epoch.finite) {
        outcome.status = "diverged";
        outcome.reason = "the loss became NaN or infinite in epoch " + std::to_string(at_.epoch);
        outcome.summary = final_summary();
        outcome.summary["epoch"] = at_.epoch;
        return outcome;
      }
      Figures figures;
      Rng rng = Rng::stream(seed_, "epoch_end", static_cast<std::uint64_t>(at_.epoch));
      engine_->end_epoch(at_.epoch, rng, figures);
      const double accuracy_before = last_train_accuracy_;
      last_train_loss_ = epoch.loss;
      last_train_accuracy_ = epoch.accuracy;
      last_val_accuracy_ = engine_->accuracy(task.val);
      const std::optional<double> val_loss = engine_->loss(task.val);
      Json r = Json::object();
      r["kind"] = "epoch";
      r["epoch"] = at_.epoch;
      r["task"] = at_.task;
      r["stage"] = at_.stage;
      r["lr"] = lr;
      r["train_loss"] = epoch.loss;
      r["train_accuracy"] = epoch.accuracy;
      r["val_accuracy"] = last_val_accuracy_;
      if (val_loss && std::isfinite(*val_loss)) r["val_loss"] = *val_loss;
      for (const auto& [name, value] : figures) r[name] = value;
      row(r);
      if (const auto alert = memorization_alert(accuracy_before, epoch.accuracy, rules_)) {
        spdlog::warn("alert after epoch {}: {}", at_.epoch, alert->message);
        Json a = to_json(*alert);
        a["task"] = at_.task;
        a["stage"] = at_.stage;
        a["epoch"] = at_.epoch;
        row(a);
      }
      judge_epoch(epoch.accuracy, val_loss);
      const std::string loss = epoch.has_loss ? fmt::format("loss {:.4f}  ", epoch.loss) : "";
      progress_->epoch_done(at_.epoch, fmt::format("{}train {:.2f}%  val {:.2f}%", loss,
                                                   100 * epoch.accuracy, 100 * last_val_accuracy_));
      const bool due = every > 0 && at_.epoch % every == 0;
      if (due || stop_signal()) save_checkpoint();
      if (stop_signal()) return interrupted();
    }
    end_stage(task, row);
    at_.in_stage = false;
    ++at_.stage;
  }
  outcome.summary = final_summary();
  add_schedule_figures(outcome.summary);
  save_checkpoint();
  return outcome;
}

void Trainer::judge_epoch(double train_accuracy, const std::optional<double>& val_loss) {
  // The stage: progress is a train accuracy above the stage's best by more than the tolerance.
  if (train_accuracy > stage_best_accuracy_ + stage_->tolerance) {
    stage_best_accuracy_ = train_accuracy;
    stage_stalled_ = 0;
  } else {
    ++stage_stalled_;
  }
  if (stage_->patience > 0 && stage_stalled_ >= stage_->patience)
    stage_ended_early_ = fmt::format("{} epochs without progress", stage_stalled_);
  else if (stage_->timeout_seconds > 0 && elapsed() - stage_started_ >= stage_->timeout_seconds)
    stage_ended_early_ = fmt::format("{:.0f} s (stage_timeout)", elapsed() - stage_started_);

  // The task's best epoch on best_metric, and early stopping.
  const bool by_loss = best_metric_ == "val_loss";
  if (by_loss && !(val_loss && std::isfinite(*val_loss))) return;
  const double value = by_loss ? *val_loss : last_val_accuracy_;
  const double delta = experiment_.train.real("early_stop_delta");
  const bool better = best_.epoch == 0 ||
                      (by_loss ? value < best_.value - delta : value > best_.value + delta);
  if (better) {
    best_ = {at_.epoch, value,         val_loss.value_or(0), last_val_accuracy_,
             train_accuracy, val_loss.has_value(), 0};
  } else {
    ++best_.since;
  }
  const auto patience = experiment_.train.integer("early_stop");
  if (patience > 0 && best_.since >= patience && !task_stopped_) {
    task_stopped_ = true;
    stage_ended_early_ = fmt::format("early stop: {} has not improved for {} epochs (best {:.4f} "
                                     "at epoch {})",
                                     best_metric_, best_.since, best_.value, best_.epoch);
    spdlog::info("{}", stage_ended_early_);
  }
}

void Trainer::start_from_imported_sums() {
  // The earlier run's last decisions carry over: each unit starts with the capacity the law
  // gives its (stale) history, instead of phase 0's bootstrap.
  if (!capacity_) return;
  for (const auto& [unit, history] : sums_.units()) {
    if (history.empty()) continue;
    double next = 0;
    if (const PluginCall call(capacity_entry_); true)
      next = capacity_->next(history, history.back().capacity);
    capacity_now_[unit] = static_cast<float>(next);
    engine_->model().apply_capacity(unit, next);
  }
}

void Trainer::bootstrap_output_capacity(const Task& task) {
  // Phase 0 of the backward pipeline: the run's first stage trains the output layer alone, with
  // the capacity the engine bootstraps it with (hashtrons: premodulo = N); the law takes over
  // from the sums this stage records.
  const int output = static_cast<int>(graph_->layers().size()) - 1;
  if (!capacity_ || stage_->layer != output) return;
  const double capacity =
      engine_->bootstrap_capacity(static_cast<std::int64_t>(task.train.size()));
  if (capacity <= 0) return;
  for (int i = 0; i < graph_->layers().back().size; ++i) {
    capacity_now_[{output, i}] = static_cast<float>(capacity);
    engine_->model().apply_capacity({output, i}, capacity);
  }
}

void Trainer::add_schedule_figures(Json& summary) const {
  // The backward-pipeline epic's success metrics, for experiments' [[expect]] checks.
  const auto& stages = sums_.stages();
  const int output = static_cast<int>(graph_->layers().size()) - 1;
  if (!stages.empty()) summary["final_neuron_first"] = stages.front().layer == output ? 1 : 0;
  summary["sumcache_bytes"] = sums_.bytes();
  if (capacity_) {
    const LawFit fit = capacity_law_fit(sums_);
    if (fit.points >= 2 && std::isfinite(fit.r_squared)) summary["capacity_r2"] = fit.r_squared;
  }
}

void Trainer::end_stage(const Task& task, const RowSink& emit) {
  // Every unit's sum S over the N training samples, in one pass.
  const Samples& train = task.train;
  const auto n = static_cast<std::int32_t>(train.size());
  engine_->unit_sums(train, unit_sums_);
  const double duration = elapsed() - stage_started_;
  StageRecord stage_record{at_.stage, at_.epoch, stage_started_, duration, last_train_accuracy_,
                           last_val_accuracy_, stage_->label};
  stage_record.layer = stage_->layer;
  sums_.record_stage(stage_record);
  Model& model = engine_->model();
  Json layers = Json::array();
  const auto& unit_layers = graph_->layers();
  for (int layer = 0; layer < static_cast<int>(unit_layers.size()); ++layer) {
    const int size = unit_layers[static_cast<std::size_t>(layer)].size;
    for (int i = 0; i < size; ++i) {
      const UnitId unit{layer, i};
      const auto s = static_cast<std::int32_t>(
          unit_sums_[static_cast<std::size_t>(graph_->offset(layer) + i)]);
      const auto it = capacity_now_.find(unit);
      const float used = it == capacity_now_.end() ? 0.0f : it->second;
      sums_.record(unit, {s, n, used, at_.stage});
      if (capacity_) {
        double next = 0;
        if (const PluginCall call(capacity_entry_); true)
          next = capacity_->next(sums_.history(unit), used);
        capacity_now_[unit] = static_cast<float>(next);
        model.apply_capacity(unit, next);
      }
    }
    layers.push_back(to_json(summarize_layer(sums_, layer, zones_),
                             unit_layers[static_cast<std::size_t>(layer)].name));
  }
  Json r = Json::object();
  r["kind"] = "stage";
  r["task"] = at_.task;
  r["stage"] = at_.stage;
  r["label"] = stage_->label;
  r["layer"] = stage_->layer;
  r["units"] = to_json(stage_->units);
  r["epoch"] = at_.epoch;
  r["train_accuracy"] = last_train_accuracy_;
  r["val_accuracy"] = last_val_accuracy_;
  r["duration_s"] = std::round(duration * 1000) / 1000;
  if (!stage_ended_early_.empty()) r["ended_early"] = stage_ended_early_;
  r["layers"] = std::move(layers);
  emit(r);
  for (const Alert& alert : new_alerts(sums_, unit_layers, rules_)) {
    spdlog::warn("alert after stage {} ({}): {}", at_.stage, stage_->label, alert.message);
    Json row = to_json(alert);
    row["task"] = at_.task;
    row["stage"] = at_.stage;
    row["epoch"] = at_.epoch;
    emit(row);
  }
}

void Trainer::end_task(const RowSink& emit) {
  const Task& task = data_.tasks[static_cast<std::size_t>(at_.task)];
  Rng rng = Rng::stream(seed_, "end_task", static_cast<std::uint64_t>(at_.task));
  engine_->end_task(task, rng);
  // Accuracy on every task's test split after this task: the continual-learning matrix.
  Model& model = engine_->model();
  std::vector<double> accuracies;
  for (std::size_t j = 0; j < data_.tasks.size(); ++j) {
    model.set_task(static_cast<int>(j));
    accuracies.push_back(engine_->accuracy(data_.tasks[j].test));
  }
  model.set_task(at_.task);
  task_accuracy_.push_back(accuracies);
  Json r = Json::object();
  r["kind"] = "task";
  r["task"] = at_.task;
  r["name"] = task.name;
  Json list = Json::array();
  for (double a : accuracies) list.push_back(a);
  r["test_accuracy"] = std::move(list);
  emit(r);
}

Json Trainer::final_summary() {
  Json s = Json::object();
  s["status"] = "ok";
  s["epochs"] = at_.epoch;
  s["train_loss"] = last_train_loss_;
  s["train_accuracy"] = last_train_accuracy_;
  s["val_accuracy"] = last_val_accuracy_;
  // The task in training (the last, once done): its validation loss shows overfitting. Measured
  // on the model as it ends, not taken from the last epoch's row: a stage's end may change the
  // model, a resumed run has no row of it, and a diverged model has none to give.
  const auto current = std::min(static_cast<std::size_t>(at_.task), data_.tasks.size() - 1);
  const auto val_loss = engine_->loss(data_.tasks[current].val);
  if (val_loss && std::isfinite(*val_loss)) s["val_loss"] = *val_loss;  // none after divergence
  s["label_shift"] = data_.label_shift;
  if (best_.epoch > 0) {  // of the task trained last
    s["best_metric"] = best_metric_;
    s["best_epoch"] = best_.epoch;
    s["best_val_accuracy"] = best_.val_accuracy;
    s["best_train_accuracy"] = best_.train_accuracy;
    if (best_.has_val_loss) s["best_val_loss"] = best_.val_loss;
  }
  if (task_stopped_) s["stopped_early"] = true;
  if (task_accuracy_.empty()) return s;
  // Final accuracy over the tasks seen, forgetting (Chaudhry et al. 2018) and backward transfer
  // (Lopez-Paz & Ranzato 2017) over the tasks before the last.
  const auto& last = task_accuracy_.back();
  const std::size_t seen = task_accuracy_.size();
  double average = 0, forgetting = 0, transfer = 0;
  for (std::size_t j = 0; j < seen; ++j) average += last[j];
  for (std::size_t j = 0; j + 1 < seen; ++j) {
    double best = 0;
    for (std::size_t i = j; i + 1 < seen; ++i) best = std::max(best, task_accuracy_[i][j]);
    forgetting += best - last[j];
    transfer += last[j] - task_accuracy_[j][j];
  }
  s["test_accuracy"] = average / static_cast<double>(seen);
  if (seen > 1) {
    s["forgetting"] = forgetting / static_cast<double>(seen - 1);
    s["backward_transfer"] = transfer / static_cast<double>(seen - 1);
  }
  Figures figures;
  engine_->model().evaluate(data_.tasks.back().test, figures);
  for (const auto& [name, value] : figures) s[name] = value;
  return s;
}

void Trainer::save(StateStore& out) const {
  engine_->save(out);
  orderer_->save(out, "orderer/");
  save_sums(sums_, run_identity(experiment_.name, seed_, *graph_), out, kSumsPrefix);
  out.put("trainer/position",
          std::vector<std::int64_t>{at_.task, at_.stage, at_.stage_epoch, at_.epoch, at_.task_epoch,
                                    at_.in_stage});
  if (stage_) {
    out.put("trainer/stage", std::vector<std::int64_t>{stage_->epochs, stage_->layer,
                                                       stage_->units.all, stage_->patience});
    out.put("trainer/stage_limits",
            std::vector<double>{stage_->tolerance, stage_->timeout_seconds});
    out.put("trainer/stage_units", flatten(stage_->units.units));
    out.put_text("trainer/stage_label", stage_->label);
  }
  std::vector<UnitId> units;
  std::vector<float> capacities;
  for (const auto& [unit, c] : capacity_now_) {
    units.push_back(unit);
    capacities.push_back(c);
  }
  out.put("trainer/capacity_units", flatten(units));
  out.put("trainer/capacity_values", capacities);
  std::vector<double> matrix;
  for (const auto& r : task_accuracy_) matrix.insert(matrix.end(), r.begin(), r.end());
  out.put("trainer/task_accuracy", matrix);
  out.put("trainer/last",
          std::vector<double>{last_train_accuracy_, last_val_accuracy_, last_train_loss_});
  // The clock (a re-run's differs: compare checkpoints without it) and the stage's and task's
  // judges: where a resumed run ends a stage early, or stops, is where the whole run would.
  out.put("trainer/clock", std::vector<double>{elapsed(), stage_started_});
  out.put("trainer/judges",
          std::vector<double>{stage_best_accuracy_, double(stage_stalled_), double(task_stopped_),
                              double(best_.epoch), best_.value, best_.val_loss,
                              best_.val_accuracy, best_.train_accuracy, double(best_.has_val_loss),
                              double(best_.since)});
  out.put_text("trainer/stage_ended_early", stage_ended_early_);
}

void Trainer::load(const StateStore& in) {
  engine_->load(in);
  orderer_->load(in, "orderer/");
  sums_ = load_sums(in, run_identity(experiment_.name, seed_, *graph_), kSumsPrefix);
  const auto pos = in.integers("trainer/position");
  at_ = {static_cast<int>(pos.at(0)), static_cast<int>(pos.at(1)), static_cast<int>(pos.at(2)),
         static_cast<int>(pos.at(3)), static_cast<int>(pos.at(4)), pos.at(5) != 0};
  stage_.reset();
  if (in.has("trainer/stage")) {
    const auto st = in.integers("trainer/stage");
    const auto limits = in.reals("trainer/stage_limits");
    stage_ = Stage{UnitSelection{st.at(2) != 0, unflatten(in.integers("trainer/stage_units"))},
                   static_cast<int>(st.at(0)),
                   static_cast<int>(st.at(1)),
                   in.text("trainer/stage_label"),
                   static_cast<int>(st.at(3)),
                   limits.at(0),
                   limits.at(1)};
  }
  capacity_now_.clear();
  const auto units = unflatten(in.integers("trainer/capacity_units"));
  const auto capacities = in.floats("trainer/capacity_values");
  for (std::size_t i = 0; i < units.size() && i < capacities.size(); ++i)
    capacity_now_[units[i]] = capacities[i];
  task_accuracy_.clear();
  const auto matrix = in.reals("trainer/task_accuracy");
  const std::size_t width = data_.tasks.size();
  for (std::size_t i = 0; i + width <= matrix.size(); i += width)
    task_accuracy_.emplace_back(matrix.begin() + static_cast<std::ptrdiff_t>(i),
                                matrix.begin() + static_cast<std::ptrdiff_t>(i + width));
  const auto last = in.reals("trainer/last");
  last_train_accuracy_ = last.at(0);
  last_val_accuracy_ = last.at(1);
  last_train_loss_ = last.at(2);
  const auto clock = in.reals("trainer/clock");
  elapsed_before_ = clock.at(0);
  stage_started_ = clock.at(1);
  const auto j = in.reals("trainer/judges");
  if (j.size() != 10)
    throw Error("checkpoint tensor trainer/judges holds " + std::to_string(j.size()) +
                " values, expected 10");
  stage_best_accuracy_ = j[0];
  stage_stalled_ = static_cast<int>(j[1]);
  task_stopped_ = j[2] != 0;
  best_ = {static_cast<int>(j[3]), j[4], j[5], j[6], j[7], j[8] != 0, static_cast<int>(j[9])};
  stage_ended_early_ = in.text("trainer/stage_ended_early");
}

}  // namespace ablate
