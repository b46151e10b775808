// The metrics registry: the text exposition format (HELP and TYPE lines, escaping,
// histogram buckets, sorted families), exact counts under concurrent updates, collectors,
// bounded labels, and promtool's verdict on a registry with every type.
#include "obs/metrics.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>
#include <thread>
#include <vector>

#include "obs/process_metrics.h"
#include "tests_support/prometheus_text.h"

namespace grok::obs {
namespace {

using testing::parse_samples;

std::size_t find_or_fail(const std::string& text, const std::string& needle) {
  const auto at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << "missing: " << needle << "\nin:\n" << text;
  return at;
}

TEST(metrics_registry, renders_help_type_and_samples_with_escaped_label_values) {
  registry r;
  auto& c = r.counter("demo_requests_total", "Requests with a \\ backslash\nand a newline.",
                      {"path", "code"});
  c.inc({"a\\b", "200"});
  c.inc({"say \"hi\"", "200"}, 2);
  c.inc({"two\nlines", "500"}, 0.5);
  c.inc({"a\\b", "200"}, -3);  // ignored: counters never go down
  const auto text = r.render();
  find_or_fail(text,
               "# HELP demo_requests_total Requests with a \\\\ backslash\\nand a newline.\n"
               "# TYPE demo_requests_total counter\n");
  find_or_fail(text, "demo_requests_total{path=\"a\\\\b\",code=\"200\"} 1\n");
  find_or_fail(text, "demo_requests_total{path=\"say \\\"hi\\\"\",code=\"200\"} 2\n");
  find_or_fail(text, "demo_requests_total{path=\"two\\nlines\",code=\"500\"} 0.5\n");
  EXPECT_EQ(c.value({"a\\b", "200"}), 1);
  EXPECT_EQ(c.value({"never", "seen"}), 0);
}

TEST(metrics_registry, families_are_sorted_by_name_and_registered_once) {
  registry r;
  r.gauge("zeta", "Last.").set({}, 1);
  r.counter("alpha_total", "First.").inc();
  r.histogram("mid_seconds", "Middle.", {}, {1});
  auto& again = r.counter("alpha_total", "First.");
  again.inc();
  const auto text = r.render();
  const auto a = find_or_fail(text, "# HELP alpha_total");
  const auto m = find_or_fail(text, "# HELP mid_seconds");
  const auto z = find_or_fail(text, "# HELP zeta");
  EXPECT_LT(a, m);
  EXPECT_LT(m, z);
  EXPECT_EQ(parse_samples(text).at("alpha_total"), 2);
  // Exactly one HELP per family.
  EXPECT_EQ(text.find("# HELP alpha_total", a + 1), std::string::npos);
}

TEST(metrics_registry, a_name_reused_with_another_type_or_labels_or_an_invalid_name_throws) {
  registry r;
  r.counter("used_total", "x", {"a"});
  EXPECT_THROW(r.gauge("used_total", "x", {"a"}), std::logic_error);
  EXPECT_THROW(r.counter("used_total", "x", {"b"}), std::logic_error);
  EXPECT_THROW(r.counter("9starts_with_digit", "x"), std::logic_error);
  EXPECT_THROW(r.counter("has-dash_total", "x"), std::logic_error);
  EXPECT_THROW(r.gauge("fine", "x", {"bad:label"}), std::logic_error);
  EXPECT_THROW(r.gauge("fine", "x", {"__reserved"}), std::logic_error);
  EXPECT_THROW(r.histogram("fine_seconds", "x", {"le"}), std::logic_error);
  EXPECT_NO_THROW(r.gauge("fine", "x", {"le"}));  // only histograms reserve "le"
}

TEST(metrics_registry, histogram_buckets_are_cumulative_and_end_with_inf_sum_and_count) {
  registry r;
  // Unsorted bounds with a duplicate and +Inf: cleaned to 0.1, 1, 5.
  auto& h = r.histogram("work_seconds", "Work.", {"kind"},
                        {5, 0.1, 1, 1, std::numeric_limits<double>::infinity()});
  for (double v : {0.05, 0.1, 0.7, 3.0, 9.0, 100.0}) h.observe({"x"}, v);
  h.observe({"x"}, std::numeric_limits<double>::quiet_NaN());  // ignored
  const auto text = r.render();
  find_or_fail(text, "# TYPE work_seconds histogram\n");
  find_or_fail(text,
               "work_seconds_bucket{kind=\"x\",le=\"0.1\"} 2\n"
               "work_seconds_bucket{kind=\"x\",le=\"1\"} 3\n"
               "work_seconds_bucket{kind=\"x\",le=\"5\"} 4\n"
               "work_seconds_bucket{kind=\"x\",le=\"+Inf\"} 6\n"
               "work_seconds_sum{kind=\"x\"} ");
  find_or_fail(text, "work_seconds_count{kind=\"x\"} 6\n");
  EXPECT_NEAR(parse_samples(text).at("work_seconds_sum{kind=\"x\"}"), 112.85, 1e-9);
  const auto snap = h.get({"x"});
  EXPECT_EQ(snap.count, 6U);
  EXPECT_EQ(snap.cumulative, (std::vector<std::uint64_t>{2, 3, 4, 6}));
}

TEST(metrics_registry, unlabelled_counters_and_histograms_show_zero_before_their_first_update) {
  registry r;
  r.counter("quiet_total", "Nothing yet.");
  r.histogram("quiet_seconds", "Nothing yet.", {}, {1});
  r.gauge("unset", "No value yet.");
  r.counter("labelled_total", "Nothing yet.", {"a"});
  const auto s = parse_samples(r.render());
  EXPECT_EQ(s.at("quiet_total"), 0);
  EXPECT_EQ(s.at("quiet_seconds_bucket{le=\"1\"}"), 0);
  EXPECT_EQ(s.at("quiet_seconds_bucket{le=\"+Inf\"}"), 0);
  EXPECT_EQ(s.at("quiet_seconds_count"), 0);
  EXPECT_EQ(s.count("unset"), 0U) << "a gauge has no value until it is set";
  EXPECT_EQ(s.size(), 5U) << "a labelled family has no series until it is used";
}

TEST(metrics_registry, concurrent_updates_from_many_threads_are_all_counted) {
  registry r;
  auto& c = r.counter("hits_total", "Hits.", {"worker"});
  auto& h = r.histogram("hit_seconds", "Hit time.", {}, {0.5});
  auto& g = r.gauge("level", "Level.");
  constexpr int k_threads = 8;
  constexpr int k_per_thread = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      const std::string mine = t % 2 == 0 ? "even" : "odd";
      for (int i = 0; i < k_per_thread; ++i) {
        c.inc({mine});
        c.inc({"all"});
        h.observe({}, i % 2 == 0 ? 0.25 : 1.0);
        g.add({}, 1);
        if (i % 1000 == 0) (void)r.render();  // renders interleave with updates
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value({"all"}), k_threads * k_per_thread);
  EXPECT_EQ(c.value({"even"}), k_threads / 2 * k_per_thread);
  EXPECT_EQ(g.value(), k_threads * k_per_thread);
  const auto snap = h.get();
  EXPECT_EQ(snap.count, static_cast<std::uint64_t>(k_threads * k_per_thread));
  EXPECT_EQ(snap.cumulative[0], snap.count / 2);
  EXPECT_DOUBLE_EQ(snap.sum, k_threads * k_per_thread / 2 * 1.25);
}

TEST(metrics_registry, a_collector_runs_at_each_render_and_never_after_its_removal) {
  registry r;
  auto& g = r.gauge("collected", "Set by a collector.");
  int calls = 0;
  {
    const collector_registration reg(r, [&] { g.set({}, ++calls); });
    EXPECT_EQ(parse_samples(r.render()).at("collected"), 1);
    EXPECT_EQ(parse_samples(r.render()).at("collected"), 2);
  }
  (void)r.render();
  EXPECT_EQ(calls, 2);
  const auto handle = r.add_collector([&] { calls += 100; });
  r.remove_collector(handle);
  (void)r.render();
  EXPECT_EQ(calls, 2);
}

TEST(metrics_registry, a_gauge_can_be_cleared_and_a_counter_raised_but_never_lowered) {
  registry r;
  auto& g = r.gauge("depth", "Depth.", {"q"});
  g.set({"a"}, 3);
  g.clear();
  EXPECT_EQ(parse_samples(r.render()).count("depth{q=\"a\"}"), 0U);
  auto& c = r.counter("cpu_seconds_total", "CPU.");
  c.raise_to({}, 2.5);
  c.raise_to({}, 1.0);
  EXPECT_EQ(c.value(), 2.5);
}

TEST(label_guard, passes_a_small_set_of_well_formed_values_and_maps_the_rest_to_other) {
  label_guard guard(3);
  EXPECT_EQ(guard.admit("calculator"), "calculator");
  EXPECT_EQ(guard.admit("web.search-2"), "web.search-2");
  EXPECT_EQ(guard.admit("has space"), "other");
  EXPECT_EQ(guard.admit(""), "other");
  EXPECT_EQ(guard.admit(std::string(65, 'a')), "other");
  EXPECT_EQ(guard.admit("quote\""), "other");
  EXPECT_EQ(guard.admit("third"), "third");
  EXPECT_EQ(guard.admit("fourth"), "other") << "only 3 distinct values";
  EXPECT_EQ(guard.admit("calculator"), "calculator") << "known values still pass";
}

TEST(process_metrics, reads_this_process_figures) {
  auto f = read_process_figures();
  ASSERT_TRUE(f) << describe(f.error());
  EXPECT_GT(f->resident_memory_bytes, 1024 * 1024);
  EXPECT_GE(f->virtual_memory_bytes, f->resident_memory_bytes);
  EXPECT_GE(f->open_fds, 3);  // stdin, stdout, stderr at least
  EXPECT_GE(f->max_fds, f->open_fds);
  const auto now = static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
  EXPECT_LE(f->start_time_seconds, now + 1);
  EXPECT_GT(f->start_time_seconds, now - 3600) << "this test process started within the hour";
  EXPECT_GE(f->cpu_seconds, 0);

  registry r;
  update_process_metrics(r);
  const auto s = parse_samples(r.render());
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_virtual_memory_bytes", "process_start_time_seconds",
                           "process_open_fds", "process_max_fds"}) {
    EXPECT_EQ(s.count(name), 1U) << name;
  }
  EXPECT_GT(s.at("process_resident_memory_bytes"), 0);
}

