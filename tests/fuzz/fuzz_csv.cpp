// The CSV reader of the digits dataset (plugins/datasets/digits): the input is digits.csv.
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fuzz::Scratch scratch("csv");
  static ablate::Registry* registry = [] {
    auto* r = new ablate::Registry;
    fuzz::load_plugins(*r, {"digits"});
    return r;
  }();
  scratch.write("digits.csv", std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    fuzz::load(*fuzz::dataset(*registry, "digits", scratch.root()));
  } catch (const ablate::Error&) {
  }
  return 0;
}
