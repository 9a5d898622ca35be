#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>

#include "ablate/error.hpp"
#include "runs/json.hpp"

using ablate::Json;

TEST_CASE("json writes compact text with members in insertion order", "[runs]") {
  Json row = Json::object();
  row["kind"] = "epoch";
  row["epoch"] = 3;
  row["loss"] = 0.25;
  row["ok"] = true;
  row["none"] = nullptr;
  row["units"] = Json::Array{1, 2.5, "x"};
  row["nested"]["depth"] = std::size_t{2};
  CHECK(
      row.dump() ==
      R"({"kind":"epoch","epoch":3,"loss":0.25,"ok":true,"none":null,"units":[1,2.5,"x"],"nested":{"depth":2}})");
  row["epoch"] = 4;  // replaces in place, keeping the order
  CHECK(row.dump().find(R"("kind":"epoch","epoch":4,)") == 1);
  CHECK(Json::object().dump() == "{}");
  CHECK(Json::array().dump() == "[]");
}

TEST_CASE("json numbers: shortest text that reads back exactly, NaN and infinity as null",
          "[runs]") {
  CHECK(Json(0.1).dump() == "0.1");
  CHECK(Json(1.0 / 3.0).dump() == "0.3333333333333333");
  CHECK(Json(100.0).dump() == "100");
  CHECK(Json(-2).dump() == "-2");
  CHECK(Json(1e300).dump() == "1e+300");
  CHECK(Json(std::int64_t{1} << 53).dump() == "9007199254740992");
  CHECK(Json(std::nan("")).dump() == "null");
  CHECK(Json(std::numeric_limits<double>::infinity()).dump() == "null");
  CHECK(Json(-std::numeric_limits<double>::infinity()).dump() == "null");

  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> exponent(-300, 300);
  for (int i = 0; i < 2000; ++i) {
    const double value =
        std::pow(10.0, exponent(rng)) * (i % 2 ? 1 : -1) * std::ldexp(rng() >> 11, -53);
    const std::string text = Json(value).dump();
    INFO(text);
    CHECK(Json::parse(text).as_number() == value);
  }
  const double smallest = std::numeric_limits<double>::denorm_min();
  CHECK(Json::parse(Json(smallest).dump()).as_number() == smallest);
}

TEST_CASE("json strings are escaped and read back", "[runs]") {
  const std::string tricky = std::string("quote \" backslash \\ slash / newline \n tab \t cr \r ") +
                             "bell \x07 nul " + std::string(1, '\0') +
                             " unicode \xc3\xa9 \xf0\x9f\x98\x80";
  const std::string text = Json(tricky).dump();
  CHECK(text.find('\n') == std::string::npos);  // one line, always
  CHECK(text.find("\\u0007") != std::string::npos);
  CHECK(text.find("\\u0000") != std::string::npos);
  CHECK(text.find("\\\"") != std::string::npos);
  CHECK(Json::parse(text).as_string() == tricky);
  // Escapes the writer never produces, including a surrogate pair.
  CHECK(Json::parse(R"("\u00e9\/\b\f\ud83d\ude00")").as_string() ==
        "\xc3\xa9/\b\f\xf0\x9f\x98\x80");
}

TEST_CASE("json round trips a nested document", "[runs]") {
  const std::string text =
      R"({"seed":17,"plugins":[{"name":"mlp","sha256":"ab12"},{"name":"forward"}],)"
      R"("empty":{},"list":[],"flags":[true,false,null],"x":-0.5,"big":1e+21})";
  const Json value = Json::parse(text);
  CHECK(value.dump() == text);
  CHECK(value.at("seed").as_integer() == 17);
  CHECK(value.at("plugins").at(std::size_t{1}).at("name").as_string() == "forward");
  CHECK(value.at("plugins").size() == 2);
  CHECK(value.contains("empty"));
  CHECK_FALSE(value.contains("missing"));
  CHECK(value.find("missing") == nullptr);
  CHECK(Json::parse(" \n\t[ 1 , 2 ]\r\n ") == Json(Json::Array{1, 2}));
  CHECK(Json::parse(value.dump()) == value);
}

TEST_CASE("json typed access says what it expected", "[runs]") {
  const Json value = Json::parse(R"({"n":1.5,"s":"x"})");
  CHECK_THROWS_WITH(value.at("s").as_number(),
                    Catch::Contains("expected a number") && Catch::Contains("string"));
  CHECK_THROWS_WITH(value.at("n").as_integer(), Catch::Contains("expected an integer"));
  CHECK_THROWS_WITH(value.at("missing"), Catch::Contains("\"missing\""));
  CHECK_THROWS_WITH(value.at("n").as_array(), Catch::Contains("expected an array"));
  CHECK_THROWS_WITH(Json::parse("[1]").at(std::size_t{1}), Catch::Contains("out of range"));
  CHECK_THROWS_AS(Json::parse("1e19").as_integer(), ablate::Error);
  CHECK(Json::parse("-9007199254740992").as_integer() == -(std::int64_t{1} << 53));
}

TEST_CASE("bad json is refused with the offset of the problem", "[runs]") {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"", "offset 0: expected a value but the text ended"},
      {"{\"a\":1,}", "offset 7: expected a member name"},
      {"[1,2", "offset 4: expected ']' but the text ended"},
      {"[1 2]", "offset 3: expected ']'"},
      {"{\"a\" 1}", "offset 5: expected ':'"},
      {"{\"a\":1,\"a\":2}", "offset 7: duplicate member name \"a\""},
      {"\"abc", "offset 4: unterminated string"},
      {"\"a\nb\"", "offset 2: control character"},
      {"\"\\x\"", "offset 1: unknown escape"},
      {"\"\\u12g4\"", "\\u needs four hex digits"},
      {"\"\\ud800x\"", "high surrogate not followed by a low one"},
      {"01", "offset 1: unexpected text after the JSON value"},
      {"1.", "offset 2: expected a digit after the decimal point"},
      {"-", "offset 1: expected a digit"},
      {"1e", "offset 2: expected a digit in the exponent"},
      {"1e999", "offset 0: number out of range"},
      {"tru", "offset 0: unknown word"},
      {"NaN", "offset 0: expected a value"},
      {"{} {}", "offset 3: unexpected text"},
  };
  for (const Case& c : cases) {
    INFO("input: " << c.text);
    CHECK_THROWS_WITH(Json::parse(c.text), Catch::Contains(c.message));
  }
  CHECK_THROWS_WITH(Json::parse(std::string(300, '[') + std::string(300, ']')),
                    Catch::Contains("nested deeper"));
  CHECK_THROWS_WITH(Json::parse("{", "run/manifest.json"),
                    Catch::StartsWith("run/manifest.json: invalid JSON at offset 1"));
}