TEST(metrics_promtool, accepts_a_registry_with_every_type) {
  if (!std::filesystem::exists(testing::k_promtool)) {
    GTEST_SKIP() << "promtool is missing: run scripts/bootstrap.sh";
  }
  registry r;
  r.counter("grok_demo_events_total", "Events, by kind.", {"kind"}).inc({"a \"quoted\"\nline\\"});
  r.counter("grok_demo_plain_total", "No labels.");
  r.gauge("grok_demo_level", "A level.", {"queue"}).set({"q1"}, -2.5);
  r.gauge("grok_demo_level", "A level.", {"queue"}).set({"q2"}, 1e21);
  auto& h = r.histogram("grok_demo_duration_seconds", "Durations.", {"tool"});
  h.observe({"calculator"}, 0.003);
  h.observe({"web_search"}, 400);
  r.histogram("grok_demo_empty_seconds", "No observations.", {});
  update_process_metrics(r);
  const auto text = r.render();
  const auto verdict = testing::promtool_check(text);
  EXPECT_EQ(verdict.exit_code, 0) << verdict.output << "\n" << text;
  EXPECT_EQ(verdict.output, "") << text;

  // And it can fail: a counter without _total is a lint problem it reports.
  const auto bad = testing::promtool_check("# HELP bad x\n# TYPE bad counter\nbad 1\n");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("_total"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace grok::obs
