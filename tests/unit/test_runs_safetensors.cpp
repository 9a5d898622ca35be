#include <catch2/catch.hpp>

#include <cstring>
#include <numeric>

#include "ablate/error.hpp"
#include "ablate/state.hpp"
#include "runs/json.hpp"
#include "runs/safetensors.hpp"
#include "support.hpp"
#include "util/atomic_file.hpp"
#include "util/program.hpp"

using ablate::DType;
using ablate::Json;
using ablate::Matrix;
using ablate::StateStore;
namespace fs = std::filesystem;

namespace {

/// A store with every dtype, a matrix viewed from a wider buffer, an empty tensor and text.
StateStore sample_state() {
  Matrix wide(3, 6);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 6; ++c) wide(r, c) = 0.5f * static_cast<float>(r * 6 + c) - 2.0f;
  StateStore state;
  state.put("layer1.weight", wide.leftCols(4));  // outer stride 6, stored as [3, 4]
  const std::vector<float> bias = {0.25f, -1.5f, 3.0f};
  state.put("layer1.bias", std::span<const float>(bias));
  const std::vector<double> moments = {1e-300, 2.5, -7.125, 1e300};
  state.put("optimizer/m", std::span<const double>(moments));
  const std::vector<std::int64_t> position = {4, -1, 1LL << 60};
  state.put("trainer/position", std::span<const std::int64_t>(position));
  const std::vector<std::uint64_t> rng = {0xFFFFFFFFFFFFFFFFULL, 0x8000000000000000ULL, 12345};
  state.put("rng/state", std::span<const std::uint64_t>(rng));
  state.put_text("orderer/name", "backward \xc3\xa9");
  state.put("empty", std::span<const float>());
  return state;
}

std::string with_size_field(const std::string& header, const std::string& data) {
  const std::uint64_t size = header.size();
  std::string file(8, '\0');
  std::memcpy(file.data(), &size, 8);
  return file + header + data;
}

}  // namespace

TEST_CASE("state store keeps every dtype and reads it back typed", "[runs]") {
  const StateStore state = sample_state();
  CHECK(state.tensors().at("layer1.weight").shape == std::vector<std::int64_t>{3, 4});
  const Matrix weight = state.matrix("layer1.weight");
  CHECK(weight(2, 3) == 0.5f * 15 - 2.0f);
  CHECK(weight(1, 0) == 0.5f * 6 - 2.0f);
  CHECK(state.floats("layer1.bias") == std::vector<float>{0.25f, -1.5f, 3.0f});
  CHECK(state.reals("optimizer/m") == std::vector<double>{1e-300, 2.5, -7.125, 1e300});
  CHECK(state.integers("trainer/position") == std::vector<std::int64_t>{4, -1, 1LL << 60});
  CHECK(state.words("rng/state") ==
        std::vector<std::uint64_t>{0xFFFFFFFFFFFFFFFFULL, 0x8000000000000000ULL, 12345});
  CHECK(state.tensors().at("rng/state").dtype == DType::i64);
  CHECK(state.text("orderer/name") == "backward \xc3\xa9");
  CHECK(state.floats("empty").empty());
  CHECK(std::string(ablate::to_string(DType::u8)) == "U8");
}

TEST_CASE("state store loads into existing matrices and refuses mismatches", "[runs]") {
  const StateStore state = sample_state();
  Matrix buffer = Matrix::Zero(5, 4);
  state.get("layer1.weight", buffer.topRows(3));
  CHECK(buffer.topRows(3) == state.matrix("layer1.weight"));
  CHECK(buffer.row(4).isZero());
  Matrix bias_row(1, 3);
  state.get("layer1.bias", bias_row);  // PyTorch's 1-D bias into a row
  CHECK(bias_row(0, 2) == 3.0f);

  Matrix wrong(4, 3);
  CHECK_THROWS_WITH(
      state.get("layer1.weight", wrong),
      Catch::Contains("'layer1.weight' has shape [3, 4]") && Catch::Contains("[4, 3]"));
  CHECK_THROWS_WITH(state.reals("layer1.bias"),
                    Catch::Contains("'layer1.bias' is F32, expected F64"));
  CHECK_THROWS_WITH(state.floats("missing"), Catch::Contains("no tensor 'missing'"));
  CHECK_THROWS_WITH(state.matrix("layer1.bias"), Catch::Contains("not a matrix"));
}

