#include "plumbline/core/quantity.h"

#include <gtest/gtest.h>

namespace plumbline {
namespace {

Quantity q(std::string_view text) {
  auto parsed = Quantity::parse(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed.value_or(Quantity{});
}

TEST(Quantity, EqualByValue) {
  EXPECT_EQ(q("1"), q("1000m"));
  EXPECT_EQ(q("512Mi"), q("536870912"));
  EXPECT_EQ(q("0.5"), q("500m"));
  EXPECT_EQ(q("1e3"), q("1k"));
  EXPECT_EQ(q("1.5Gi"), q("1536Mi"));
  EXPECT_EQ(q("1Ei"), q("1024Pi"));  // "Ei" is a suffix, not an exponent missing its digits
  EXPECT_EQ(q("100n"), q("0.1u"));
  EXPECT_NE(q("1G"), q("1Gi"));
  EXPECT_LT(q("999m"), q("1"));
}

TEST(Quantity, FromJsonNumbers) {
  EXPECT_EQ(*Quantity::from_json(json(1)), q("1000m"));
  EXPECT_EQ(*Quantity::from_json(json(0.25)), q("250m"));
  EXPECT_TRUE(quantities_equal(json("2"), json(2)));
  EXPECT_FALSE(quantities_equal(json("2"), json("2Ki")));
  EXPECT_FALSE(Quantity::from_json(json(true)).has_value());
}

TEST(Quantity, RejectsGarbage) {
  for (const char* bad :
       {"", "m", "1.2.3", "1X", "Gi", "1e", "--1", "1 Gi", "99999999999999999999999Ei"}) {
    EXPECT_FALSE(Quantity::parse(bad).has_value()) << bad;
  }
}

// Found by quantity_fuzz: ".9999999910108E" multiplied 13 fraction digits into 10^27 before
// dividing them out, and overflowed 128 bits (undefined behaviour, a wrong value).
TEST(Quantity, FractionDigitsAreDividedOutBeforeTheyCanOverflow) {
  EXPECT_EQ(q(".9999999910108E"), q("999999991010800000"));
  EXPECT_EQ(q("0.000000000000000000000000001E"), q("1n"));
  EXPECT_EQ(q("1.5e-9").millis_ceil(), 1);
  for (const char* too_large : {"1e40", "200000000000000000000000000000E",
                                "170141183460469231732"
                                "E"}) {
    EXPECT_FALSE(Quantity::parse(too_large).has_value()) << too_large;
  }
}

// Whatever prints parses back to the same value, up to the largest one held.
TEST(Quantity, EveryPrintedValueParsesBack) {
  for (const char* text : {"9999999999999999999Ki", "88E", "170141183460469231731.687303715",
                           "-170141183460469231731.687303715", "0.000000001", "123456789.5Ei"}) {
    auto parsed = Quantity::parse(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    auto again = Quantity::parse(parsed->to_string());
    ASSERT_TRUE(again.has_value()) << text << " printed as " << parsed->to_string();
    EXPECT_EQ(*again, *parsed) << text;
  }
  EXPECT_EQ(q("9999999999999999999Ki").to_string(), "10239999999999999998976");
  EXPECT_EQ(q("88E").to_string(), "88e18");
}

TEST(Quantity, MillisRoundUpAndText) {
  EXPECT_EQ(q("1").millis_ceil(), 1000);
  EXPECT_EQ(q("0.0001").millis_ceil(), 1);
  EXPECT_EQ(q("512Mi").to_string(), "536870912");
  EXPECT_EQ(q("250m").to_string(), "0.25");
  EXPECT_DOUBLE_EQ(q("1500m").to_double(), 1.5);
}

}  // namespace
}  // namespace plumbline
