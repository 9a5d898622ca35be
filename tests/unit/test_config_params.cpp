// ParamSpec descriptions, value rendering and the kind names.
#include <toml++/toml.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "ablate/params.hpp"
#include "ablate/plugin.hpp"

using namespace ablate;

TEST_CASE("to_toml renders values that TOML reads back unchanged", "[config]") {
  CHECK(to_toml(Value(true)) == "true");
  CHECK(to_toml(Value(std::int64_t{-3})) == "-3");
  CHECK(to_toml(Value(0.5)) == "0.5");
  CHECK(to_toml(Value(100.0)) == "100.0");
  CHECK(to_toml(Value(std::string("relu"))) == "\"relu\"");
  CHECK(to_toml(Value(std::vector<std::int64_t>{256, 256})) == "[256, 256]");
  CHECK(to_toml(Value(std::vector<std::string>{"a", "b"})) == "[\"a\", \"b\"]");
  CHECK(to_toml(Value(std::vector<double>{})) == "[]");

  const std::string tricky = "quote \" back\\slash\nnew line\ttab \x01";
  for (double number : {0.1, 1e-8, 1e300, -2.5, 3.0, 0.0}) {
    auto table = toml::parse("x = " + to_toml(Value(number)));
    REQUIRE(table["x"].is_floating_point());
    CHECK(table["x"].value<double>() == number);
  }
  auto table = toml::parse("x = " + to_toml(Value(tricky)));
  CHECK(table["x"].value<std::string>() == tricky);
}

TEST_CASE("describe_allowed states types, ranges and choices", "[config]") {
  CHECK(integer("n", 1, 1, 100, "").describe_allowed() == "integer in [1, 100]");
  CHECK(integer("n", 1, 0, kInf, "").describe_allowed() == "integer >= 0");
  CHECK(real("x", 1.0, -kInf, kInf, "").describe_allowed() == "real");
  CHECK(real("lr", 0.1, std::nextafter(0.0, 1.0), 100, "").describe_allowed() ==
        "real in (0, 100]");
  CHECK(real("m", 0.9, 0, std::nextafter(1.0, 0.0), "").describe_allowed() == "real in [0, 1)");
  CHECK(real("f", 0.1, 0, 0.9, "").describe_allowed() == "real in [0, 0.9]");
  CHECK(real("g", 0.1, std::nextafter(0.0, 1.0), kInf, "").describe_allowed() == "real > 0");
  CHECK(choice("act", "relu", {"relu", "tanh", "gelu"}, "").describe_allowed() ==
        "one of: relu, tanh, gelu");
  CHECK(reals("r", std::nullopt, -kInf, kInf, "").describe_allowed() == "list of reals");
  CHECK(integers("h", std::vector<std::int64_t>{8}, 1, kInf, "").describe_allowed() ==
        "list of integers, each >= 1");
  CHECK(flag("b", true, "").describe_allowed() == "true or false");
  CHECK(text("s", std::nullopt, "").describe_allowed() == "string");
}

TEST_CASE("builders fill the declaration they read as", "[config]") {
  const ParamSpec required = integer("width", std::nullopt, 1, 64, "units per layer");
  CHECK(required.name == "width");
  CHECK(required.type == ParamType::integer);
  CHECK_FALSE(required.default_value);
  CHECK(required.min == 1);
  CHECK(required.max == 64);
  CHECK(required.doc == "units per layer");

  const ParamSpec picked = choice("mode", "b", {"a", "b"}, "");
  CHECK(picked.type == ParamType::string);
  CHECK(std::get<std::string>(*picked.default_value) == "b");
  CHECK(picked.choices == std::vector<std::string>{"a", "b"});

  CHECK(texts("names", std::vector<std::string>{"x"}, "").type == ParamType::string_list);
  CHECK(std::string(to_string(ParamType::real_list)) == "list of reals");
}

TEST_CASE("kinds read and print as their experiment-file words", "[config]") {
  for (Kind kind : kAllKinds) CHECK(parse_kind(to_string(kind)) == kind);
  CHECK(parse_kind("capacity_law") == Kind::capacity_law);
  CHECK_FALSE(parse_kind("capacity"));
}
