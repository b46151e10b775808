#include "tools/calculator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

namespace grok::tools {
namespace {

double eval(const std::string& expression) {
  auto r = evaluate_expression(expression);
  EXPECT_TRUE(r) << expression << ": " << r.error().message;
  return r ? *r : std::nan("");
}

std::string error_of(const std::string& expression) {
  auto r = evaluate_expression(expression);
  EXPECT_FALSE(r) << expression << " gave " << (r ? *r : 0.0);
  if (r) return "";
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_FALSE(r.error().retryable);
  return r.error().message;
}

TEST(calculator, numbers_in_every_form) {
  EXPECT_EQ(eval("42"), 42);
  EXPECT_EQ(eval("1.5"), 1.5);
  EXPECT_EQ(eval(".5"), 0.5);
  EXPECT_EQ(eval("2."), 2);
  EXPECT_EQ(eval("1e3"), 1000);
  EXPECT_EQ(eval("2.5E-1"), 0.25);
  EXPECT_EQ(eval("1e+2"), 100);
  EXPECT_EQ(eval("  7 \t\n"), 7);
  EXPECT_EQ(eval("1e-400"), 0);  // underflow is zero, not an error
  EXPECT_EQ(eval("0.0000000000000000000000000000000000000000000000000000000000000000000000000"
                 "000000000000000000000000000000000000000000000000000000000000000000000000000"
                 "000000000000000000000000000000000000000000000000000000000000000000000000000"
                 "000000000000000000000000000000000000000000000000000000000000000000000000000"
                 "0000000000000000000000000000000000000000000000000001"),
            0);
}

TEST(calculator, precedence_and_associativity) {
  EXPECT_EQ(eval("1 + 2 * 3"), 7);
  EXPECT_EQ(eval("(1 + 2) * 3"), 9);
  EXPECT_EQ(eval("10 - 4 - 3"), 3);  // left-associative
  EXPECT_EQ(eval("100 / 10 / 5"), 2);
  EXPECT_EQ(eval("2 ^ 3 ^ 2"), 512);  // right-associative
  EXPECT_EQ(eval("2 ** 3 ** 2"), 512);
  EXPECT_EQ(eval("2 * 3 ^ 2"), 18);
  EXPECT_EQ(eval("7 % 4 + 1"), 4);
  EXPECT_EQ(eval("-7 % 4"), -3);  // the sign of the dividend, like fmod
  EXPECT_EQ(eval("1 + 2 * 3 - 4 / 2 ^ 2"), 6);
}

TEST(calculator, unary_signs) {
  EXPECT_EQ(eval("-3"), -3);
  EXPECT_EQ(eval("+3"), 3);
  EXPECT_EQ(eval("--3"), 3);
  EXPECT_EQ(eval("-2 ^ 2"), -4);  // power binds tighter than the sign
  EXPECT_EQ(eval("(-2) ^ 2"), 4);
  EXPECT_EQ(eval("2 ^ -1"), 0.5);
  EXPECT_EQ(eval("3 - -3"), 6);
  EXPECT_EQ(eval("2 * -3"), -6);
}

TEST(calculator, functions_and_constants) {
  EXPECT_EQ(eval("sqrt(16)"), 4);
  EXPECT_EQ(eval("abs(-2.5)"), 2.5);
  EXPECT_EQ(eval("round(2.5)"), 3);
  EXPECT_EQ(eval("round(-2.5)"), -3);
  EXPECT_EQ(eval("floor(-1.5)"), -2);
  EXPECT_EQ(eval("ceil(1.2)"), 2);
  EXPECT_DOUBLE_EQ(eval("ln(e)"), 1);
  EXPECT_EQ(eval("log10(1000)"), 3);
  EXPECT_DOUBLE_EQ(eval("exp(1)"), std::numbers::e);
  EXPECT_DOUBLE_EQ(eval("sin(pi / 2)"), 1);
  EXPECT_DOUBLE_EQ(eval("cos(0)"), 1);
  EXPECT_NEAR(eval("tan(pi / 4)"), 1, 1e-12);
  EXPECT_EQ(eval("min(3, 1, 2)"), 1);
  EXPECT_EQ(eval("max(3, 1, 2)"), 3);
  EXPECT_EQ(eval("max(4)"), 4);
  EXPECT_EQ(eval("pow(2, 10)"), 1024);
  EXPECT_EQ(eval("SQRT(4) + PI - pi"), 2);  // names are case-insensitive
  EXPECT_EQ(eval("sqrt(max(9, 16)) * -min(1, 2)"), -4);
}

TEST(calculator, syntax_errors_name_the_column) {
  EXPECT_EQ(error_of("(1 + 2))"), "unexpected ')' at column 8");
  EXPECT_EQ(error_of("1 + * 2"), "unexpected '*' at column 5");
  EXPECT_EQ(error_of("1 +"), "unexpected end of expression");
  EXPECT_EQ(error_of(""), "unexpected end of expression");
  EXPECT_EQ(error_of("(1 + 2"), "expected ')' at end of expression");
  EXPECT_EQ(error_of("2 3"), "unexpected '3' at column 3");
  EXPECT_EQ(error_of("2pi"), "unexpected 'p' at column 2");
  EXPECT_EQ(error_of("1,5"), "unexpected ',' at column 2");
  EXPECT_EQ(error_of("."), "unexpected '.' at column 1");
  EXPECT_EQ(error_of("1 = 1"), "unexpected '=' at column 3");
}

TEST(calculator, unknown_names_and_argument_counts) {
  EXPECT_EQ(error_of("foo(1)"), "unknown function foo at column 1");
  EXPECT_EQ(error_of("1 + x"), "unknown name x at column 5");
  EXPECT_EQ(error_of("log(10)"), "unknown function log (use ln or log10) at column 1");
  EXPECT_EQ(error_of("sqrt(1, 2)"), "sqrt takes 1 argument, got 2 at column 1");
  EXPECT_EQ(error_of("pow(2)"), "pow takes 2 arguments, got 1 at column 1");
  EXPECT_EQ(error_of("sqrt 4"), "expected '(' after sqrt at column 6");
  EXPECT_EQ(error_of("min()"), "unexpected ')' at column 5");
}

TEST(calculator, division_and_modulo_by_zero) {
  EXPECT_EQ(error_of("1 / 0"), "division by zero at column 3");
  EXPECT_EQ(error_of("1 / (2 - 2)"), "division by zero at column 3");
  EXPECT_EQ(error_of("5 % 0"), "modulo by zero at column 3");
  EXPECT_EQ(error_of("0 ^ -1"), "division by zero at column 3");
}

TEST(calculator, results_that_are_not_finite_are_errors) {
  EXPECT_EQ(error_of("10 ^ 400"), "result of '^' is not a finite number at column 4");
  EXPECT_EQ(error_of("exp(1000)"), "result of exp is not a finite number at column 1");
  EXPECT_EQ(error_of("sqrt(-1)"), "result of sqrt is not a finite number at column 1");
  EXPECT_EQ(error_of("ln(0)"), "result of ln is not a finite number at column 1");
  EXPECT_EQ(error_of("1e308 * 10"), "result of '*' is not a finite number at column 7");
  EXPECT_EQ(error_of("1e999"), "number out of range at column 1");
}

TEST(calculator, nesting_is_limited) {
  const std::string ok = std::string(99, '(') + "1" + std::string(99, ')');
  EXPECT_EQ(eval(ok), 1);  // 99 parentheses inside the top level: 100 levels
  const std::string over = std::string(100, '(') + "1" + std::string(100, ')');
  EXPECT_EQ(error_of(over), "expression nested deeper than 100 levels at column 101");
  const std::string deep = std::string(200, '(') + "1" + std::string(200, ')');
  EXPECT_NE(error_of(deep).find("nested deeper than 100 levels"), std::string::npos);
  EXPECT_NE(error_of(std::string(5000, '-') + "1").find("nested deeper"), std::string::npos);
  std::string powers = "2";
  for (int i = 0; i < 300; ++i) powers += "^1";
  EXPECT_NE(error_of(powers).find("nested deeper"), std::string::npos);
}

TEST(calculator, hostile_input_gets_a_clear_error) {
  EXPECT_NE(error_of(std::string(1000, '(')).find("nested deeper"), std::string::npos);
  EXPECT_EQ(error_of(std::string(1000, ')')), "unexpected ')' at column 1");
  EXPECT_EQ(error_of("system(\"ls\")"), "unknown function system at column 1");
  EXPECT_EQ(error_of("__import__('os')"), "unknown function __import__ at column 1");
  EXPECT_EQ(error_of(std::string("1 +\0 2", 6)), "unexpected byte 0x00 at column 4");
  EXPECT_EQ(error_of("1 + \xff\xfe"), "unexpected byte 0xFF at column 5");
  EXPECT_EQ(error_of("\xe2\x88\x9a"
                     "4"),
            "unexpected byte 0xE2 at column 1");  // √4
  EXPECT_EQ(error_of(std::string(1000, 'a') + "(1)"),
            "unknown function aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa at column 1");  // name cut short
  std::string garbage;
  for (int i = 0; i < 256; ++i) garbage += static_cast<char>(i);
  EXPECT_FALSE(evaluate_expression(garbage));
}

TEST(calculator, formats_the_shortest_round_trip_text) {
  EXPECT_EQ(format_number(42), "42");
  EXPECT_EQ(format_number(-7), "-7");
  EXPECT_EQ(format_number(-0.0), "0");
  EXPECT_EQ(format_number(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(format_number(0.5), "0.5");
  EXPECT_EQ(format_number(1e14), "100000000000000");
  EXPECT_EQ(format_number(1e15), "1e+15");
  EXPECT_EQ(format_number(123456789012345.0), "123456789012345");
  EXPECT_EQ(format_number(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(format_number(1e-7), "1e-07");
}

TEST(calculator, tool_validates_and_evaluates) {
  auto calc = make_calculator_tool();
  tool_registry registry;
  ASSERT_TRUE(registry.add(std::move(calc)));
  const tool_context ctx;
  auto out = registry.invoke("calculator", {{"expression", "2 * (3 + 4)"}}, ctx);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(out->text, "14");

  auto bad = registry.invoke("calculator", {{"expression", "1/0"}}, ctx);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, errc::invalid_argument);
  EXPECT_EQ(bad.error().message, "division by zero at column 2");

  EXPECT_FALSE(registry.invoke("calculator", {{"expression", 5}}, ctx));
  EXPECT_FALSE(registry.invoke("calculator", {{"expr", "1"}}, ctx));
  EXPECT_FALSE(registry.invoke("calculator", {{"expression", "1"}, {"x", 1}}, ctx));
  EXPECT_FALSE(registry.invoke("calculator", {{"expression", std::string(1001, '1')}}, ctx));
}

TEST(calculator, tool_refuses_wrong_types_without_throwing) {
  auto calc = make_calculator_tool();
  const tool_context ctx;
  // Straight to invoke(), past the registry's schema check.
  for (const auto& args : {nlohmann::json(5), nlohmann::json::array(),
                           nlohmann::json{{"expression", 1}}, nlohmann::json::object()}) {
    auto r = calc->invoke(args, ctx);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_argument);
  }
}

}  // namespace
}  // namespace grok::tools
