// The [[expect]] check language (study/check.cpp): parse_check on the input as text, then, when
// it parses, evaluation with every figure a number, then NaN, then per-seed values (for
// diff_ci95, welch_p and cohen_d).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ablate/error.hpp"
#include "study/plan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const ablate::study::Check check =
        ablate::study::parse_check(text, ablate::Location{"fuzz.toml", 1, 1});
    std::size_t reads = 0;
    (void)check.holds([&](const ablate::study::FigureRef& figure) {
      ++reads;
      return static_cast<double>(figure.arm.size()) - static_cast<double>(figure.metric.size());
    });
    (void)check.value([](const ablate::study::FigureRef&) { return std::nan(""); });
    (void)check.holds([](const ablate::study::FigureRef& figure) -> std::vector<double> {
      const double a = static_cast<double>(figure.arm.size()), m = static_cast<double>(figure.metric.size());
      return {a, m, a * m, figure.arm.size() % 3 ? a : std::nan("")};
    });
    if (reads > 0 && check.figures().empty()) __builtin_trap();  // a figure read, none listed
  } catch (const ablate::ConfigError&) {
  }
  return 0;
}
