#include "runs/safetensors.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "runs/dtype.hpp"
#include "runs/json.hpp"
#include "util/atomic_file.hpp"

namespace ablate {
namespace {

constexpr std::string_view kMetadataKey = "__metadata__";
constexpr std::size_t kSizeFieldBytes = 8;
constexpr std::size_t kAlignment = 8;
// The reference implementation refuses larger headers too: no real header comes close.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

/// Elements in a tensor of `shape`; nothing when a dimension is negative or the count overflows.
std::optional<std::uint64_t> element_count(const std::vector<std::int64_t>& shape) {
  std::uint64_t count = 1;
  for (std::int64_t dim : shape)
    if (dim < 0 || __builtin_mul_overflow(count, static_cast<std::uint64_t>(dim), &count))
      return std::nullopt;
  return count;
}

std::optional<std::uint64_t> byte_count(const std::vector<std::int64_t>& shape, DType dtype) {
  std::uint64_t bytes = 0;
  const auto count = element_count(shape);
  if (!count || __builtin_mul_overflow(*count, element_size(dtype), &bytes)) return std::nullopt;
  return bytes;
}

/// What one header entry says about a tensor.
struct Entry {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;
  std::uint64_t begin, end;
};

class Reader {
 public:
  explicit Reader(const std::filesystem::path& file) : file_(file) {}

  StateStore read(std::map<std::string, std::string>* metadata) {
    const std::string bytes = read_file(file_);
    if (bytes.size() < kSizeFieldBytes)
      fail(fmt::format("it holds {} bytes, fewer than the 8-byte header size field", bytes.size()));
    std::uint64_t header_size = 0;
    std::memcpy(&header_size, bytes.data(), kSizeFieldBytes);  // little-endian, as on this host
    const std::uint64_t after_size_field = bytes.size() - kSizeFieldBytes;
    if (header_size > kMaxHeaderBytes)
      fail(fmt::format("its header size field says {} bytes, more than any real header",
                       header_size));
    if (header_size > after_size_field)
      fail(fmt::format("its header should be {} bytes but only {} follow (truncated?)", header_size,
                       after_size_field));
    const std::string_view header_text(bytes.data() + kSizeFieldBytes, header_size);
    const std::string_view data(bytes.data() + kSizeFieldBytes + header_size,
                                after_size_field - header_size);

    std::vector<Entry> entries = parse_header(header_text, metadata);
    check_layout(entries, data.size());
    StateStore state;
    for (const Entry& entry : entries) {
      StoredTensor& tensor = state.tensors()[entry.name];
      tensor.dtype = entry.dtype;
      tensor.shape = entry.shape;
      tensor.bytes.resize(entry.end - entry.begin);
      if (!tensor.bytes.empty())
        std::memcpy(tensor.bytes.data(), data.data() + entry.begin, tensor.bytes.size());
    }
    return state;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw Error(file_.string() + " is not a valid safetensors file: " + why, file_.string());
  }

  std::vector<Entry> parse_header(std::string_view text,
                                  std::map<std::string, std::string>* metadata) {
    Json header;
    try {
      header = Json::parse(text);
    } catch (const Error& e) {
      fail(std::string("its header is not JSON (") + e.what() + ")");
    }
    if (!header.is_object()) fail("its header is not a JSON object");
    std::vector<Entry> entries;
    for (const auto& [name, value] : header.as_object()) {
      if (name == kMetadataKey)
        read_metadata(value, metadata);
      else
        entries.push_back(read_entry(name, value));
    }
    return entries;
  }

  void read_metadata(const Json& value, std::map<std::string, std::string>* metadata) const {
    if (!value.is_object()) fail("__metadata__ is not an object");
    for (const auto& [key, text] : value.as_object()) {
      if (!text.is_string()) fail("__metadata__ value \"" + key + "\" is not a string");
      if (metadata) (*metadata)[key] = text.as_string();
    }
  }

  static std::optional<std::uint64_t> whole_number(const Json& value) {
    if (!value.is_number()) return std::nullopt;
    const double number = value.as_number();
    if (!(number >= 0 && number < 0x1p64) || number != std::floor(number)) return std::nullopt;
    return static_cast<std::uint64_t>(number);
  }

  [[noreturn]] void bad_entry(const std::string& name, const std::string& why) const {
    fail("tensor '" + name + "': " + why);
  }

