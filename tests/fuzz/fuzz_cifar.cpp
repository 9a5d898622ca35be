// The CIFAR binary reader (plugins/datasets/cifar): the input's first byte picks the variant
// (even: cifar10, odd: cifar100); parts are the test batch, then the training batch.
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fuzz::Scratch scratch("cifar");
  static ablate::Registry* registry = [] {
    auto* r = new ablate::Registry;
    fuzz::load_plugins(*r, {"cifar"});
    return r;
  }();
  if (size == 0) return 0;
  const bool cifar100 = data[0] & 1;
  const std::vector<std::string> parts = fuzz::split_parts(data + 1, size - 1);
  const std::string train = parts.size() > 1 ? parts[1] : parts[0];
  scratch.remove("test_batch.bin");
  scratch.remove("data_batch_1.bin");
  scratch.remove("test.bin");
  scratch.remove("train.bin");
  if (cifar100) {
    scratch.write("test.bin", parts[0]);
    scratch.write("train.bin", train);
  } else {
    scratch.write("test_batch.bin", parts[0]);
    scratch.write("data_batch_1.bin", train);
  }
  try {
    const auto dataset = fuzz::dataset(*registry, "cifar", scratch.root(),
                                       {{"variant", ablate::Value(std::string(cifar100 ? "cifar100" : "cifar10"))}});
    fuzz::load(*dataset);
  } catch (const ablate::Error&) {
  }
  return 0;
}
