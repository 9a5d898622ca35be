// Planning studies: the trials of an experiment's [[arm]]s or [sweep], each one loaded and
// validated as a whole experiment before anything runs, and the findings' checks validated
// against the figures the arms report.
#include "study/plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

#include "ablate/random.hpp"
#include "config/document.hpp"
#include "config/location.hpp"
#include "config/study_sections.hpp"
#include "config/suggest.hpp"
#include "plugins/registry.hpp"

namespace ablate::study {

namespace fs = std::filesystem;

const char* to_string(StudyKind kind) { return kind == StudyKind::sweep ? "sweep" : "reproduce"; }

namespace {

/// Trials that differ only in seed: an arm, or a sweep point.
struct Group {
  std::string name;   // Trial::group
  std::string label;  // names the group in messages: "arm 'fixed'"
  std::string id;     // the prefix of its trials' ids: "fixed", "p003"
  std::vector<Setting> settings;
};

std::string point_name(const std::vector<Setting>& point) {
  std::vector<std::string> parts;
  for (const Setting& setting : point) parts.push_back(setting.path + "=" + setting.value);
  return join(parts, " ");
}

/// `value` with 6 significant digits: drawn reals read well in group names and tables.
double round_for_display(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return std::strtod(text, nullptr);
}

Setting draw(const SweepKey& key, Rng& rng) {
  const SweepRange& range = *key.range;
  if (range.integer && !range.log) {
    const auto count = static_cast<std::uint64_t>(range.max - range.min) + 1;
    const auto value =
        static_cast<std::int64_t>(range.min) + static_cast<std::int64_t>(rng.below(count));
    return {key.path, std::to_string(value), key.where};
  }
  const double u = rng.uniform();
  if (range.integer) {  // uniform in log over [min, max + 1), floored: each integer its share
    const double value = std::floor(
        std::exp(std::log(range.min) + u * (std::log(range.max + 1) - std::log(range.min))));
    return {key.path, std::to_string(static_cast<std::int64_t>(std::min(value, range.max))),
            key.where};
  }
  const double value =
      range.log ? std::exp(std::log(range.min) + u * (std::log(range.max) - std::log(range.min)))
                : range.min + u * (range.max - range.min);
  return {key.path, to_toml(Value(std::clamp(round_for_display(value), range.min, range.max))),
          key.where};
}

/// Every combination, keys in file order, the last key changing fastest.
std::vector<std::vector<Setting>> grid_points(const std::vector<SweepKey>& keys) {
  std::vector<std::vector<Setting>> points{{}};
  for (const SweepKey& key : keys) {
    std::vector<std::vector<Setting>> next;
    for (const auto& point : points)
      for (const Setting& choice : key.choices) {
        next.push_back(point);
        next.back().push_back(choice);
      }
    points = std::move(next);
  }
  return points;
}

/// The i-th value of every key together (the lengths are equal: checked when read).
std::vector<std::vector<Setting>> zip_points(const std::vector<SweepKey>& keys) {
  std::vector<std::vector<Setting>> points(keys.front().choices.size());
  for (std::size_t i = 0; i < points.size(); ++i)
    for (const SweepKey& key : keys) points[i].push_back(key.choices[i]);
  return points;
}

/// `trials` distinct points drawn from the keys' lists and ranges; the same seed, the same points.
std::vector<std::vector<Setting>> random_points(const SweepSection& sweep, std::int64_t seed) {
  Rng rng = Rng::stream(static_cast<std::uint64_t>(seed), "sweep");
  const auto wanted = static_cast<std::size_t>(sweep.trials);
  std::vector<std::vector<Setting>> points;
  std::set<std::string> seen;
  // Lists alone may hold fewer distinct points than asked for: give up after many repeats.
  for (std::size_t attempt = 0; points.size() < wanted && attempt < wanted * 1000; ++attempt) {
    std::vector<Setting> point;
    for (const SweepKey& key : sweep.keys)
      point.push_back(key.range ? draw(key, rng) : key.choices[rng.below(key.choices.size())]);
    if (seen.insert(point_name(point)).second) points.push_back(std::move(point));
  }
  if (points.size() < wanted)
    throw ConfigError("sweep.trials = " + std::to_string(wanted) + " but the keys' values give " +
                          std::to_string(points.size()) +
                          " distinct points: lower trials, or add values or ranges",
                      sweep.where.str());
  return points;
}

bool reports(const std::vector<std::string>& figures, const std::string& metric) {
  return std::any_of(figures.begin(), figures.end(), [&](const std::string& figure) {
    if (!figure.ends_with('*')) return figure == metric;
    const std::string prefix = figure.substr(0, figure.size() - 1);
    return metric.size() > prefix.size() && metric.starts_with(prefix);
  });
}

class Planner {
 public:
  Planner(const fs::path& file, const std::vector<Override>& overrides, Registry& registry)
      : file_(file),
        overrides_(overrides),
        registry_(registry),
        base_(load_experiment(file, overrides, registry)) {
    Document document = read_document(file);
    apply_overrides(document, overrides);
    sections_ = read_study_sections(document.root);
    seeds_ = base_.experiment.integers("seeds");
    if (seeds_.empty()) seeds_.push_back(base_.experiment.integer("seed"));
    for (std::size_t i = 0; i < seeds_.size(); ++i)
      if (std::count(seeds_.begin(), seeds_.begin() + static_cast<std::ptrdiff_t>(i), seeds_[i]))
        throw ConfigError("experiment.seeds lists seed " + std::to_string(seeds_[i]) +
                              " twice: each trial id holds its seed, so seeds must differ",
                          seeds_location(document));
  }

