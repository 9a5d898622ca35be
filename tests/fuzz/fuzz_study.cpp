// The study readers (study/study_dir.cpp, runs/json.cpp): parts are the study's manifest.json,
// then trials/<id>/status.json for the first trial of the manifest (or "t0").
#include "fuzz_support.hpp"
#include "study/study_dir.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fuzz::Scratch scratch("study");
  const std::vector<std::string> parts = fuzz::split_parts(data, size);
  scratch.write("study/manifest.json", parts[0]);
  const std::string status = parts.size() > 1 ? parts[1] : std::string("{}");
  scratch.write("study/trials/t0/status.json", status);
  const auto dir = scratch.root() / "study";
  try {
    (void)ablate::study::read_status(dir, "t0");
  } catch (const ablate::Error&) {
  }
  try {
    const ablate::study::StudyDir study = ablate::study::open_study(dir);
    (void)study;
  } catch (const ablate::Error&) {
  }
  return 0;
}
