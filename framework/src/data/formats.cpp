// File readers shared by the dataset plugins: raw or gzipped bytes, candidate paths, IDX.
#include "ablate/formats.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <limits>

#include "ablate/error.hpp"
#include "util/huge_pages.hpp"

namespace ablate {
namespace {

std::vector<std::uint8_t> read_raw(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    throw Error("no such file: " + file.string(), file.string());
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot open " + file.string(), file.string());
  const auto size = std::filesystem::file_size(file, ec);
  std::vector<std::uint8_t> bytes;
  bytes.reserve(ec ? 0 : size);
  advise_huge_pages(bytes.data(), bytes.capacity());  // the reserved buffer, not yet touched
  bytes.resize(ec ? 0 : size);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!in) throw Error("cannot read " + file.string(), file.string());
  return bytes;
}

// Inflates every gzip member in turn (gzip allows concatenated members, as `cat a.gz b.gz`).
std::vector<std::uint8_t> gunzip(const std::vector<std::uint8_t>& packed,
                                 const std::filesystem::path& file) {
  std::vector<std::uint8_t> out;
  // The gzip trailer holds the unpacked size mod 2^32: a good first guess for the buffer, capped
  // at deflate's best ratio (about 1032:1) so that a corrupt trailer cannot ask for gigabytes.
  if (packed.size() >= 18) {
    const auto* t = packed.data() + packed.size() - 4;
    const std::size_t stated = std::size_t{t[0]} | (std::size_t{t[1]} << 8) |
                               (std::size_t{t[2]} << 16) | (std::size_t{t[3]} << 24);
    out.reserve(std::min(stated, packed.size() * 1032));
    advise_huge_pages(out.data(), out.capacity());  // the reserved buffer, not yet touched
  }
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
    throw Error("cannot gunzip " + file.string() + ": zlib could not start", file.string());
  std::size_t fed = 0;  // bytes of `packed` handed to zlib so far
  std::uint8_t chunk[1 << 16];
  std::string failure;
  for (;;) {
    if (zs.avail_in == 0 && fed < packed.size()) {
      const std::size_t step =
          std::min<std::size_t>(packed.size() - fed, std::numeric_limits<uInt>::max());
      zs.next_in = const_cast<Bytef*>(packed.data() + fed);
      zs.avail_in = static_cast<uInt>(step);
      fed += step;
    }
    zs.next_out = chunk;
    zs.avail_out = sizeof chunk;
    const int status = inflate(&zs, Z_NO_FLUSH);
    out.insert(out.end(), chunk, chunk + (sizeof chunk - zs.avail_out));
    if (status == Z_STREAM_END) {
      if (zs.avail_in == 0 && fed == packed.size()) break;
      inflateReset(&zs);  // another member follows
    } else if (status == Z_BUF_ERROR && zs.avail_in == 0 && fed == packed.size()) {
      failure = "the file is truncated";
      break;
    } else if (status != Z_OK) {
      failure = zs.msg ? zs.msg : "corrupt data";
      break;
    }
  }
  inflateEnd(&zs);
  if (!failure.empty())
    throw Error("cannot gunzip " + file.string() + ": " + failure, file.string());
  return out;
}

struct IdxHeader {
  std::vector<std::uint32_t> dims;
  std::size_t data_offset = 0;
  std::size_t elements() const {
    std::size_t n = 1;
    for (auto d : dims) n *= d;
    return n;
  }
};

// IDX: two zero bytes, a type byte (0x08 = unsigned byte), the number of dimensions, then each
// dimension as a big-endian uint32, then the data in row-major order.
IdxHeader parse_idx(const std::vector<std::uint8_t>& bytes, const std::filesystem::path& file,
                    std::size_t expected_dims) {
  const auto fail = [&](const std::string& why) -> Error {
    return Error(file.string() + " is not an IDX file of unsigned bytes with " +
                     std::to_string(expected_dims) + " dimension(s): " + why,
                 file.string());
  };
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0) throw fail("bad magic number");
  if (bytes[2] != 0x08) throw fail(fmt::format("element type {:#04x}, not 0x08", bytes[2]));
  IdxHeader header;
  const std::size_t ndims = bytes[3];
  if (ndims != expected_dims) throw fail(std::to_string(ndims) + " dimension(s)");
  header.data_offset = 4 + 4 * ndims;
  if (bytes.size() < header.data_offset) throw fail("the header is truncated");
  for (std::size_t d = 0; d < ndims; ++d) {
    const auto* p = bytes.data() + 4 + 4 * d;
    header.dims.push_back((std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                          (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]});
  }
  const std::size_t expected = header.data_offset + header.elements();
  if (bytes.size() != expected)
    throw fail("the header promises " + std::to_string(expected) + " bytes, the file has " +
               std::to_string(bytes.size()));
  return header;
}