  Study reproduce() {
    if (sections_.arms.empty())
      throw ConfigError(
          "there is no [[arm]]: `ablate reproduce` runs each arm x seed; add arms, "
          "e.g. [[arm]] name = \"wide\" set = { \"topology.hidden\" = [512] }",
          file_.string());
    Study study = start(StudyKind::reproduce);
    std::map<std::string, std::vector<std::string>> figures_of;
    std::vector<std::string> arm_names;
    if (const auto& regime = sections_.regime) {
      study.regime = Regime{regime->path, {}, {}};
      for (const Setting& value : regime->values) study.regime->values.push_back(value.value);
      for (const ArmSection& arm : sections_.arms)
        if (arm.sets(regime->path)) study.regime->controls.insert(arm.name);
    }
    // Regime values outermost: each value's arms side by side, as a reader compares them.
    const std::size_t values = study.regime ? study.regime->values.size() : 1;
    for (std::size_t r = 0; r < values; ++r)
      for (const ArmSection& arm : sections_.arms) {
        const bool control = study.regime && study.regime->controls.count(arm.name);
        if (control && r > 0) continue;  // a control runs once, compared at every value
        Group group{arm.name, "arm '" + arm.name + "'", arm.name, arm.settings};
        if (control) {
          group.label += " (sets " + study.regime->key + " itself: the same at every value)";
        } else if (study.regime) {
          group.name = study.regime->group(arm.name, r);
          group.label += " at " + study.regime->key + " = " + study.regime->values[r];
          group.id += "-r" + std::to_string(r);
          group.settings.push_back(sections_.regime->values[r]);
        }
        const Experiment first = add_group(study, group);
        if (r == 0) {
          figures_of[arm.name] = figures_reported(first);
          arm_names.push_back(arm.name);
        }
      }
    for (const ExpectSection& expect : sections_.expectations) {
      Expectation expectation{expect.finding, expect.check, parse_check(expect.check, expect.where),
                              expect.where, {}};
      if (expect.holds_for)
        for (const Setting& value : *expect.holds_for) expectation.holds_for.push_back(value.value);
      for (const FigureRef& figure : expectation.check.figures())
        check_figure(expect, figure, arm_names, figures_of);
      study.expectations.push_back(std::move(expectation));
    }
    return study;
  }

  Study sweep() {
    if (!sections_.sweep)
      throw ConfigError(
          "there is no [sweep]: `ablate sweep` runs its points x seeds; add one, e.g. "
          "[sweep] mode = \"grid\" keys = { \"train.lr\" = [0.01, 0.1] }",
          file_.string());
    const SweepSection& sweep = *sections_.sweep;
    Study study = start(StudyKind::sweep);
    std::vector<std::vector<Setting>> points;
    if (sweep.mode == "grid")
      points = grid_points(sweep.keys);
    else if (sweep.mode == "zip")
      points = zip_points(sweep.keys);
    else
      points = random_points(sweep, sweep.seed.value_or(base_.experiment.integer("seed")));
    for (std::size_t i = 0; i < points.size(); ++i) {
      char id[32];
      std::snprintf(id, sizeof id, "p%03zu", i);
      const std::string name = point_name(points[i]);
      add_group(study, {name, "sweep point " + std::string(id) + " (" + name + ")", id, points[i]});
    }
    return study;
  }

 private:
  Study start(StudyKind kind) const {
    Study study;
    study.kind = kind;
    study.name = base_.name;
    study.file = fs::absolute(file_).lexically_normal();
    return study;
  }

  std::string seeds_location(const Document& document) const {
    const toml::node* seeds = document.root["experiment"]["seeds"].node();
    return seeds ? location_of(*seeds).str() : file_.string();
  }

