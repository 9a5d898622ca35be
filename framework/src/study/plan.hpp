#pragma once
// Studies: the trials an experiment file asks for beyond a single run, and the findings it states.
//   `ablate reproduce FILE`: each [[arm]] x each seed of experiment.seeds, checked against its
//                            [[expect]] findings;
//   `ablate sweep FILE`:     each point of [sweep] (grid, zip or random over any keys) x each seed.
// Everything here is decided before anything runs: a bad arm, sweep key or check is a ConfigError
// naming file:line:col, like any other config error.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/experiment.hpp"

namespace ablate {
class Registry;
}

namespace ablate::study {

/// One run of a study: what makes it differ from the base experiment, and the resolved
/// experiment `ablate run` takes.
struct Trial {
  std::string id;                  // unique in the study, safe as a folder name: "fixed-s1", "p003-s2"
  std::string group;               // shared by trials that differ only in seed: the arm's name, or
                                   // the sweep point "train.lr=0.1 topology.hidden=[64]"
  std::vector<Override> settings;  // the arm's or sweep point's keys (seed excluded), as --set texts
  std::int64_t seed = 0;
  std::string config;              // the trial's resolved TOML (no [[arm]] [[expect]] [sweep])
};

/// A figure a check reads: the mean over seeds of `metric` in summary.json of the arm's trials.
struct FigureRef {
  std::string arm;
  std::string metric;
  std::string str() const { return arm + "." + metric; }
  bool operator==(const FigureRef&) const = default;
};

/// A parsed check expression (syntax in docs/EXPERIMENT_FILES.md): numbers, arm.metric figures,
/// + - * / and unary -, parentheses, comparisons < <= > >= == !=, and `and` `or` `not`.
class Check {
 public:
  struct Node;
  /// A figure's value in each seed of its arm.
  using Values = std::function<std::vector<double>(const FigureRef&)>;
  Check();
  Check(std::shared_ptr<const Node> root, std::vector<FigureRef> figures,
        std::vector<std::pair<FigureRef, FigureRef>> pairs);
  /// The figures it reads, each once, in order of first appearance.
  const std::vector<FigureRef>& figures() const { return figures_; }
  /// The pairs of figures it compares (a.x < b.x, or a statistic of the two), each once: what
  /// `reproduce` prints a difference, its interval and p for.
  const std::vector<std::pair<FigureRef, FigureRef>>& pairs() const { return pairs_; }
  /// Evaluates with each figure's per-seed values (a figure reads as their mean); a comparison
  /// is 1 or 0. A NaN figure, or a statistic of fewer than 2 seeds, makes every comparison that
  /// reads it false.
  double value(const Values& values) const;
  bool holds(const Values& values) const;
  /// The same with one value per figure (statistics then read NaN).
  double value(const std::function<double(const FigureRef&)>& figure) const;
  bool holds(const std::function<double(const FigureRef&)>& figure) const;

 private:
  std::shared_ptr<const Node> root_;
  std::vector<FigureRef> figures_;
  std::vector<std::pair<FigureRef, FigureRef>> pairs_;
};

/// Parses `text`; ConfigError at `where` naming the column of the problem and what was expected.
Check parse_check(const std::string& text, const Location& where);

/// A finding an experiment records: a sentence and its check.
struct Expectation {
  std::string finding;
  std::string text;  // the check as written
  Check check;
  Location where;
  std::vector<std::string> holds_for;  // the regime values it claims; empty: all
};

/// [regime]: every arm runs at each value of one key; findings are checked at each.
struct Regime {
  std::string key;                  // "split.n_train"
  std::vector<std::string> values;  // as TOML text: "250", "0.1"
  /// Arms that set the key themselves: controls the regime does not move ("mlp" with
  /// topology.chains = 0 beside a chains regime). Each runs once, its one group named as the arm,
  /// and is compared at every value.
  std::set<std::string> controls;
  /// The group of `arm`'s trials at value i: "plain split.n_train=250"; a control's own name.
  std::string group(const std::string& arm, std::size_t i) const {
    if (controls.count(arm)) return arm;
    return arm + " " + key + "=" + values.at(i);
  }
};

enum class StudyKind { reproduce, sweep };

/// "reproduce" or "sweep": the command and the manifest's `kind`.
const char* to_string(StudyKind kind);

struct Study {
  StudyKind kind = StudyKind::reproduce;
  std::string name;                        // experiment.name
  std::filesystem::path file;              // the experiment file, absolute
  std::vector<std::string> parameters;     // keys the trials vary (results.csv columns), seed aside
  std::vector<Trial> trials;               // groups in file order, seeds inner
  std::vector<Expectation> expectations;   // reproduce only
  std::optional<Regime> regime;            // reproduce only: groups are Regime::group names
};

/// The arms x seeds of `file`, at each [regime] value if it has one (overrides apply to every
/// arm). ConfigError when the file has no
/// [[arm]], when an arm sets an unknown key or a bad value, when a check names an unknown arm or
/// a metric no plugin of that arm reports.
Study plan_reproduce(const std::filesystem::path& file, const std::vector<Override>& overrides,
                     Registry& registry);

/// The [sweep] points x seeds of `file`. ConfigError when there is no [sweep], or a key or value
/// of it is invalid (each point is validated like an experiment).
Study plan_sweep(const std::filesystem::path& file, const std::vector<Override>& overrides,
                 Registry& registry);

/// The figures the host writes into every summary.json (train/trainer.cpp final_summary and
/// add_schedule_figures, train/run.cpp): what a check may read of any arm, besides the figures
/// the arm's plugins declare (PluginInfo::figures).
const std::vector<std::string>& host_figures();

/// What `file` asks for beyond its base run, for `ablate run` and `ablate check`; reading
/// problems are left to them (an empty outline).
struct StudyOutline {
  std::size_t arms = 0;
  bool sweep = false;
};
StudyOutline study_outline(const std::filesystem::path& file);

}  // namespace ablate::study
