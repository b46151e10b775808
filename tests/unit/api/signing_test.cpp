#include "api/signing.h"

#include <gtest/gtest.h>

namespace grok::api {
namespace {

// Vectors computed with Python's hmac module, as a client would.
constexpr std::string_view k_secret = "s3cret";
constexpr std::string_view k_post_signature =
    "cf18dab9d16d5689e43dd7ef2f627a21301315452cedc486b2ddbc8e633a4160";

const time_point k_now = from_unix_ms(1'700'000'000'000);

signed_request post(std::string_view timestamp = "1700000000",
                    std::string_view signature = k_post_signature) {
  return {timestamp, signature, "POST", "/v1/runs?x=1", R"({"input":"hi"})"};
}

TEST(signing, matches_an_independent_implementation) {
  EXPECT_EQ(sign_request(k_secret, "1700000000", "POST", "/v1/runs?x=1", R"({"input":"hi"})"),
            k_post_signature);
  EXPECT_EQ(sign_request(k_secret, "1700000000", "GET", "/v1/runs", ""),
            "5d17b7f75d402ec8e61d619d1afc7427ecd9fad6e4f5f3559650cd9245d3af93");
}

TEST(signing, a_correct_signature_within_the_window_passes) {
  EXPECT_TRUE(verify_request(k_secret, post(), k_now));
  EXPECT_TRUE(verify_request(k_secret, post(), k_now + std::chrono::seconds(300)));
  EXPECT_TRUE(verify_request(k_secret, post(), k_now - std::chrono::seconds(300)));
}

TEST(signing, stale_future_missing_malformed_and_wrong_are_refused) {
  auto refused = [&](const signed_request& r, time_point now, std::string_view why) {
    auto v = verify_request(k_secret, r, now);
    ASSERT_FALSE(v) << why;
    EXPECT_EQ(v.error().code, errc::unauthenticated) << why;
  };
  refused(post(), k_now + std::chrono::seconds(301), "stale");
  refused(post(), k_now - std::chrono::seconds(301), "from the future");
  refused(post("", k_post_signature), k_now, "no timestamp");
  refused(post("1700000000", ""), k_now, "no signature");
  for (auto ts : {"17e8", "-1", "1700000000.5", " 1700000000", "1700000000 ",
                  "99999999999999999999", "0x65"}) {
    refused(post(ts), k_now, ts);
  }
  std::string upper(k_post_signature);
  for (auto& c : upper) c = static_cast<char>(std::toupper(c));
  refused(post("1700000000", upper), k_now, "uppercase hex");
  refused(post("1700000000", k_post_signature.substr(0, 63)), k_now, "cut short");
  // Any change to what is signed breaks the signature.
  auto r = post();
  r.method = "PUT";
  refused(r, k_now, "method");
  r = post();
  r.target = "/v1/runs?x=2";
  refused(r, k_now, "target");
  r = post();
  r.body = R"({"input":"hi!"})";
  refused(r, k_now, "body");
  EXPECT_FALSE(verify_request("other secret", post(), k_now));
}

}  // namespace
}  // namespace grok::api