  Entry read_entry(const std::string& name, const Json& value) const {
    if (!value.is_object()) bad_entry(name, "its entry is not an object");
    Entry entry{name, DType::f32, {}, 0, 0};

    const Json* dtype = value.find("dtype");
    if (!dtype || !dtype->is_string()) bad_entry(name, "no dtype");
    const auto parsed = parse_dtype(dtype->as_string());
    if (!parsed)
      bad_entry(name,
                "dtype " + dtype->as_string() + " is not one ablate reads (F32, F64, I64, U8)");
    entry.dtype = *parsed;

    const Json* shape = value.find("shape");
    if (!shape || !shape->is_array()) bad_entry(name, "no shape");
    for (const Json& dim : shape->as_array()) {
      const auto size = whole_number(dim);
      if (!size || *size > static_cast<std::uint64_t>(INT64_MAX))
        bad_entry(name, "shape " + shape->dump() + " is not a list of sizes");
      entry.shape.push_back(static_cast<std::int64_t>(*size));
    }

    const Json* offsets = value.find("data_offsets");
    if (!offsets || !offsets->is_array() || offsets->size() != 2)
      bad_entry(name, "no data_offsets [begin, end]");
    const auto begin = whole_number(offsets->at(std::size_t{0}));
    const auto end = whole_number(offsets->at(std::size_t{1}));
    if (!begin || !end || *begin > *end)
      bad_entry(name, "data_offsets " + offsets->dump() + " are not a range");
    entry.begin = *begin;
    entry.end = *end;

    const auto expected = byte_count(entry.shape, entry.dtype);
    if (!expected || *expected != entry.end - entry.begin)
      bad_entry(name, fmt::format("shape {} of {} does not match its {} bytes", shape->dump(),
                                  dtype->as_string(), entry.end - entry.begin));
    return entry;
  }

  /// The tensors must tile the data exactly: no gaps, no overlaps, nothing past the end.
  void check_layout(std::vector<Entry> entries, std::size_t data_size) const {
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
    });
    std::uint64_t next = 0;
    for (const Entry& entry : entries) {
      if (entry.begin != next)
        fail(
            fmt::format("tensor '{}' starts at byte {} of the data, expected {} (a gap or an "
                        "overlap)",
                        entry.name, entry.begin, next));
      if (entry.end > data_size)
        fail(
            fmt::format("tensor '{}' ends at byte {} but the file holds {} bytes of data "
                        "(truncated?)",
                        entry.name, entry.end, data_size));
      next = entry.end;
    }
    if (next != data_size)
      fail(fmt::format("{} bytes after the last tensor's data", data_size - next));
  }

  const std::filesystem::path& file_;
};

}  // namespace

void write_safetensors(const std::filesystem::path& file, const StateStore& state,
                       const std::map<std::string, std::string>& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) {
    Json& meta = header[kMetadataKey];
    meta = Json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
  }
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : state.tensors()) {
    if (name == kMetadataKey)
      throw Error("a tensor may not be named __metadata__ (" + file.string() + ")", file.string());
    const auto bytes = byte_count(tensor.shape, tensor.dtype);
    if (!bytes || *bytes != tensor.bytes.size())
      throw Error(
          fmt::format("tensor '{}' holds {} bytes, which does not match its shape [{}] of {}", name,
                      tensor.bytes.size(), fmt::join(tensor.shape, ", "), to_string(tensor.dtype)),
          file.string());
    Json entry = Json::object();
    entry["dtype"] = to_string(tensor.dtype);
    Json shape = Json::array();
    for (std::int64_t dim : tensor.shape) shape.push_back(dim);
    entry["shape"] = std::move(shape);
    entry["data_offsets"] = Json::Array{offset, offset + *bytes};
    header.as_object().emplace_back(name, std::move(entry));  // names are unique: a map's keys
    offset += *bytes;
  }

  std::string header_text = header.dump();
  header_text.append((kAlignment - header_text.size() % kAlignment) % kAlignment, ' ');
  const std::uint64_t header_size = header_text.size();
  std::string contents(kSizeFieldBytes, '\0');
  std::memcpy(contents.data(), &header_size, kSizeFieldBytes);  // little-endian, as on this host
  contents.reserve(kSizeFieldBytes + header_text.size() + offset);
  contents += header_text;
  for (const auto& [name, tensor] : state.tensors())
    contents.append(reinterpret_cast<const char*>(tensor.bytes.data()), tensor.bytes.size());
  if (file.has_parent_path()) create_folders(file.parent_path());
  write_atomic(file, contents);
}

StateStore read_safetensors(const std::filesystem::path& file,
                            std::map<std::string, std::string>* metadata) {
  return Reader(file).read(metadata);
}

}  // namespace ablate
