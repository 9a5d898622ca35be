#include "study/compare.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <map>
#include <set>

#include "ablate/error.hpp"
#include "config/study_sections.hpp"
#include "study/results.hpp"
#include "study/study_dir.hpp"
#include "util/atomic_file.hpp"

namespace fs = std::filesystem;

namespace ablate::study {
namespace {

struct Column {
  std::string label;
  std::string source;  // the folder, for the legend
  std::map<std::string, MeanStd> figures;
  std::map<std::string, std::string> config;  // resolved key -> value, as the table shows it
};

constexpr const char* kVaries = "(varies)";  // a study group's key that differs between seeds

/// Every value of a resolved config.toml under its dotted key, as an override writes it
/// (toml_text), strings without their quotes; arrays of tables ([[arm]], [[regularizer]]) as
/// one value.
void flatten(const toml::table& table, const std::string& prefix,
             std::map<std::string, std::string>& out) {
  for (const auto& [key, node] : table) {
    const std::string path = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    if (const toml::table* inner = node.as_table())
      flatten(*inner, path, out);
    else if (const auto* text = node.as_string())
      out[path] = text->get();
    else
      out[path] = toml_text(node);
  }
}

std::map<std::string, std::string> read_config(const fs::path& file) {
  std::map<std::string, std::string> out;
  try {
    flatten(toml::parse_file(file.string()), "", out);
  } catch (const toml::parse_error& e) {
    throw Error(file.string() + " is not valid TOML: " + std::string(e.description()));
  }
  return out;
}

/// The keys of a group's trials: a value they share, or kVaries.
void merge_config(std::map<std::string, std::string>& group,
                  const std::map<std::string, std::string>& trial, bool first) {
  if (first) {
    group = trial;
    return;
  }
  for (auto& [key, value] : group) {
    const auto it = trial.find(key);
    if (it == trial.end() || it->second != value) value = kVaries;
  }
  for (const auto& [key, value] : trial)
    if (!group.count(key)) group[key] = kVaries;
}

std::string folder_name(const fs::path& dir) {
  const fs::path clean = dir.lexically_normal();
  return (clean.has_filename() ? clean : clean.parent_path()).filename().string();
}

void add_columns(const fs::path& dir, std::vector<Column>& columns) {
  if (is_study_dir(dir)) {
    const StudyDir study = open_study(dir);
    for (const GroupSummary& group : summarize_groups(collect_outcomes(study))) {
      Column column{study.study.name + " " + group.group, dir.string(), group.figures, {}};
      bool first = true;
      for (const Trial& trial : study.study.trials) {
        if (trial.group != group.group) continue;
        merge_config(column.config, read_config(trial_path(dir, trial.id) / "config.toml"), first);
        first = false;
      }
      columns.push_back(std::move(column));
    }
    return;
  }
  if (!fs::exists(dir / "summary.json"))
    throw ConfigError(dir.string() +
                      " is neither a run directory (summary.json) nor a study directory "
                      "(manifest.json of ablate sweep / reproduce)");
  Column column{folder_name(dir), dir.string(), {}, {}};
  for (const auto& [name, value] : summary_figures(Json::parse(read_file(dir / "summary.json"))))
    column.figures[name] = mean_std({value});
  if (fs::exists(dir / "config.toml")) column.config = read_config(dir / "config.toml");
  columns.push_back(std::move(column));
}

}  // namespace

std::string compare_table(const std::vector<fs::path>& dirs) {
  std::vector<Column> columns;
  for (const fs::path& dir : dirs) add_columns(dir, columns);

  std::set<std::string> names;
  for (const Column& c : columns)
    for (const auto& [name, stats] : c.figures) names.insert(name);
  const std::vector<std::string> present(names.begin(), names.end());
  std::vector<std::string> rows_order = main_figures(present);
  for (const std::string& name : present)
    if (std::find(rows_order.begin(), rows_order.end(), name) == rows_order.end())
      rows_order.push_back(name);

  std::vector<std::vector<std::string>> rows{{"figure"}};
  for (std::size_t i = 0; i < columns.size(); ++i)
    rows[0].push_back(fmt::format("[{}]", i + 1));  // labels can be long: they go in the legend
  for (const std::string& name : rows_order) {
    std::vector<std::string> row{name};
    for (const Column& c : columns) {
      const auto it = c.figures.find(name);
      row.push_back(it == c.figures.end() ? "-" : it->second.str());
    }
    rows.push_back(std::move(row));
  }
  std::string out = aligned_table(rows) + "\n";
  // What was different: the resolved config keys whose values are not the same in every column.
  std::set<std::string> keys;
  for (const Column& c : columns)
    for (const auto& [key, value] : c.config) keys.insert(key);
  std::vector<std::vector<std::string>> differ{rows[0]};
  differ[0][0] = "config key";
  for (const std::string& key : keys) {
    std::vector<std::string> row{key};
    for (const Column& c : columns) {
      const auto it = c.config.find(key);
      row.push_back(it == c.config.end() ? "-" : it->second);
    }
    if (std::adjacent_find(row.begin() + 1, row.end(), std::not_equal_to<>()) != row.end())
      differ.push_back(std::move(row));
  }
  if (differ.size() > 1)
    out += aligned_table(differ) + "\n";
  else if (columns.size() > 1)
    out += "every config key has the same value in all columns\n\n";
  std::vector<std::vector<std::string>> legend;
  for (std::size_t i = 0; i < columns.size(); ++i)
    legend.push_back({fmt::format("[{}]", i + 1), columns[i].label, columns[i].source});
  out += aligned_table(legend, /*header=*/false);
  return out;
}

}  // namespace ablate::study
