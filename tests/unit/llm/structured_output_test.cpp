#include "llm/structured_output.h"

#include <gtest/gtest.h>

namespace grok::llm {
namespace {

constexpr const char* k_plan_schema = R"({
  "type": "object", "required": ["steps"], "additionalProperties": false,
  "properties": {"steps": {"type": "array", "items": {
    "type": "object", "required": ["id", "tool"],
    "properties": {"id": {"type": "string", "pattern": "^E[0-9]+$"}, "tool": {"type": "string"}}}}}})";

TEST(structured_output, valid_answers_pass) {
  EXPECT_TRUE(
      check_structured_output(R"({"steps":[{"id":"E1","tool":"calculator"}]})", k_plan_schema));
  EXPECT_TRUE(check_structured_output(R"({"steps":[]})", k_plan_schema));
}

TEST(structured_output, violations_name_the_path) {
  auto r = check_structured_output(R"({"steps":[{"id":"step one","tool":"calculator"}]})",
                                   k_plan_schema);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_NE(r.error().message.find("steps"), std::string::npos) << r.error().message;
  auto extra = check_structured_output(R"({"steps":[],"thoughts":"hmm"})", k_plan_schema);
  ASSERT_FALSE(extra);
  auto missing = check_structured_output(R"({})", k_plan_schema);
  ASSERT_FALSE(missing);
}

TEST(structured_output, non_json_answers_are_quoted_safely) {
  auto r = check_structured_output("Here is your plan:\n```json\n{}\n```", k_plan_schema);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not JSON"), std::string::npos);
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  EXPECT_FALSE(check_structured_output("", k_plan_schema));
  EXPECT_FALSE(check_structured_output("\xff\xfe", k_plan_schema));
}

TEST(structured_output, unusable_schemas_are_internal_errors) {
  EXPECT_EQ(check_structured_output("{}", "{not json").error().code, errc::internal);
  EXPECT_EQ(check_structured_output("{}", R"({"type": 7})").error().code, errc::internal);
}

}  // namespace
}  // namespace grok::llm
