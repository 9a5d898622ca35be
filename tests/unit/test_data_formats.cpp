// File readers: raw and gzipped bytes, candidate paths, the data root, IDX.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "ablate/formats.hpp"
#include "test_data_support.hpp"

using namespace ablate;
using namespace ablate::test;

TEST_CASE("read_bytes returns plain files as they are and gunzips .gz files", "[data]") {
  TempDir dir("data-formats");
  std::string text;
  for (int i = 0; i < 200000; ++i) text += static_cast<char>('a' + (i * 7919) % 26);
  write_text(dir / "plain.bin", text);
  write_text(dir / "packed.bin.gz", gzip(text));
  CHECK(bytes_text(read_bytes(dir / "plain.bin")) == text);
  CHECK(bytes_text(read_bytes(dir / "packed.bin.gz")) == text);

  // gzip allows members one after another (cat a.gz b.gz): all are read.
  write_text(dir / "two.gz", gzip("first half, ") + gzip("second half"));
  CHECK(bytes_text(read_bytes(dir / "two.gz")) == "first half, second half");
  write_text(dir / "empty.gz", gzip(""));
  CHECK(read_bytes(dir / "empty.gz").empty());
}

TEST_CASE("a truncated or corrupt .gz and a missing file are errors naming the file", "[data]") {
  TempDir dir("data-formats");
  const std::string packed = gzip(std::string(5000, 'x') + "tail");
  write_text(dir / "cut.gz", packed.substr(0, packed.size() / 2));
  CHECK_THROWS_WITH(read_bytes(dir / "cut.gz"),
                    Catch::Contains("cut.gz") && Catch::Contains("truncated"));
  write_text(dir / "junk.gz", "this was never gzipped");
  CHECK_THROWS_WITH(read_bytes(dir / "junk.gz"), Catch::Contains("cannot gunzip") &&
                                                      Catch::Contains("junk.gz"));
  CHECK_THROWS_WITH(read_bytes(dir / "absent.bin"), Catch::Contains("absent.bin"));
}

TEST_CASE("find_file returns the first existing candidate, or names every path tried and the "
          "provider", "[data]") {
  TempDir dir("data-formats");
  write_text(dir / "second", "x");
  write_text(dir / "third", "x");
  CHECK(find_file({dir / "first", dir / "second", dir / "third"}, "unused") == dir / "second");
  try {
    find_file({dir / "a.idx", dir / "b.idx.gz"}, "apt-get install some-package");
    FAIL("a missing file was found");
  } catch (const Error& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Contains((dir / "a.idx").string()));
    CHECK_THAT(message, Catch::Contains((dir / "b.idx.gz").string()));
    CHECK_THAT(message, Catch::Contains("apt-get install some-package"));
  }
}

TEST_CASE("$ABLATE_DATA in a path is the data root: the variable, else the default", "[data]") {
  const char* saved = std::getenv("ABLATE_DATA");
  const std::string restore = saved ? saved : "";
  ::setenv("ABLATE_DATA", "/tmp/some-root", 1);
  CHECK(data_root() == "/tmp/some-root");
  CHECK(expand_data_path("$ABLATE_DATA/digits") == "/tmp/some-root/digits");
  CHECK(expand_data_path("$ABLATE_DATA") == "/tmp/some-root");
  CHECK(expand_data_path("/abs/$ABLATE_DATA/x") == "/abs/$ABLATE_DATA/x");  // only a prefix
  CHECK(expand_data_path("$ABLATE_DATAX/y") == "$ABLATE_DATAX/y");          // another name
  ::unsetenv("ABLATE_DATA");
  CHECK(data_root() == "/usr/local/share/ablate-data");
  CHECK(expand_data_path("$ABLATE_DATA/sst2") == "/usr/local/share/ablate-data/sst2");
  if (saved) ::setenv("ABLATE_DATA", restore.c_str(), 1);
}