struct IdxImages {
  Samples samples;
  int height = 0, width = 0;
};

IdxImages read_idx_images(const std::filesystem::path& images,
                          const std::filesystem::path& labels) {
  const auto image_bytes = read_bytes(images);
  const auto label_bytes = read_bytes(labels);
  const auto image_header = parse_idx(image_bytes, images, 3);
  const auto label_header = parse_idx(label_bytes, labels, 1);
  const std::size_t n = image_header.dims[0];
  if (label_header.dims[0] != n)
    throw Error(images.string() + " holds " + std::to_string(n) + " images but " +
                    labels.string() + " holds " + std::to_string(label_header.dims[0]) +
                    " labels; they must be the two halves of one split",
                labels.string());
  IdxImages out;
  out.height = static_cast<int>(image_header.dims[1]);
  out.width = static_cast<int>(image_header.dims[2]);
  const std::size_t features = std::size_t{image_header.dims[1]} * image_header.dims[2];
  auto& samples = out.samples;
  resize_samples(samples.x, static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(features));
  const std::uint8_t* pixels = image_bytes.data() + image_header.data_offset;
  float* x = samples.x.data();  // row-major: the file's order
  for (std::size_t i = 0; i < n * features; ++i) x[i] = static_cast<float>(pixels[i]) / 255.0f;
  const std::uint8_t* y = label_bytes.data() + label_header.data_offset;
  samples.y.assign(y, y + n);
  return out;
}

}  // namespace

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& file) {
  auto bytes = read_raw(file);
  if (file.extension() == ".gz") return gunzip(bytes, file);
  return bytes;
}

std::filesystem::path find_file(const std::vector<std::filesystem::path>& candidates,
                                const std::string& provider) {
  std::error_code ec;
  for (const auto& path : candidates)
    if (std::filesystem::is_regular_file(path, ec)) return path;
  std::string tried;
  for (const auto& path : candidates) tried += "\n  " + path.string();
  throw Error("data file not found; tried:" + tried + "\nto install it: " + provider,
              candidates.empty() ? std::string{} : candidates.front().string());
}

std::filesystem::path data_root() {
  const char* root = std::getenv("ABLATE_DATA");
  return (root && *root) ? std::filesystem::path(root) : "/usr/local/share/ablate-data";
}

std::filesystem::path expand_data_path(const std::string& path) {
  constexpr std::string_view variable = "$ABLATE_DATA";
  if (!path.starts_with(variable)) return path;
  std::string rest = path.substr(variable.size());
  if (!rest.empty() && rest.front() != '/') return path;  // "$ABLATE_DATAX" is another name
  while (!rest.empty() && rest.front() == '/') rest.erase(0, 1);
  return rest.empty() ? data_root() : data_root() / rest;
}

Samples read_idx(const std::filesystem::path& images, const std::filesystem::path& labels) {
  return read_idx_images(images, labels).samples;
}

Source read_idx_dataset(const std::filesystem::path& folder, std::string name,
                        std::vector<std::string> class_names, const std::string& provider) {
  const auto split = [&](const std::string& prefix) {
    const auto plain_or_gz = [&](const std::string& file) {
      return find_file({folder / file, folder / (file + ".gz")}, provider);
    };
    const auto images = plain_or_gz(prefix + "-images-idx3-ubyte");  // reported first
    const auto labels = plain_or_gz(prefix + "-labels-idx1-ubyte");
    return read_idx_images(images, labels);
  };
  IdxImages train = split("train"), test = split("t10k");
  if (train.height != test.height || train.width != test.width)
    throw Error(fmt::format("the train images in {} are {}x{} but the test images {}x{}",
                            folder.string(), train.height, train.width, test.height, test.width),
                folder.string());
  Source source;
  source.name = std::move(name);
  source.shape.features = train.height * train.width;
  source.shape.height = train.height;
  source.shape.width = train.width;
  source.shape.classes = static_cast<int>(class_names.size());
  source.shape.class_names = std::move(class_names);
  for (const auto* samples : {&train.samples, &test.samples})
    for (auto label : samples->y)
      if (label >= source.shape.classes)
        throw Error(fmt::format("{} holds label {}; {} has {} classes", folder.string(), label,
                                source.name, source.shape.classes),
                    folder.string());
  source.train = std::move(train.samples);
  source.test = std::move(test.samples);
  return source;
}

}  // namespace ablate
