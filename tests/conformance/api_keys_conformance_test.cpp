// API keys beyond the basics of runs_conformance_test.cpp, on every backend: refusals that
// leave the transaction usable, every field round-tripping, the listing order, and lookups
// with bytes no key can hold.
#include <gtest/gtest.h>

#include "conformance/store_backends.h"
#include "core/ids.h"

namespace grok::testing {
namespace {

using namespace std::chrono_literals;

class api_keys_conformance : public store_conformance {
 protected:
  store::api_key_record key(const std::string& name, char hash_fill) {
    store::api_key_record k;
    k.id = new_id("key", clock_.now());
    k.name = name;
    k.scope = "runs";
    k.prefix = "grok_" + name;
    k.hash = std::string(64, hash_fill);
    k.created_at = clock_.now();
    return k;
  }
};

TEST_P(api_keys_conformance, a_refused_key_leaves_the_transaction_usable) {
  auto first = key("first", 'a');
  ASSERT_TRUE(st().transact([&](store::transaction& tx) { return tx.insert_api_key(first); }));
  auto second = key("second", 'b');
  auto done = st().transact([&](store::transaction& tx) -> result<void> {
    auto same_id = second;
    same_id.id = first.id;
    auto r = tx.insert_api_key(same_id);
    EXPECT_FALSE(r);
    if (!r) {
      EXPECT_EQ(r.error().code, errc::already_exists);
    }
    auto same_hash = second;
    same_hash.hash = first.hash;
    r = tx.insert_api_key(same_hash);
    EXPECT_FALSE(r);
    if (!r) {
      EXPECT_EQ(r.error().code, errc::already_exists);
    }
    r = tx.revoke_api_key("key_missing");
    EXPECT_FALSE(r);
    if (!r) {
      EXPECT_EQ(r.error().code, errc::not_found);
    }
    auto bad_scope = second;
    bad_scope.scope = "root";
    r = tx.insert_api_key(bad_scope);
    EXPECT_FALSE(r);
    if (!r) {
      EXPECT_EQ(r.error().code, errc::invalid_argument);
    }
    return tx.insert_api_key(second);
  });
  ASSERT_TRUE(done) << describe(done.error());
  auto all = st().list_api_keys();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2U);
  EXPECT_EQ((*all)[1].id, second.id);
}

TEST_P(api_keys_conformance, every_field_round_trips) {
  auto k = key("full", 'c');
  k.scope = "admin";
  k.last_used_at = clock_.now() + 5s;
  k.revoked_at = clock_.now() + 9s;
  ASSERT_TRUE(st().transact([&](store::transaction& tx) { return tx.insert_api_key(k); }));
  auto found = st().find_api_key(k.hash);
  ASSERT_TRUE(found && *found);
  const auto& f = **found;
  EXPECT_EQ(f.id, k.id);
  EXPECT_EQ(f.name, k.name);
  EXPECT_EQ(f.scope, "admin");
  EXPECT_EQ(f.prefix, k.prefix);
  EXPECT_EQ(f.hash, k.hash);
  EXPECT_EQ(f.created_at, k.created_at);
  EXPECT_EQ(f.last_used_at, k.last_used_at);
  EXPECT_EQ(f.revoked_at, k.revoked_at);
  // Revoking a key created revoked keeps its first revocation time.
  clock_.advance(1min);
  ASSERT_TRUE(st().transact([&](store::transaction& tx) { return tx.revoke_api_key(k.id); }));
  EXPECT_EQ((*st().find_api_key(k.hash))->revoked_at, k.revoked_at);
}

TEST_P(api_keys_conformance, keys_are_listed_oldest_first_revoked_ones_included) {
  std::vector<store::api_key_record> keys;
  for (char fill : {'d', 'e', 'f'}) {
    keys.push_back(key(std::string("k") + fill, fill));
    clock_.advance(1s);
  }
  // Inserted newest first; listed oldest first.
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) {
    ASSERT_TRUE(st().transact([&](store::transaction& tx) { return tx.insert_api_key(*it); }));
  }
  ASSERT_TRUE(st().transact([&](store::transaction& tx) { return tx.revoke_api_key(keys[1].id); }));
  auto all = st().list_api_keys();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3U);
  for (std::size_t i = 0; i < keys.size(); ++i) EXPECT_EQ((*all)[i].id, keys[i].id) << i;
  EXPECT_FALSE((*all)[0].revoked_at);
  EXPECT_EQ((*all)[1].revoked_at, clock_.now());
  EXPECT_FALSE((*all)[2].revoked_at);
}

TEST_P(api_keys_conformance, lookups_with_bytes_no_key_holds_find_nothing) {
  ASSERT_TRUE(
      st().transact([&](store::transaction& tx) { return tx.insert_api_key(key("g", 'g')); }));
  for (const std::string& bad :
       {std::string("\xFF\xFE"), std::string("nul\0hash", 8), std::string("\xC0\x80"),
        std::string(), std::string(100'000, 'g')}) {
    auto found = st().find_api_key(bad);
    ASSERT_TRUE(found) << describe(found.error());
    EXPECT_FALSE(*found);
    auto revoked = st().transact([&](store::transaction& tx) { return tx.revoke_api_key(bad); });
    ASSERT_FALSE(revoked);
    EXPECT_EQ(revoked.error().code, errc::not_found) << describe(revoked.error());
  }
}

INSTANTIATE_TEST_SUITE_P(backends, api_keys_conformance, ::testing::ValuesIn(all_store_backends()),
                         backend_name);

}  // namespace
}  // namespace grok::testing
