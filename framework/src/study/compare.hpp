#pragma once
// `ablate compare DIR...`: runs and studies side by side.
#include <filesystem>
#include <string>
#include <vector>

namespace ablate::study {

/// One aligned table: a column per run directory (its summary.json) and per group of each study
/// directory (mean ± std over the group's ok seeds); a row per figure present in any column, the
/// main figures first. Columns are labelled by the folder's name (and the group for studies);
/// a legend under the table gives each column's folder. An Error for a folder that is neither.
std::string compare_table(const std::vector<std::filesystem::path>& dirs);

}  // namespace ablate::study