TEST_CASE("read_idx reads images scaled by 1/255 into rows and their labels", "[data]") {
  TempDir dir("data-formats");
  // 3 images of 2x4 pixels.
  std::vector<std::uint8_t> pixels(24);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i * 11);
  write_text(dir / "images", idx({3, 2, 4}, pixels));
  write_text(dir / "labels.gz", gzip(idx({3}, {7, 0, 255})));
  const Samples samples = read_idx(dir / "images", dir / "labels.gz");
  REQUIRE(samples.x.rows() == 3);
  REQUIRE(samples.x.cols() == 8);
  CHECK(samples.y == std::vector<std::int32_t>{7, 0, 255});
  for (Eigen::Index r = 0; r < 3; ++r)
    for (Eigen::Index c = 0; c < 8; ++c)
      CHECK(samples.x(r, c) == static_cast<float>(pixels[static_cast<std::size_t>(r * 8 + c)]) / 255.0f);
}

TEST_CASE("malformed IDX files are refused with the reason and the file", "[data]") {
  TempDir dir("data-formats");
  write_text(dir / "labels", idx({2}, {1, 2}));
  write_text(dir / "short", idx({2, 2, 2}, {1, 2, 3}));  // 8 promised, 3 there
  CHECK_THROWS_WITH(read_idx(dir / "short", dir / "labels"),
                    Catch::Contains("short") && Catch::Contains("promises"));
  std::string floats = idx({2, 1, 1}, {0, 0});
  floats[2] = 0x0D;  // float32 elements
  write_text(dir / "floats", floats);
  CHECK_THROWS_WITH(read_idx(dir / "floats", dir / "labels"), Catch::Contains("0x0d"));
  write_text(dir / "images", idx({3, 1, 1}, {1, 2, 3}));
  CHECK_THROWS_WITH(read_idx(dir / "images", dir / "labels"),
                    Catch::Contains("3 images") && Catch::Contains("2 labels"));
  CHECK_THROWS_WITH(read_idx(dir / "labels", dir / "labels"), Catch::Contains("1 dimension(s)"));
}

TEST_CASE("read_idx_dataset takes train-* and t10k-* pairs, plain or gzipped", "[data]") {
  TempDir dir("data-formats");
  write_text(dir / "train-images-idx3-ubyte.gz", gzip(idx({4, 3, 2}, std::vector<std::uint8_t>(24, 255))));
  write_text(dir / "train-labels-idx1-ubyte", idx({4}, {0, 1, 2, 1}));
  write_text(dir / "t10k-images-idx3-ubyte", idx({2, 3, 2}, std::vector<std::uint8_t>(12, 0)));
  write_text(dir / "t10k-labels-idx1-ubyte.gz", gzip(idx({2}, {2, 0})));
  const Source source = read_idx_dataset(dir.path(), "tiny", {"a", "b", "c"}, "no package");
  CHECK(source.name == "tiny");
  CHECK(source.shape.features == 6);
  CHECK(source.shape.channels == 1);
  CHECK(source.shape.height == 3);
  CHECK(source.shape.width == 2);
  CHECK(source.shape.classes == 3);
  CHECK(source.train.y == std::vector<std::int32_t>{0, 1, 2, 1});
  CHECK(source.train.x.minCoeff() == 1.0f);
  CHECK(source.test.y == std::vector<std::int32_t>{2, 0});
  CHECK(source.test.x.maxCoeff() == 0.0f);
  // A label beyond the classes named.
  CHECK_THROWS_WITH(read_idx_dataset(dir.path(), "tiny", {"a", "b"}, "no package"),
                    Catch::Contains("label 2"));
  std::filesystem::remove(dir / "t10k-labels-idx1-ubyte.gz");
  CHECK_THROWS_WITH(read_idx_dataset(dir.path(), "tiny", {"a", "b", "c"}, "the tiny package"),
                    Catch::Contains("t10k-labels-idx1-ubyte.gz") &&
                        Catch::Contains("the tiny package"));
}
