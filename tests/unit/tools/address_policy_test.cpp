// Classification only: nothing here opens a socket.
#include "tools/address_policy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

namespace grok::tools {
namespace {

ip_address ip(const std::string& text) {
  auto a = ip_address::parse(text);
  EXPECT_TRUE(a) << text;
  return a.value_or(ip_address{});
}

address_class class_of(const std::string& text) { return classify(ip(text)); }

TEST(address_policy, parses_only_strict_address_syntax) {
  EXPECT_TRUE(ip_address::parse("127.0.0.1"));
  EXPECT_TRUE(ip_address::parse("::1"));
  EXPECT_TRUE(ip_address::parse("::ffff:10.0.0.1"));
  // The odd spellings a resolver accepts are not addresses here; the tools check the
  // address they connect to, which always comes as a socket address.
  for (const char* odd : {"127.1", "0x7f000001", "2130706433", "017700000001", "[::1]",
                          "fe80::1%eth0", "", "localhost", "1.2.3.4.5", "256.0.0.1"}) {
    EXPECT_FALSE(ip_address::parse(odd)) << odd;
  }
  EXPECT_EQ(ip("::ffff:127.0.0.1").unmapped(), ip("127.0.0.1"));
  EXPECT_EQ(ip("2001:db8::1").to_string(), "2001:db8::1");
}

TEST(address_policy, reads_socket_addresses) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_addr.s_addr = htonl(0x0A000001);  // 10.0.0.1
  auto a = ip_address::from_sockaddr(reinterpret_cast<sockaddr*>(&v4), sizeof v4);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->to_string(), "10.0.0.1");
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_addr = in6addr_loopback;
  auto b = ip_address::from_sockaddr(reinterpret_cast<sockaddr*>(&v6), sizeof v6);
  ASSERT_TRUE(b);
  EXPECT_EQ(classify(*b), address_class::loopback);
  EXPECT_FALSE(ip_address::from_sockaddr(reinterpret_cast<sockaddr*>(&v6), 8));  // short
  sockaddr unix_like{};
  unix_like.sa_family = AF_UNIX;
  EXPECT_FALSE(ip_address::from_sockaddr(&unix_like, sizeof unix_like));
}

TEST(address_policy, classifies_ipv4_ranges) {
  EXPECT_EQ(class_of("127.0.0.1"), address_class::loopback);
  EXPECT_EQ(class_of("127.255.255.254"), address_class::loopback);
  EXPECT_EQ(class_of("10.0.0.0"), address_class::private_network);
  EXPECT_EQ(class_of("10.255.255.255"), address_class::private_network);
  EXPECT_EQ(class_of("172.16.0.1"), address_class::private_network);
  EXPECT_EQ(class_of("172.31.255.255"), address_class::private_network);
  EXPECT_EQ(class_of("172.32.0.1"), address_class::public_unicast);
  EXPECT_EQ(class_of("172.15.255.255"), address_class::public_unicast);
  EXPECT_EQ(class_of("192.168.1.1"), address_class::private_network);
  EXPECT_EQ(class_of("169.254.1.1"), address_class::link_local);
  EXPECT_EQ(class_of("169.254.169.254"), address_class::cloud_metadata);
  EXPECT_EQ(class_of("169.254.170.2"), address_class::cloud_metadata);
  EXPECT_EQ(class_of("100.64.0.1"), address_class::shared);
  EXPECT_EQ(class_of("100.127.255.255"), address_class::shared);
  EXPECT_EQ(class_of("100.128.0.1"), address_class::public_unicast);
  EXPECT_EQ(class_of("224.0.0.1"), address_class::multicast);
  EXPECT_EQ(class_of("239.255.255.250"), address_class::multicast);
  EXPECT_EQ(class_of("0.0.0.0"), address_class::unspecified);
  EXPECT_EQ(class_of("0.1.2.3"), address_class::unspecified);
  EXPECT_EQ(class_of("255.255.255.255"), address_class::broadcast);
  EXPECT_EQ(class_of("240.0.0.1"), address_class::reserved);
  EXPECT_EQ(class_of("198.18.0.1"), address_class::reserved);
  EXPECT_EQ(class_of("192.0.0.8"), address_class::reserved);
  EXPECT_EQ(class_of("192.0.2.1"), address_class::documentation);
  EXPECT_EQ(class_of("198.51.100.7"), address_class::documentation);
  EXPECT_EQ(class_of("203.0.113.9"), address_class::documentation);
  EXPECT_EQ(class_of("93.184.216.34"), address_class::public_unicast);
  EXPECT_EQ(class_of("8.8.8.8"), address_class::public_unicast);
  EXPECT_EQ(class_of("1.1.1.1"), address_class::public_unicast);
}

