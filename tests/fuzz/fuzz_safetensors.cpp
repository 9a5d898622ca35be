// The safetensors reader (runs/safetensors.cpp): the input is the file, read back with its
// metadata, as a checkpoint or a run's weights are.
#include "fuzz_support.hpp"
#include "runs/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fuzz::Scratch scratch("safetensors");
  const auto file =
      scratch.write("state.safetensors", std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    std::map<std::string, std::string> metadata;
    (void)ablate::read_safetensors(file, &metadata);
  } catch (const ablate::Error&) {
  }
  return 0;
}
