#pragma once
// Checkpoints in the safetensors format (https://huggingface.co/docs/safetensors), so PyTorch
// and numpy read them as they are:
//   8 bytes   N, the header size, unsigned little-endian
//   N bytes   JSON header: {"__metadata__": {string: string},
//                           "<name>": {"dtype": "F32", "shape": [...], "data_offsets": [begin,
//                           end]}}
//             padded with spaces so the data starts at a multiple of 8
//   the rest  tensor bytes, little-endian, row-major, in header order, offsets relative to here
#include <filesystem>
#include <map>
#include <string>

#include "ablate/state.hpp"

namespace ablate {

/// Writes `state` (tensors in name order) and `metadata` atomically (util/atomic_file.hpp),
/// creating the file's folder (e.g. a run's checkpoints/) when missing.
void write_safetensors(const std::filesystem::path& file, const StateStore& state,
                       const std::map<std::string, std::string>& metadata);

/// Reads a safetensors file, filling `metadata` when given. Refuses, with an ablate::Error naming
/// the file and the problem, a truncated or malformed file or a dtype ablate lacks (it reads
/// F32, F64, I64 and U8).
StateStore read_safetensors(const std::filesystem::path& file,
                            std::map<std::string, std::string>* metadata = nullptr);

}  // namespace ablate