TEST(address_policy, classifies_ipv6_ranges) {
  EXPECT_EQ(class_of("::1"), address_class::loopback);
  EXPECT_EQ(class_of("::"), address_class::unspecified);
  EXPECT_EQ(class_of("fe80::1"), address_class::link_local);
  EXPECT_EQ(class_of("febf::1"), address_class::link_local);
  EXPECT_EQ(class_of("fc00::1"), address_class::private_network);
  EXPECT_EQ(class_of("fd12:3456::1"), address_class::private_network);
  EXPECT_EQ(class_of("fd00:ec2::254"), address_class::cloud_metadata);
  EXPECT_EQ(class_of("ff02::1"), address_class::multicast);
  EXPECT_EQ(class_of("2001:db8::1"), address_class::documentation);
  EXPECT_EQ(class_of("100::1"), address_class::reserved);
  EXPECT_EQ(class_of("::2"), address_class::reserved);      // deprecated IPv4-compatible
  EXPECT_EQ(class_of("4000::1"), address_class::reserved);  // outside 2000::/3
  EXPECT_EQ(class_of("2606:4700::1"), address_class::public_unicast);
  EXPECT_EQ(class_of("2a00:1450:4001::1"), address_class::public_unicast);
}

TEST(address_policy, judges_embedded_ipv4_by_its_ipv4_address) {
  EXPECT_EQ(class_of("::ffff:127.0.0.1"), address_class::loopback);
  EXPECT_EQ(class_of("::ffff:10.0.0.1"), address_class::private_network);
  EXPECT_EQ(class_of("::ffff:169.254.169.254"), address_class::cloud_metadata);
  EXPECT_EQ(class_of("::ffff:7f00:1"), address_class::loopback);  // the same, in hex
  EXPECT_EQ(class_of("::ffff:93.184.216.34"), address_class::public_unicast);
  EXPECT_EQ(class_of("64:ff9b::7f00:1"), address_class::loopback);  // NAT64 of 127.0.0.1
  EXPECT_EQ(class_of("64:ff9b::10.1.2.3"), address_class::private_network);
  EXPECT_EQ(class_of("64:ff9b::93.184.216.34"), address_class::public_unicast);
  EXPECT_EQ(class_of("64:ff9b:1::1"), address_class::private_network);  // local-use NAT64
  EXPECT_EQ(class_of("2002:7f00:1::"), address_class::loopback);        // 6to4 of 127.0.0.1
  EXPECT_EQ(class_of("2002:a9fe:a9fe::1"), address_class::cloud_metadata);
  EXPECT_EQ(class_of("2002:5db8:d822::1"), address_class::public_unicast);
  // Teredo: the client address is stored inverted (~127.0.0.1 = 80ff:fffe).
  EXPECT_EQ(class_of("2001:0:5db8:d822::80ff:fffe"), address_class::loopback);
}

