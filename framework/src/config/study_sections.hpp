#pragma once
// The sections of a stored experiment that plan studies instead of configuring one run:
// [[arm]], [[expect]], [regime] and [sweep]. Read here, their shape checked with the rest of the file
// (config/validate.cpp); planned into trials in study/plan.cpp. They never reach a run's
// resolved config.
#include <toml++/toml.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/experiment.hpp"

namespace ablate {

inline constexpr const char* kStudySections[] = {"arm", "expect", "regime", "sweep"};

/// One key an arm or a sweep point sets: a --set path, its value as TOML text, and where the
/// file writes it (errors in the value are reported there).
struct Setting {
  std::string path;   // "train.lr", "regularizer[0].beta"
  std::string value;  // "0.1", "[64, 64]", "\"adam\""
  Location where;
};

struct ArmSection {
  std::string name;  // an identifier, unique among the arms
  std::string description;
  std::vector<Setting> settings;  // in file order; none: the base experiment
  Location where;                 // the [[arm]] table

  /// Whether the arm sets `path` itself: for a [regime] key, the arm is a control the regime
  /// does not move.
  bool sets(const std::string& path) const {
    return std::any_of(settings.begin(), settings.end(),
                       [&](const Setting& setting) { return setting.path == path; });
  }
};

struct ExpectSection {
  std::string finding;
  std::string check;  // as written; parsed by study::parse_check
  Location where;     // the check's value
  /// The [regime] values the finding claims to hold at (it should fail at the others); none
  /// written: all of them.
  std::optional<std::vector<Setting>> holds_for;
};

/// [regime]: one key a reproduction repeats every arm at, each of its values, so that each
/// finding says where it holds ("holds for split.n_train <= 1000, fails above").
struct RegimeSection {
  std::string path;             // a --set path: "split.n_train"
  std::vector<Setting> values;  // in file order, distinct
  Location where;               // the [regime] table
};

/// A random sweep's range for one key, drawn uniformly (in log space when `log`).
struct SweepRange {
  double min = 0, max = 1;
  bool log = false, integer = false;
};

struct SweepKey {
  std::string path;
  Location where;                   // the key's value in [sweep.keys]
  std::vector<Setting> choices;     // a list of values
  std::optional<SweepRange> range;  // or a range (random only)
};

struct SweepSection {
  std::string mode;                  // grid, zip, random
  std::vector<SweepKey> keys;        // in file order
  std::int64_t trials = 0;           // random: points drawn
  std::optional<std::int64_t> seed;  // random: seed of the draws (none: experiment.seed)
  Location where;                    // the [sweep] table
};

struct StudySections {
  std::vector<ArmSection> arms;
  std::vector<ExpectSection> expectations;
  std::optional<SweepSection> sweep;
  std::optional<RegimeSection> regime;
};

/// The study sections of a merged experiment document. ConfigError (file:line:col) for any
/// wrong shape: unknown keys (with "did you mean"), wrong types, duplicate arm names, a range
/// outside a random sweep, zip lists of different lengths, a holds_for value that is no [regime]
/// value.
StudySections read_study_sections(const toml::table& root);

/// A TOML value written back as TOML text, the form an override takes: 0.1, [64, 64], "adam".
std::string toml_text(const toml::node& node);

}  // namespace ablate
