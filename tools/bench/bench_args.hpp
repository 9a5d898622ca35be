#pragma once
// Command-line helpers the benchmark programs share.
#include <algorithm>
#include <string>
#include <vector>

namespace ablate::bench {

/// "1,2,4" -> {1, 2, 4}.
inline std::vector<int> parse_list(const std::string& text) {
  std::vector<int> out;
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t comma = std::min(text.find(',', at), text.size());
    out.push_back(std::stoi(text.substr(at, comma - at)));
    at = comma + 1;
  }
  return out;
}

}  // namespace ablate::bench
