#include "study/results.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include "config/suggest.hpp"

namespace ablate::study {
namespace {

// Summary members that describe the run rather than measure it.
const std::set<std::string> kBookkeeping{"seed", "epoch"};

// The figures a reader looks for first, in this order.
const std::vector<std::string> kMainFigures{"test_accuracy", "val_accuracy", "train_accuracy",
                                            "train_loss",    "forgetting",   "backward_transfer"};

std::size_t display_width(const std::string& text) {
  // UTF-8: count every byte that is not a continuation byte (10xxxxxx).
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string number_text(double value) {
  return std::isfinite(value) ? fmt::format("{}", value) : "";
}

}  // namespace

std::string MeanStd::str() const {
  if (n == 0) return "-";
  // Four decimals suit accuracies and losses; counts and byte sizes need none.
  const double size = std::abs(mean);
  const int decimals = size < 10 ? 4 : size < 1000 ? 2 : 0;
  if (n == 1 || std::isnan(std)) return fmt::format("{:.{}f}", mean, decimals);
  return fmt::format("{:.{}f} ± {:.{}f}", mean, decimals, std, decimals);
}

MeanStd mean_std(const std::vector<double>& values) {
  MeanStd out;
  out.n = values.size();
  if (values.empty()) return out;
  double sum = 0;
  for (double v : values) sum += v;
  out.mean = sum / static_cast<double>(values.size());
  if (values.size() < 2) return out;
  double squares = 0;
  for (double v : values) squares += (v - out.mean) * (v - out.mean);
  out.std = std::sqrt(squares / static_cast<double>(values.size() - 1));
  return out;
}

std::string csv_field(const std::string& text) {
  const bool quote = text.find_first_of(",\"\r\n") != std::string::npos ||
                     (!text.empty() && (text.front() == ' ' || text.back() == ' '));
  if (!quote) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

/// A setting as a table shows it: a TOML string without its quotes ("gold_zone", not
/// "\"gold_zone\""); numbers, booleans and arrays as written.
std::string plain_value(const std::string& toml_text) {
  if (toml_text.empty() || (toml_text.front() != '"' && toml_text.front() != '\'')) return toml_text;
  try {
    const toml::table t = toml::parse("v = " + toml_text);
    if (const auto* text = t["v"].as_string()) return text->get();
  } catch (const toml::parse_error&) {
  }
  return toml_text;
}

std::map<std::string, double> summary_figures(const Json& summary) {
  std::map<std::string, double> figures;
  if (!summary.is_object()) return figures;
  for (const auto& [key, value] : summary.as_object())
    if (value.is_number() && !kBookkeeping.count(key)) figures[key] = value.as_number();
  return figures;
}

std::string results_csv(const Study& study, const std::vector<TrialOutcome>& outcomes) {
  std::set<std::string> figure_set;
  for (const TrialOutcome& o : outcomes)
    for (const auto& [name, value] : summary_figures(o.summary)) figure_set.insert(name);

  std::vector<std::string> header{"id", "group", "seed"};
  header.insert(header.end(), study.parameters.begin(), study.parameters.end());
  header.push_back("status");
  header.insert(header.end(), figure_set.begin(), figure_set.end());
  std::string out;
  auto write_row = [&out](const std::vector<std::string>& fields) {
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i) out += ',';
      out += csv_field(fields[i]);
    }
    out += "\n";
  };
  write_row(header);
  for (const TrialOutcome& o : outcomes) {
    std::vector<std::string> row{o.trial->id, o.trial->group, std::to_string(o.trial->seed)};
    for (const std::string& parameter : study.parameters) {
      std::string value;
      for (const Override& s : o.trial->settings)
        if (s.path == parameter) value = plain_value(s.value);
      row.push_back(value);
    }
    row.push_back(o.status.status);
    const auto figures = summary_figures(o.summary);
    for (const std::string& name : figure_set) {
      const auto it = figures.find(name);
      row.push_back(it == figures.end() ? "" : number_text(it->second));
    }
    write_row(row);
  }
  return out;
}

std::vector<GroupSummary> summarize_groups(const std::vector<TrialOutcome>& outcomes) {
  std::vector<GroupSummary> groups;
  std::vector<std::map<std::string, std::vector<double>>> values;
  for (const TrialOutcome& o : outcomes) {
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const GroupSummary& g) { return g.group == o.trial->group; });
    if (it == groups.end()) {
      groups.push_back({o.trial->group, 0, 0, {}});
      values.emplace_back();
      it = groups.end() - 1;
    }
    const auto index = static_cast<std::size_t>(it - groups.begin());
    ++it->total;
    if (o.status.status != "ok") continue;
    ++it->ok;
    for (const auto& [name, value] : summary_figures(o.summary))
      values[index][name].push_back(value);
  }
  for (std::size_t i = 0; i < groups.size(); ++i)
    for (const auto& [name, list] : values[i]) groups[i].figures[name] = mean_std(list);
  return groups;
}