  /// The group's trials, a seed each, appended to `study`; returns the first one's experiment.
  Experiment add_group(Study& study, const Group& group) {
    for (const Setting& setting : group.settings)
      if (std::find(study.parameters.begin(), study.parameters.end(), setting.path) ==
          study.parameters.end())
        study.parameters.push_back(setting.path);
    std::vector<Override> settings;
    for (const Setting& setting : group.settings) settings.push_back({setting.path, setting.value});
    std::optional<Experiment> first;
    for (const std::int64_t seed : seeds_) {
      Experiment experiment = load(group, settings, seed);
      study.trials.push_back({group.id + "-s" + std::to_string(seed), group.name, settings, seed,
                              experiment.resolved_toml});
      if (!first) first = std::move(experiment);
    }
    return std::move(*first);
  }

  /// The experiment with the group's settings on top of the file and --set, and the seed. An
  /// error in a setting's value is reported where the file writes it, naming the group.
  Experiment load(const Group& group, const std::vector<Override>& settings, std::int64_t seed) {
    std::vector<Override> all = overrides_;
    all.insert(all.end(), settings.begin(), settings.end());
    all.push_back({"experiment.seed", std::to_string(seed)});
    try {
      return load_experiment(file_, all, registry_);
    } catch (const ConfigError& error) {
      for (const Setting& setting : group.settings)
        if (error.where() == std::string(kOverrideOrigin) + setting.path)
          throw ConfigError(group.label + ": " + error.what(), setting.where.str());
      throw ConfigError(group.label + ": " + error.what(), error.where());
    }
  }

  /// The host's figures and those the experiment's plugins declare.
  std::vector<std::string> figures_reported(const Experiment& experiment) const {
    std::vector<std::string> figures = host_figures();
    std::vector<const PluginChoice*> choices{&experiment.topology, &experiment.orderer};
    for (const auto& dataset : experiment.datasets) choices.push_back(&dataset);
    if (experiment.capacity) choices.push_back(&*experiment.capacity);
    for (const auto& regularizer : experiment.regularizers) choices.push_back(&regularizer);
    for (const PluginChoice* choice : choices)
      if (const PluginEntry* entry = registry_.find(choice->kind, choice->plugin))
        for (const std::string& figure : entry->info->figures)
          if (std::find(figures.begin(), figures.end(), figure) == figures.end())
            figures.push_back(figure);
    return figures;
  }

  static void check_figure(const ExpectSection& expect, const FigureRef& figure,
                           const std::vector<std::string>& arms,
                           const std::map<std::string, std::vector<std::string>>& figures_of) {
    const std::string check = "check \"" + expect.check + "\": ";
    const auto known = figures_of.find(figure.arm);
    if (known == figures_of.end())
      throw ConfigError(check + "'" + figure.str() + "' names no arm '" + figure.arm + "';" +
                            did_you_mean(figure.arm, arms) + " arms: " + join(arms),
                        expect.where.str());
    if (!reports(known->second, figure.metric))
      throw ConfigError(check + "arm '" + figure.arm + "' reports no figure '" + figure.metric +
                            "';" + did_you_mean(figure.metric, known->second) +
                            " figures of arm '" + figure.arm + "': " + join(known->second),
                        expect.where.str());
  }

  fs::path file_;
  std::vector<Override> overrides_;
  Registry& registry_;
  Experiment base_;
  StudySections sections_;
  std::vector<std::int64_t> seeds_;
};

}  // namespace

const std::vector<std::string>& host_figures() {
  // Keep in step with Trainer::final_summary / add_schedule_figures and run.cpp's summary.
  static const std::vector<std::string> figures{
      "test_accuracy",     "train_accuracy", "val_accuracy", "train_loss",
      "val_loss",          "label_shift",    "epochs",       "forgetting",
      "backward_transfer", "seconds",        "seed",         "final_neuron_first",
      "sumcache_bytes",    "capacity_r2",    "best_epoch",   "best_val_loss",
      "best_val_accuracy", "best_train_accuracy"};
  return figures;
}

Study plan_reproduce(const fs::path& file, const std::vector<Override>& overrides,
                     Registry& registry) {
  return Planner(file, overrides, registry).reproduce();
}

Study plan_sweep(const fs::path& file, const std::vector<Override>& overrides, Registry& registry) {
  return Planner(file, overrides, registry).sweep();
}

StudyOutline study_outline(const fs::path& file) {
  try {
    const StudySections sections = read_study_sections(read_document(file).root);
    return {sections.arms.size(), sections.sweep.has_value()};
  } catch (const Error&) {
    return {};  // the run or check that asked reports the problem
  }
}

}  // namespace ablate::study
