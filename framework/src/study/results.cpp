#include "study/results.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <set>

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

std::vector<FindingResult> evaluate_findings(const Study& study,
                                             const std::vector<TrialOutcome>& outcomes) {
  std::vector<FindingResult> results;
  for (const Expectation& expectation : study.expectations) {
    FindingResult result{expectation.finding, expectation.text, Verdict::unevaluated, {}, {}, {}};
    std::map<std::string, std::vector<double>> seeds;  // complete figures only
    std::vector<std::string> missing;
    for (const FigureRef& figure : expectation.check.figures()) {
      std::vector<double> values;
      bool complete = true;
      for (const TrialOutcome& o : outcomes) {
        if (o.trial->group != figure.arm) continue;
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
    results.push_back(std::move(result));
  }
  return results;
}

std::string findings_text(const std::vector<FindingResult>& findings) {
  std::string out;
  for (const FindingResult& f : findings) {
    out += fmt::format("{:<13}  {}\n  check: {}\n", to_string(f.verdict), f.finding, f.check);
    std::vector<std::vector<std::string>> rows{{"figure", "mean ± std over seeds", "seeds"}};
    for (const auto& [name, stats] : f.figures)
      rows.push_back({name, stats.str(), std::to_string(stats.n)});
    std::string table = aligned_table(rows);
    for (std::size_t start = 0; start < table.size();) {
      const std::size_t end = table.find('\n', start);
      out += "    " + table.substr(start, end - start) + "\n";
      start = end + 1;
    }
    for (const auto& [name, c] : f.comparisons) out += "    " + name + " = " + c.str() + "\n";
    if (!f.why.empty()) out += "  not evaluated: " + f.why + "\n";
    out += "\n";
  }
  return out;
}

Json findings_json(const std::vector<FindingResult>& findings) {
  Json out = Json::array();
  for (const FindingResult& f : findings) {
    Json j = Json::object();
    j["finding"] = f.finding;
    j["check"] = f.check;
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
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace ablate::study
