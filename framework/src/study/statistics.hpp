#pragma once
// Two arms' per-seed values compared the way a reviewer asks for (issue 17): the difference of
// means with its 95% confidence interval and Welch's two-sided t-test (unequal variances, the
// Welch-Satterthwaite degrees of freedom), and Cohen's d. The t distribution is Boost.Math's.
#include <string>
#include <vector>

namespace ablate::study {

struct Comparison {
  double diff = 0;           // mean(a) - mean(b)
  double lo = 0, hi = 0;     // its 95% confidence interval (Welch)
  double p = 0;              // Welch's two-sided p-value
  double cohen_d = 0;        // diff over the pooled standard deviation
  double df = 0;             // Welch-Satterthwaite degrees of freedom
  std::size_t na = 0, nb = 0;
  /// "+0.0123 [0.0050, 0.0196] 95% CI, Welch p = 0.004, d = 2.10"; "-" when undefined.
  std::string str() const;
  /// "+0.0123 [0.0050, 0.0196] p = 0.004": for a table cell.
  std::string short_str() const;
};

/// NaN throughout when either side has fewer than 2 values or a value that is not finite. Two constant sides: the interval is
/// the difference itself and p is 1 if they are equal, 0 if not.
Comparison compare_means(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace ablate::study
