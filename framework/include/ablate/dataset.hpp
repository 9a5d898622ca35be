#pragma once
// A dataset plugin reads its files (or generates samples) into a Source.
#include "ablate/data.hpp"
#include "ablate/plugin.hpp"
#include "ablate/random.hpp"

namespace ablate {

class ABLATE_API Dataset : public Plugin {
 public:
  /// Reads or generates the samples. A missing file: ablate::Error naming the path tried and
  /// the package that provides it.
  virtual Source load(Rng& rng) const = 0;
};

}  // namespace ablate
