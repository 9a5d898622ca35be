#pragma once
// Readers for the file formats datasets come in, shared by the dataset plugins (and by
// plugins out of tree). Each throws ablate::Error naming the file on a missing or malformed file.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "ablate/data.hpp"

namespace ablate {

/// The bytes of a file, gunzipped if its name ends in .gz.
std::vector<std::uint8_t> read_bytes(const std::filesystem::path& file);

/// The first of `candidates` that exists; otherwise an Error listing every path tried and
/// `provider` (the package that ships the data, e.g. "apt-get install dataset-fashion-mnist").
std::filesystem::path find_file(const std::vector<std::filesystem::path>& candidates,
                                const std::string& provider);

/// Where installed data lives: $ABLATE_DATA, or /usr/local/share/ablate-data when it is unset
/// (tools/setup-data.sh installs there).
std::filesystem::path data_root();

/// `path` with a leading "$ABLATE_DATA" replaced by data_root(). Dataset plugins write their
/// path defaults that way, so `ablate describe` shows where data is looked for and a resolved
/// experiment still works on a machine with another data root.
std::filesystem::path expand_data_path(const std::string& path);

/// IDX (LeCun's MNIST format): images (idx3, uint8) scaled by 1/255 into rows, and labels (idx1).
Samples read_idx(const std::filesystem::path& images, const std::filesystem::path& labels);

/// An MNIST-family dataset in `folder`: the IDX pairs "train-{images-idx3,labels-idx1}-ubyte"
/// (train pool) and "t10k-..." (test pool), each plain or gzipped; shape from the image header
/// (one channel), classes = class_names.size(). A missing file is reported by find_file with
/// `provider`.
Source read_idx_dataset(const std::filesystem::path& folder, std::string name,
                        std::vector<std::string> class_names, const std::string& provider);

}  // namespace ablate