std::vector<std::string> main_figures(const std::vector<std::string>& present,
                                      const std::vector<std::string>& also) {
  std::vector<std::string> out;
  auto add = [&](const std::string& name) {
    if (std::find(present.begin(), present.end(), name) != present.end() &&
        std::find(out.begin(), out.end(), name) == out.end())
      out.push_back(name);
  };
  for (const auto& name : kMainFigures) add(name);
  for (const auto& name : also) add(name);
  return out;
}

std::vector<std::string> figures_present(const std::vector<GroupSummary>& groups) {
  std::set<std::string> names;
  for (const GroupSummary& g : groups)
    for (const auto& [name, value] : g.figures) names.insert(name);
  return {names.begin(), names.end()};
}

std::string aligned_table(const std::vector<std::vector<std::string>>& rows, bool header) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (widths.size() <= c) widths.push_back(0);
      widths[c] = std::max(widths[c], display_width(row[c]));
    }
  std::string out;
  auto write_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - display_width(row[c]) + 2, ' ');
    }
    out += line + "\n";
  };
  for (std::size_t r = 0; r < rows.size(); ++r) {
    write_row(rows[r]);
    if (r == 0 && header) {
      std::vector<std::string> rule;
      for (std::size_t c = 0; c < rows[0].size(); ++c) rule.push_back(std::string(widths[c], '-'));
      write_row(rule);
    }
  }
  return out;
}

std::string groups_table(const std::vector<GroupSummary>& groups,
                         const std::vector<std::string>& figures) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header{"group", "ok"};
  header.insert(header.end(), figures.begin(), figures.end());
  rows.push_back(header);
  for (const GroupSummary& g : groups) {
    std::vector<std::string> row{g.group, fmt::format("{}/{}", g.ok, g.total)};
    for (const std::string& name : figures) {
      const auto it = g.figures.find(name);
      row.push_back(it == g.figures.end() ? "-" : it->second.str());
    }
    rows.push_back(std::move(row));
  }
  return aligned_table(rows);
}

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::holds:
      return "HOLDS";
    case Verdict::fails:
      return "FAILS";
    case Verdict::unevaluated:
      break;
  }
  return "NOT EVALUATED";
}

