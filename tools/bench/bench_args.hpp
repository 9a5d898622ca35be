#pragma once
// Command-line helpers the benchmark programs share.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace ablate::bench {

/// `text` as a whole number >= 1 (a count, a size); anything else throws, naming the option.
inline long positive(const std::string& option, const std::string& text) {
  std::size_t used = 0;
  long value = 0;
  try {
    value = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size() || value < 1)
    throw std::invalid_argument(option + " takes a whole number >= 1, not '" + text + "'");
  return value;
}

/// "1,2,4" -> {1, 2, 4}: batch sizes or thread counts, each a whole number >= 1.
inline std::vector<int> parse_list(const std::string& option, const std::string& text) {
  std::vector<int> out;
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t comma = std::min(text.find(',', at), text.size());
    out.push_back(static_cast<int>(positive(option, text.substr(at, comma - at))));
    at = comma + 1;
  }
  return out;
}

}  // namespace ablate::bench
