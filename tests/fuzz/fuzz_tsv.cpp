// The TSV reader of the SST-2 dataset (plugins/datasets/sst2): parts are train.tsv, then
// dev.tsv (the first part again when there is no second).
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fuzz::Scratch scratch("tsv");
  static ablate::Registry* registry = [] {
    auto* r = new ablate::Registry;
    fuzz::load_plugins(*r, {"sst2"});
    return r;
  }();
  const std::vector<std::string> parts = fuzz::split_parts(data, size);
  scratch.write("train.tsv", parts[0]);
  scratch.write("dev.tsv", parts.size() > 1 ? parts[1] : parts[0]);
  try {
    fuzz::load(*fuzz::dataset(*registry, "sst2", scratch.root()));
  } catch (const ablate::Error&) {
  }
  return 0;
}