namespace {

/// The finding and its check, not evaluated yet.
FindingResult unevaluated(const Expectation& expectation) {
  FindingResult result;
  result.finding = expectation.finding;
  result.check = expectation.text;
  return result;
}

/// One expectation over the trials whose group `group_of(arm)` names for each arm it reads.
FindingResult evaluate_at(const Expectation& expectation, const std::vector<TrialOutcome>& outcomes,
                          const std::function<std::string(const std::string&)>& group_of) {
  FindingResult result = unevaluated(expectation);
  std::map<std::string, std::vector<double>> seeds;  // complete figures only
  std::vector<std::string> missing;
  for (const FigureRef& figure : expectation.check.figures()) {
    const std::string group = group_of(figure.arm);
    std::vector<double> values;
    bool complete = true;
    for (const TrialOutcome& o : outcomes) {
      if (o.trial->group != group) continue;
      const auto figures = summary_figures(o.summary);
      const auto it = figures.find(figure.metric);
      if (o.status.status != "ok") {
        missing.push_back("trial " + o.trial->id + " " + o.status.status +
                          (o.status.reason.empty() ? "" : " (" + o.status.reason + ")"));
        complete = false;
      } else if (it == figures.end()) {
        missing.push_back("trial " + o.trial->id + " reports no " + figure.metric);
        complete = false;
      } else {
        values.push_back(it->second);
      }
    }
    if (values.empty() && complete) {
      missing.push_back("arm " + figure.arm + " has no trials");
      complete = false;
    }
    const MeanStd stats = mean_std(values);
    result.figures.emplace_back(figure.str(), stats);
    if (complete) seeds[figure.str()] = std::move(values);
  }
  if (missing.empty()) {
    const bool holds = expectation.check.holds(
        [&](const FigureRef& f) -> std::vector<double> { return seeds.at(f.str()); });
    result.verdict = holds ? Verdict::holds : Verdict::fails;
    for (const auto& [a, b] : expectation.check.pairs())
      result.comparisons.emplace_back(a.str() + " - " + b.str(),
                                      compare_means(seeds.at(a.str()), seeds.at(b.str())));
  } else {
    std::sort(missing.begin(), missing.end());
    missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
    for (const auto& m : missing) result.why += (result.why.empty() ? "" : "; ") + m;
  }
  return result;
}

}  // namespace

std::string where_it_holds(const Regime& regime, const std::vector<bool>& held) {
  std::vector<std::string> yes, no;
  for (std::size_t i = 0; i < held.size(); ++i) (held[i] ? yes : no).push_back(regime.values[i]);
  if (no.empty()) return "holds for every " + regime.key + " tried";
  if (yes.empty()) return "holds for no " + regime.key + " tried";
  // Numbers in increasing order, the holding ones at one end: a threshold.
  bool increasing = true;
  double last = -INFINITY;
  for (const std::string& v : regime.values) {
    char* end = nullptr;
    const double x = std::strtod(v.c_str(), &end);
    increasing &= end == v.c_str() + v.size() && x > last;
    last = x;
  }
  const auto first_fail = std::find(held.begin(), held.end(), false);
  const auto first_hold = std::find(held.begin(), held.end(), true);
  if (increasing && std::find(first_fail, held.end(), true) == held.end())
    return "holds for " + regime.key + " <= " + regime.values[first_fail - held.begin() - 1] +
           ", fails above";
  if (increasing && std::find(first_hold, held.end(), false) == held.end())
    return "holds for " + regime.key + " >= " + regime.values[first_hold - held.begin()] +
           ", fails below";
  return "holds for " + regime.key + " in {" + join(yes) + "}, fails for {" + join(no) + "}";
}

std::vector<FindingResult> evaluate_findings(const Study& study,
                                             const std::vector<TrialOutcome>& outcomes) {
  std::vector<FindingResult> results;
  for (const Expectation& expectation : study.expectations) {
    if (!study.regime) {
      results.push_back(evaluate_at(expectation, outcomes, [](const std::string& arm) { return arm; }));
      continue;
    }
    // At each regime value; the finding HOLDS when it holds exactly where it claims to.
    const Regime& regime = *study.regime;
    FindingResult result = unevaluated(expectation);
    result.regime_key = regime.key;
    std::vector<bool> held;
    for (std::size_t i = 0; i < regime.values.size(); ++i) {
      FindingResult at = evaluate_at(expectation, outcomes, [&](const std::string& arm) {
        return regime.group(arm, i);
      });
      at.regime_value = regime.values[i];
      if (!at.why.empty())
        result.why += (result.why.empty() ? "" : "; ") + regime.key + " = " + at.regime_value +
                      ": " + at.why;
      held.push_back(at.verdict == Verdict::holds);
      result.regimes.push_back(std::move(at));
    }
    const std::vector<std::string>& claimed =
        expectation.holds_for.empty() ? regime.values : expectation.holds_for;
    std::vector<bool> expected;
    for (const std::string& v : regime.values)
      expected.push_back(std::find(claimed.begin(), claimed.end(), v) != claimed.end());
    result.claimed = where_it_holds(regime, expected);
    if (result.why.empty()) {
      result.found = where_it_holds(regime, held);
      result.verdict = held == expected ? Verdict::holds : Verdict::fails;
    }
    results.push_back(std::move(result));
  }
  return results;
}