TEST_CASE("safetensors round trip of every dtype, with metadata", "[runs]") {
  ablate::test::TempDir dir("ablate-st");
  const fs::path file = dir / "checkpoints" / "last.safetensors";  // a folder not made yet
  const StateStore state = sample_state();
  ablate::write_safetensors(file, state, {{"format", "ablate checkpoint"}, {"epoch", "7"}});

  std::map<std::string, std::string> metadata;
  const StateStore back = ablate::read_safetensors(file, &metadata);
  CHECK(metadata ==
        std::map<std::string, std::string>{{"format", "ablate checkpoint"}, {"epoch", "7"}});
  REQUIRE(back.tensors().size() == state.tensors().size());
  for (const auto& [name, tensor] : state.tensors()) {
    INFO(name);
    const auto& read = back.tensors().at(name);
    CHECK(read.dtype == tensor.dtype);
    CHECK(read.shape == tensor.shape);
    CHECK(read.bytes == tensor.bytes);
  }
  CHECK(back.words("rng/state") == state.words("rng/state"));

  // The layout the format prescribes: a size field, a space-padded header, the data.
  const std::string bytes = ablate::read_file(file);
  std::uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), 8);
  CHECK(header_size % 8 == 0);
  const Json header = Json::parse(bytes.substr(8, header_size));
  CHECK(header.as_object().front().first == "__metadata__");
  CHECK(header.at("layer1.weight").at("dtype").as_string() == "F32");
  CHECK(header.at("layer1.weight").at("shape").dump() == "[3,4]");
  CHECK(header.at("rng/state").at("dtype").as_string() == "I64");
  std::size_t data_bytes = 0;
  for (const auto& [name, tensor] : state.tensors()) data_bytes += tensor.bytes.size();
  CHECK(bytes.size() == 8 + header_size + data_bytes);

  // No metadata: no __metadata__ entry, and nothing for the caller to receive.
  ablate::write_safetensors(file, state, {});
  metadata.clear();
  ablate::read_safetensors(file, &metadata);
  CHECK(metadata.empty());
}

TEST_CASE("every truncation of a safetensors file is refused, naming the file", "[runs]") {
  ablate::test::TempDir dir("ablate-st");
  const fs::path whole = dir / "whole.safetensors";
  ablate::write_safetensors(whole, sample_state(), {{"format", "ablate checkpoint"}});
  const std::string bytes = ablate::read_file(whole);
  const fs::path cut = dir / "cut.safetensors";
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    ablate::test::write_text(cut, bytes.substr(0, size));
    INFO("truncated to " << size << " of " << bytes.size() << " bytes");
    CHECK_THROWS_WITH(
        ablate::read_safetensors(cut),
        Catch::Contains(cut.string()) && Catch::Contains("not a valid safetensors file"));
  }
}

