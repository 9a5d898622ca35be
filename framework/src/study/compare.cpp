#include "study/compare.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "ablate/error.hpp"
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
};

std::string folder_name(const fs::path& dir) {
  const fs::path clean = dir.lexically_normal();
  return (clean.has_filename() ? clean : clean.parent_path()).filename().string();
}

void add_columns(const fs::path& dir, std::vector<Column>& columns) {
  if (is_study_dir(dir)) {
    const StudyDir study = open_study(dir);
    for (const GroupSummary& group : summarize_groups(collect_outcomes(study)))
      columns.push_back({study.study.name + " " + group.group, dir.string(), group.figures});
    return;
  }
  if (!fs::exists(dir / "summary.json"))
    throw ConfigError(dir.string() +
                      " is neither a run directory (summary.json) nor a study directory "
                      "(manifest.json of ablate sweep / reproduce)");
  Column column{folder_name(dir), dir.string(), {}};
  for (const auto& [name, value] : summary_figures(Json::parse(read_file(dir / "summary.json"))))
    column.figures[name] = mean_std({value});
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
  std::vector<std::vector<std::string>> legend;
  for (std::size_t i = 0; i < columns.size(); ++i)
    legend.push_back({fmt::format("[{}]", i + 1), columns[i].label, columns[i].source});
  out += aligned_table(legend, /*header=*/false);
  return out;
}

}  // namespace ablate::study