namespace {

void append_indented(std::string& out, const std::string& table) {
  for (std::size_t start = 0; start < table.size();) {
    const std::size_t end = table.find('\n', start);
    out += "    " + table.substr(start, end - start) + "\n";
    start = end + 1;
  }
}

}  // namespace

std::string findings_text(const std::vector<FindingResult>& findings) {
  std::string out;
  for (const FindingResult& f : findings) {
    out += fmt::format("{:<13}  {}\n  check: {}\n", to_string(f.verdict), f.finding, f.check);
    if (!f.regimes.empty()) {
      // Where it holds: the regime against the verdict, each figure and each comparison.
      out += "  claimed: " + f.claimed + "\n";
      if (!f.found.empty()) out += "  found:   " + f.found + "\n";
      std::vector<std::vector<std::string>> rows{{f.regime_key, "verdict"}};
      for (const auto& [name, stats] : f.regimes.front().figures) rows[0].push_back(name);
      for (const auto& [name, c] : f.regimes.front().comparisons) rows[0].push_back(name);
      for (const FindingResult& at : f.regimes) {
        std::vector<std::string> row{at.regime_value, to_string(at.verdict)};
        for (const auto& [name, stats] : at.figures) row.push_back(stats.str());
        for (const auto& [name, c] : at.comparisons) row.push_back(c.short_str());
        rows.push_back(std::move(row));
      }
      append_indented(out, aligned_table(rows));
    } else {
      std::vector<std::vector<std::string>> rows{{"figure", "mean ± std over seeds", "seeds"}};
      for (const auto& [name, stats] : f.figures)
        rows.push_back({name, stats.str(), std::to_string(stats.n)});
      append_indented(out, aligned_table(rows));
      for (const auto& [name, c] : f.comparisons) out += "    " + name + " = " + c.str() + "\n";
    }
    if (!f.why.empty()) out += "  not evaluated: " + f.why + "\n";
    out += "\n";
  }
  return out;
}

namespace {

/// A finding's verdict, figures and comparisons (at one regime value, or overall).
Json finding_json(const FindingResult& f) {
  Json j = Json::object();
  j["verdict"] = to_string(f.verdict);
  if (!f.why.empty()) j["why"] = f.why;
  Json figures = Json::object();
  for (const auto& [name, stats] : f.figures) {
    Json s = Json::object();
    s["mean"] = stats.mean;
    s["std"] = stats.std;
    s["n"] = stats.n;
    figures[name] = std::move(s);
  }
  j["figures"] = std::move(figures);
  if (!f.comparisons.empty()) {
    Json comparisons = Json::object();
    for (const auto& [name, c] : f.comparisons) {
      Json s = Json::object();
      s["diff"] = c.diff;
      Json interval = Json::array();
      interval.push_back(c.lo);
      interval.push_back(c.hi);
      s["ci95"] = std::move(interval);
      s["welch_p"] = c.p;
      s["cohen_d"] = c.cohen_d;
      s["df"] = c.df;
      comparisons[name] = std::move(s);
    }
    j["comparisons"] = std::move(comparisons);
  }
  return j;
}

}  // namespace

Json findings_json(const std::vector<FindingResult>& findings) {
  Json out = Json::array();
  for (const FindingResult& f : findings) {
    Json j = finding_json(f);
    j["finding"] = f.finding;
    j["check"] = f.check;
    if (!f.regimes.empty()) {
      j["regime_key"] = f.regime_key;
      j["claimed"] = f.claimed;
      if (!f.found.empty()) j["found"] = f.found;
      Json regimes = Json::array();
      for (const FindingResult& at : f.regimes) {
        Json r = finding_json(at);
        r["value"] = at.regime_value;
        regimes.push_back(std::move(r));
      }
      j["regimes"] = std::move(regimes);
    }
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace ablate::study