TEST_CASE("malformed safetensors files are refused with the reason", "[runs]") {
  ablate::test::TempDir dir("ablate-st");
  const fs::path file = dir / "bad.safetensors";
  auto refused = [&](const std::string& contents) -> std::string {
    ablate::write_atomic(file, contents);
    try {
      ablate::read_safetensors(file);
    } catch (const ablate::Error& e) {
      return e.what();
    }
    return "accepted";
  };
  const std::string f32x2(8, '\0');
  CHECK_THAT(
      refused(with_size_field(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", f32x2)),
      Catch::Contains("accepted"));  // the control: a valid file
  CHECK_THAT(refused(with_size_field(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                                     f32x2 + "xx")),
             Catch::Contains("2 bytes after the last tensor"));
  CHECK_THAT(
      refused(with_size_field(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", f32x2)),
      Catch::Contains("tensor 'a'") && Catch::Contains("does not match its 8 bytes"));
  CHECK_THAT(
      refused(with_size_field(R"({"a":{"dtype":"BF16","shape":[4],"data_offsets":[0,8]}})", f32x2)),
      Catch::Contains("dtype BF16 is not one ablate reads"));
  CHECK_THAT(refused(with_size_field(R"({"a":{"dtype":"F32","shape":[2]}})", f32x2)),
             Catch::Contains("no data_offsets"));
  CHECK_THAT(
      refused(with_size_field(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", f32x2)),
      Catch::Contains("not a list of sizes"));
  CHECK_THAT(refused(with_size_field(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                     R"("b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                                     f32x2)),
             Catch::Contains("a gap or an overlap"));
  CHECK_THAT(refused(with_size_field(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                     f32x2 + "1234")),
             Catch::Contains("starts at byte 4"));
  CHECK_THAT(
      refused(with_size_field(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "")),
      Catch::Contains("truncated"));
  CHECK_THAT(
      refused(with_size_field(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8])", f32x2)),
      Catch::Contains("header is not JSON"));
  CHECK_THAT(refused(with_size_field(R"([1,2])", "")), Catch::Contains("not a JSON object"));
  CHECK_THAT(refused(with_size_field(R"({"__metadata__":{"k":1}})", "")),
             Catch::Contains("__metadata__ value \"k\" is not a string"));
  CHECK_THAT(refused(std::string("\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10)),
             Catch::Contains("more than any real header"));
  CHECK_THAT(refused("short"), Catch::Contains("fewer than the 8-byte header size field"));
  CHECK_THROWS_WITH(ablate::read_safetensors(dir / "missing.safetensors"),
                    Catch::Contains("missing.safetensors") && Catch::Contains("No such file"));
}

TEST_CASE("a tensor whose bytes do not match its shape is not written", "[runs]") {
  ablate::test::TempDir dir("ablate-st");
  StateStore state;
  state.tensors()["broken"] = ablate::StoredTensor{DType::f32, {2, 2}, std::vector<std::byte>(12)};
  CHECK_THROWS_WITH(ablate::write_safetensors(dir / "x.safetensors", state, {}),
                    Catch::Contains("'broken' holds 12 bytes"));
  CHECK_FALSE(fs::exists(dir / "x.safetensors"));
}

TEST_CASE("numpy and torch load what write_safetensors wrote", "[runs]") {
  const char* python = "/usr/bin/python3";
  if (ablate::run_program({python, "-c", "import numpy, torch"}).exit_code != 0) {
    WARN(
        "skipped: /usr/bin/python3 lacks numpy or torch (apt-get install python3-numpy "
        "python3-torch)");
    return;
  }
  ablate::test::TempDir dir("ablate-st");
  const fs::path file = dir / "for python.safetensors";  // a space: arguments pass unquoted
  const StateStore state = sample_state();
  ablate::write_safetensors(file, state, {{"format", "ablate checkpoint"}});
  const auto printed = ablate::program_output(
      {python, std::string(ABLATE_SOURCE_DIR) + "/tools/safetensors_check.py", file.string()});
  REQUIRE(printed);
  const Json report = Json::parse(*printed);
  CHECK(report.at("metadata").at("format").as_string() == "ablate checkpoint");
  const Json& tensors = report.at("tensors");
  REQUIRE(tensors.size() == state.tensors().size());

  // Sums computed here from the typed values, as numpy and torch compute them from the bytes.
  auto sum = [](const auto& values) {
    double total = 0;
    for (auto v : values) total += static_cast<double>(v);
    return total;
  };
  std::vector<std::int64_t> rng_as_signed;
  for (std::uint64_t word : state.words("rng/state"))
    rng_as_signed.push_back(static_cast<std::int64_t>(word));
  std::vector<unsigned char> text_bytes;
  for (char c : state.text("orderer/name")) text_bytes.push_back(static_cast<unsigned char>(c));
  const std::map<std::string, double> expected = {
      {"layer1.weight", sum(state.floats("layer1.weight"))},
      {"layer1.bias", sum(state.floats("layer1.bias"))},
      {"optimizer/m", sum(state.reals("optimizer/m"))},
      {"trainer/position", sum(state.integers("trainer/position"))},
      {"rng/state", sum(rng_as_signed)},
      {"orderer/name", sum(text_bytes)},
      {"empty", 0.0},
  };
  for (const auto& [name, tensor] : state.tensors()) {
    INFO(name);
    const Json& seen = tensors.at(name);
    CHECK(seen.at("dtype").as_string() == ablate::to_string(tensor.dtype));
    Json shape = Json::array();
    for (auto dim : tensor.shape) shape.push_back(dim);
    CHECK(seen.at("shape") == shape);
    CHECK(seen.at("numpy_sum").as_number() == Approx(expected.at(name)).epsilon(1e-12));
    CHECK(seen.at("torch_sum").as_number() == Approx(expected.at(name)).epsilon(1e-12));
  }
}
