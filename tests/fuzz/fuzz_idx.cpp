// The IDX reader (data/formats.cpp, read_idx): parts are the images file (idx3) and the labels
// file (idx1).
#include "ablate/formats.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fuzz::Scratch scratch("idx");
  const std::vector<std::string> parts = fuzz::split_parts(data, size);
  const auto images = scratch.write("images-idx3-ubyte", parts[0]);
  const auto labels = scratch.write("labels-idx1-ubyte", parts.size() > 1 ? parts[1] : "");
  try {
    (void)ablate::read_idx(images, labels);
  } catch (const ablate::Error&) {
  }
  return 0;
}