TEST(address_policy, refuses_with_a_message_that_says_how_to_allow) {
  const address_policy policy;
  auto r = policy.check("127.0.0.1", ip("127.0.0.1"), 80);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_FALSE(r.error().retryable);
  EXPECT_EQ(r.error().message,
            "refused: 127.0.0.1 is a loopback address (add it to tools.http_allow to permit it)");
  auto named = policy.check("Metadata.Google.Internal", ip("169.254.169.254"), 80);
  ASSERT_FALSE(named);
  EXPECT_EQ(named.error().message,
            "refused: metadata.google.internal resolved to 169.254.169.254, a cloud metadata "
            "address (add metadata.google.internal or 169.254.169.254 to tools.http_allow to "
            "permit it)");
  for (const char* refused :
       {"10.0.0.1", "172.16.0.1", "192.168.0.1", "169.254.169.254", "100.64.0.1", "224.0.0.1",
        "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::7f00:1",
        "0.0.0.0", "::", "255.255.255.255", "240.0.0.1"}) {
    EXPECT_FALSE(policy.check("example.com", ip(refused), 443)) << refused;
  }
  EXPECT_TRUE(policy.check("example.com", ip("93.184.216.34"), 443));
  EXPECT_TRUE(policy.check("example.com", ip("2606:4700::1"), 443));
}

TEST(address_policy, allow_list_by_address_range_host_and_port) {
  auto policy =
      address_policy::compile({"10.1.2.3", "192.168.0.0/16", "Intranet.Example.", "127.0.0.1:8080",
                               "[::1]:9090", "fd00::/8", "localhost:7000", "172.16.0.0/12:443"});
  ASSERT_TRUE(policy) << policy.error().message;
  EXPECT_TRUE(policy->check("h", ip("10.1.2.3"), 80));
  EXPECT_FALSE(policy->check("h", ip("10.1.2.4"), 80));
  EXPECT_TRUE(policy->check("h", ip("::ffff:10.1.2.3"), 80));  // the same host over IPv6
  EXPECT_TRUE(policy->check("h", ip("192.168.44.1"), 80));
  EXPECT_TRUE(policy->check("h", ip("192.169.0.1"), 80));  // public anyway
  EXPECT_TRUE(policy->check("intranet.example", ip("10.9.9.9"), 80));
  EXPECT_TRUE(policy->check("INTRANET.example.", ip("fe80::1"), 80));
  EXPECT_FALSE(policy->check("other.example", ip("10.9.9.9"), 80));
  EXPECT_TRUE(policy->check("127.0.0.1", ip("127.0.0.1"), 8080));
  EXPECT_FALSE(policy->check("127.0.0.1", ip("127.0.0.1"), 8081));
  EXPECT_TRUE(policy->check("::1", ip("::1"), 9090));
  EXPECT_FALSE(policy->check("::1", ip("::1"), 9091));
  EXPECT_TRUE(policy->check("h", ip("fd12::1"), 1));
  EXPECT_FALSE(policy->check("h", ip("fc12::1"), 1));
  EXPECT_TRUE(policy->check("localhost", ip("127.0.0.1"), 7000));
  EXPECT_TRUE(policy->check("localhost", ip("::1"), 7000));
  EXPECT_FALSE(policy->check("localhost", ip("127.0.0.1"), 7001));
  EXPECT_TRUE(policy->check("h", ip("172.20.0.1"), 443));
  EXPECT_FALSE(policy->check("h", ip("172.20.0.1"), 80));
  // An allowed address does not open others of the same class.
  EXPECT_FALSE(policy->check("h", ip("169.254.169.254"), 80));
}

TEST(address_policy, allow_list_entries_are_checked) {
  for (const char* bad :
       {"", "  ", "10.0.0.0/33", "fd00::/129", "10.0.0.1:0", "10.0.0.1:65536", "host:port", "[::1",
        "[::1]x", "a b", "10.0.0.0/", "nothost/8", "http://x"}) {
    auto r = address_policy::compile({bad});
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, errc::invalid_argument);
    EXPECT_NE(r.error().message.find("tools.http_allow"), std::string::npos);
  }
  EXPECT_TRUE(address_policy::compile({}));
  EXPECT_TRUE(address_policy::compile({" 10.0.0.1 ", "::ffff:10.0.0.0/104", "0.0.0.0/0"}));
}

}  // namespace
}  // namespace grok::tools
