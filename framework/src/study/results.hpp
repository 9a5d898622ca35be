#pragma once
// What a study's trials amount to: results.csv (a row per trial), the mean ± std table per group
// (over the seeds that ended ok) and, for a reproduction, each finding's verdict.
#include <cstddef>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "runs/json.hpp"
#include "study/statistics.hpp"
#include "study/study_dir.hpp"

namespace ablate::study {

/// Mean and sample standard deviation (n - 1); std is NaN for fewer than two values, both NaN
/// for none.
struct MeanStd {
  double mean = std::numeric_limits<double>::quiet_NaN();
  double std = std::numeric_limits<double>::quiet_NaN();
  std::size_t n = 0;
  /// "0.9123 ± 0.0045"; the mean alone for one value; "-" for none.
  std::string str() const;
};
MeanStd mean_std(const std::vector<double>& values);

/// One CSV field (RFC 4180): quoted, with quotes doubled, when it holds , " CR LF or edge spaces.
std::string csv_field(const std::string& text);

/// The numeric members of a summary.json (bookkeeping such as the seed left out).
std::map<std::string, double> summary_figures(const Json& summary);

/// results.csv: id, group, seed, each of study.parameters, status, then every figure any trial
/// reported (sorted; empty when a trial has none).
std::string results_csv(const Study& study, const std::vector<TrialOutcome>& outcomes);

/// A group's figures over its trials that ended ok.
struct GroupSummary {
  std::string group;
  std::size_t ok = 0, total = 0;
  std::map<std::string, MeanStd> figures;
};
/// Groups in order of first appearance.
std::vector<GroupSummary> summarize_groups(const std::vector<TrialOutcome>& outcomes);

/// The figures a table shows out of `present`: accuracies, loss, forgetting and transfer first
/// (those present), then `also` (e.g. the figures findings read).
std::vector<std::string> main_figures(const std::vector<std::string>& present,
                                      const std::vector<std::string>& also = {});
/// Every figure some group has, sorted.
std::vector<std::string> figures_present(const std::vector<GroupSummary>& groups);

/// Text columns padded to their widest cell (UTF-8 aware); with `header`, the first row is the
/// header, underlined.
std::string aligned_table(const std::vector<std::vector<std::string>>& rows, bool header = true);

/// table.txt: a row per group (ok/total trials, then mean ± std of each figure).
std::string groups_table(const std::vector<GroupSummary>& groups,
                         const std::vector<std::string>& figures);

enum class Verdict { holds, fails, unevaluated };
const char* to_string(Verdict verdict);  // "HOLDS", "FAILS", "NOT EVALUATED"

struct FindingResult {
  std::string finding, check;
  Verdict verdict = Verdict::unevaluated;
  std::string why;  // for unevaluated: the trials or figures missing
  std::vector<std::pair<std::string, MeanStd>> figures;  // "arm.metric" over the arm's seeds
  /// For each pair of figures the check compares: "a.x - b.x" and the statistics of it.
  std::vector<std::pair<std::string, Comparison>> comparisons;
  // With a [regime]: the finding at each value (regime_value set; figures and comparisons
  // there), where it claims to hold and where it was found to ("holds for k <= 1000, fails
  // above"). It HOLDS when the two agree.
  std::string regime_key, regime_value;
  std::vector<FindingResult> regimes;
  std::string claimed, found;
};

/// "holds for k <= 1000, fails above", "holds for k in {a, c}, fails for {b}", "holds for every
/// k tried": where along the regime's values (`held[i]` at values[i]) a finding held.
std::string where_it_holds(const Regime& regime, const std::vector<bool>& held);

/// Each expectation checked against the arms' figures (a figure = the mean over the arm's
/// seeds; diff_ci95, welch_p and cohen_d read the seeds' values). A figure needs every trial of its arm ok and reporting the metric; otherwise the
/// finding is unevaluated and `why` names the trials.
std::vector<FindingResult> evaluate_findings(const Study& study,
                                             const std::vector<TrialOutcome>& outcomes);
std::string findings_text(const std::vector<FindingResult>& findings);
Json findings_json(const std::vector<FindingResult>& findings);

}  // namespace ablate::study
