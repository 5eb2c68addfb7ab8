// The report page: escaping of untrusted run strings, no remote resources, the ids each tab
// promises for suitable runs, tabs left out without data, calibration numbers, axis ticks,
// invalid UTF-8 and a 77-label confusion matrix.
#include "ptune/report/report.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ptune/util/utf8.h"
#include "report/html.h"
#include "report/pages.h"
#include "report/svg.h"

namespace ptune::report {
namespace {

using nlohmann::json;

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

json example(int i, const std::string& text, const std::string& gold, const std::string& pred,
             double prob) {
  return {{"index", i},
          {"source", "data/t.csv:" + std::to_string(i + 2)},
          {"input", {{"text", text}, {"label", gold}}},
          {"gold", gold},
          {"prediction", pred},
          {"correct", gold == pred},
          {"label_scores",
           {{pred, {{"score", -0.1}, {"prob", prob}}},
            {pred == "pos" ? "neg" : "pos", {{"score", -2.0}, {"prob", 1 - prob}}}}}};
}

runs::Run eval_run(int64_t id, const std::string& prompt) {
  runs::Run r;
  r.id = id;
  r.command = "eval";
  r.task = "sentiment";
  r.model = "SmolLM2-135M-Instruct.Q4_1.gguf";
  r.status = runs::Status::Finished;
  r.started_at = "2026-12-01T14:05:09Z";
  r.finished_at = "2026-12-01T14:06:10Z";
  r.settings = {{"prompt", prompt}, {"split", "test"}};
  r.metrics = {{"accuracy", {{"value", 0.75}, {"low", 0.5}, {"high", 0.9}}},
               {"confusion_matrix", {{"labels", {"neg", "pos"}}, {"counts", {{1, 1}, {0, 2}}}}}};
  r.examples = {example(0, "great film", "pos", "pos", 0.9),
                example(1, "awful", "neg", "pos", 0.65), example(2, "fine", "pos", "pos", 0.85),
                example(3, "bad plot", "neg", "neg", 0.75)};
  return r;
}

runs::Run tune_run(int64_t id) {
  runs::Run r;
  r.id = id;
  r.command = "tune";
  r.task = "sentiment";
  r.status = runs::Status::Interrupted;
  for (int s = 1; s <= 30; ++s) {
    json step = {{"step", s}, {"epoch", 0}, {"loss", 2.0 / s}, {"lr", 0.01}, {"grad_norm", 1.0}};
    if (s % 10 == 0) step["eval"] = 0.5 + s / 100.0;
    r.steps.push_back(step);
  }
  return r;
}

runs::Run search_run(int64_t id) {
  runs::Run r;
  r.id = id;
  r.command = "search";
  r.status = runs::Status::Finished;
  for (int s = 0; s < 5; ++s) {
    r.steps.push_back({{"step", s}, {"budget", 40 * s}, {"best", 0.6 + 0.05 * s}});
  }
  return r;
}

std::vector<runs::Run> all_kinds() {
  return {eval_run(1, "Classify the review: {text}\nAnswer:"),
          eval_run(2, "Is this review positive or negative? {text}\nAnswer:"), tune_run(3),
          search_run(4)};
}

bool has_id(const std::string& html, const std::string& id) {
  return html.find("id=\"" + id + "\"") != std::string::npos;
}

TEST(ReportPage, NoRunsThrows) {
  EXPECT_THROW(render_html({}), std::invalid_argument);
}

TEST(ReportPage, EveryTabsIdsPresentForSuitableRuns) {
  const std::string html = render_html(all_kinds());
  for (const char* id :
       {"metric-table",       "run-table",       "learning-curves", "loss-chart",
        "eval-chart",         "confusion-1",     "confusion-2",     "reliability-1",
        "reliability-2",      "search-progress", "example-matrix",  "prompt-diff",
        "example-filter",     "example-search",  "example-count",   "example-gold",
        "report-errors",      "report-data",     "tab-overview",    "tab-training",
        "tab-classification", "tab-search",      "tab-examples"}) {
    EXPECT_TRUE(has_id(html, id)) << id;
  }
  EXPECT_NE(html.find("class=\"badge interrupted\""), std::string::npos);
  EXPECT_NE(html.find("1 min 01 s"), std::string::npos);  // wall time from the timestamps
}

TEST(ReportPage, TabsWithoutDataAreHiddenButExplain) {
  runs::Run bench;
  bench.id = 7;
  bench.command = "bench:matmul";
  bench.metrics = {{"speedup", {{"value", 1.8}, {"unit", "x"}}}};
  const std::string html = render_html({bench});
  EXPECT_TRUE(has_id(html, "tab-overview"));
  EXPECT_TRUE(has_id(html, "metric-table"));
  for (const char* tab : {"training", "classification", "search", "examples"}) {
    EXPECT_FALSE(has_id(html, std::string("tab-") + tab)) << tab;
    EXPECT_TRUE(has_id(html, std::string("page-") + tab)) << tab;  // a direct #link still works
  }
  EXPECT_EQ(count(html, "nothing to show: "), 4u);
  // A tune run has no search tab; an eval run without steps has no training tab.
  const std::string eval_only = render_html({eval_run(1, "p")});
  EXPECT_FALSE(has_id(eval_only, "tab-training"));
  EXPECT_FALSE(has_id(eval_only, "tab-search"));
  EXPECT_TRUE(has_id(eval_only, "tab-examples"));
  EXPECT_FALSE(has_id(render_html({tune_run(3)}), "tab-search"));
}

TEST(ReportPage, UntrustedStringsAreEscaped) {
  const std::string evil = "<script>alert('x')</script>";
  runs::Run r = eval_run(1, "</script><script>alert(1)</script>");
  r.task = "<img src=x onerror=alert(1)>";
  r.error = "\"><script>alert(2)</script>";
  r.examples[0]["input"]["text"] = evil;
  r.examples[1]["prediction"] = evil;
  r.examples[2]["gold"] = "\" onmouseover=\"alert(3)";
  r.metrics["confusion_matrix"]["labels"] = {evil, "pos"};
  r.metrics[evil] = {{"value", 1}, {"low", 0}, {"high", 1}};
  const std::string html = render_html({r, eval_run(2, "other")});
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("\" onmouseover=\""), std::string::npos);
  EXPECT_EQ(count(html, "<script"), 2u);  // the JSON block and the page's script
  EXPECT_EQ(count(html, "</script>"), 2u);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), std::string::npos);
  // The JSON block parses back to the original prompt.
  const std::string open = "<script type=\"application/json\" id=\"report-data\">";
  const size_t begin = html.find(open) + open.size();
  const std::string block = html.substr(begin, html.find("</script>", begin) - begin);
  EXPECT_EQ(block.find('<'), std::string::npos);
  const json data = json::parse(block);
  EXPECT_EQ(data["prompts"][0]["prompt"], "</script><script>alert(1)</script>");
}

TEST(ReportPage, ScriptJsonEscapesSeparatorsAndMarkup) {
  const std::string s = detail::script_json({{"k",
                                              "a\xE2\x80\xA8"
                                              "b\xE2\x80\xA9<>&"}});
  EXPECT_EQ(s, "{\"k\":\"a\\u2028b\\u2029\\u003c\\u003e\\u0026\"}");
  EXPECT_EQ(json::parse(s)["k"],
            "a\xE2\x80\xA8"
            "b\xE2\x80\xA9<>&");
}

TEST(ReportPage, FetchesNothingRemote) {
  const std::string html = render_html(all_kinds());
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  for (size_t at = html.find("href=\""); at != std::string::npos;
       at = html.find("href=\"", at + 1)) {
    EXPECT_EQ(html[at + 6], '#') << html.substr(at, 40);  // only in-page tab links
  }
}

TEST(ReportPage, InvalidUtf8DoesNotThrowAndIsRepaired) {
  runs::Run r = eval_run(1, "bad \xff\xfe prompt");
  r.task = "t\xc3";
  r.examples[0]["input"]["text"] = "broken \x80 text";
  r.examples[1]["prediction"] = "\xed\xa0\x80";  // a surrogate
  r.metrics["confusion_matrix"]["labels"] = {"n\xff", "pos"};
  std::string html;
  ASSERT_NO_THROW(html = render_html({r}));
  EXPECT_EQ(util::find_invalid_utf8(html), std::string_view::npos);
  EXPECT_NE(html.find("broken \xEF\xBF\xBD text"), std::string::npos);
}

TEST(ReportPage, ManyLabelConfusionRenders) {
  runs::Run r;
  r.id = 9;
  r.command = "eval";
  r.task = "banking77";
  const size_t n = 77;
  json labels = json::array(), counts = json::array();
  for (size_t i = 0; i < n; ++i) {
    labels.push_back("label_" + std::to_string(i) + "_with_a_rather_long_descriptive_name");
    json row = json::array();
    for (size_t j = 0; j < n; ++j) row.push_back(i == j ? 20 : (i + j) % 11 == 0 ? 1 : 0);
    counts.push_back(row);
  }
  r.metrics["confusion_matrix"] = {{"labels", labels}, {"counts", counts}};
  const std::string html = render_html({r});
  ASSERT_TRUE(has_id(html, "confusion-9"));
  const size_t begin = html.find("id=\"confusion-9\"");
  const std::string svg = html.substr(begin, html.find("</svg>", begin) - begin);
  size_t nonzero = 0;
  for (const json& row : counts) {
    for (const json& c : row) nonzero += c.get<int>() > 0;
  }
  EXPECT_EQ(count(svg, "<title>gold "), nonzero);  // one cell with a tooltip per count
  EXPECT_EQ(count(svg, "<rect"), nonzero + 2);     // + the zero pattern and its area
  EXPECT_NE(svg.find("<title>gold label_3_with_a_rather_long_descriptive_name, predicted "
                     "label_3_with_a_rather_long_descriptive_name: 20 ("),
            std::string::npos);
  EXPECT_NE(svg.find("rotate(-45)"), std::string::npos);
  // Label text is cut on the axis; the full label stays in the tooltip.
  EXPECT_NE(svg.find("label_76_with\xE2\x80\xA6"), std::string::npos);
  EXPECT_NE(svg.find("<title>label_76_with_a_rather_long_descriptive_name</title>"),
            std::string::npos);
  EXPECT_TRUE(has_id(html, "tab-classification"));
}

TEST(ReportPage, MalformedConfusionIsExplainedNotThrown) {
  runs::Run r = eval_run(1, "p");
  r.metrics["confusion_matrix"] = {{"labels", {"a", "b"}}, {"counts", {{1, 2}}}};
  std::string html;
  ASSERT_NO_THROW(html = render_html({r}));
  EXPECT_FALSE(has_id(html, "confusion-1"));
  EXPECT_NE(html.find("2 labels but 1 rows"), std::string::npos);
}

TEST(ReportPage, ExampleMatrixIsCappedAndFlagsRows) {
  ReportOptions options;
  options.max_examples = 3;
  const std::string html = render_html({eval_run(1, "a"), eval_run(2, "b")}, options);
  EXPECT_NE(html.find("Showing 3 of 4 examples (the first 3 of each task)."), std::string::npos);
  EXPECT_EQ(count(html, "<tr data-task="), 3u);
  // "awful": wrong in both runs, the same prediction.
  EXPECT_NE(html.find("<tr data-task=\"0\" data-fail=\"1\" data-dis=\"0\" data-gold=\"neg\">"),
            std::string::npos);
  EXPECT_NE(html.find("3 examples</span>"), std::string::npos);
  EXPECT_FALSE(has_id(html, "example-task"));  // one task: no task select
}

TEST(ReportPage, ExamplesOfDifferentTasksDoNotShareRows) {
  runs::Run other = eval_run(2, "b");
  other.task = "reviews";
  const std::string html = render_html({eval_run(1, "a"), other});
  EXPECT_TRUE(has_id(html, "example-task"));
  EXPECT_EQ(count(html, "<tr data-task=\"0\""), 4u);
  EXPECT_EQ(count(html, "<tr data-task=\"1\""), 4u);
  EXPECT_EQ(count(html, "<td data-task=\"1\" class=\"cell absent\">"), 4u);
}

TEST(ReportCalibration, EceOnKnownData) {
  std::vector<double> conf(10, 0.9);
  std::vector<bool> right = {true, true, true, true, true, true, true, true, true, false};
  EXPECT_NEAR(reliability(conf, right).ece, 0.0, 1e-12);

  std::vector<double> sure(10, 1.0);
  std::vector<bool> half = {true, false, true, false, true, false, true, false, true, false};
  const Reliability r = reliability(sure, half);
  EXPECT_NEAR(r.ece, 0.5, 1e-12);
  EXPECT_EQ(r.bins.size(), 10u);
  EXPECT_EQ(r.bins[9].count, 10u);  // confidence 1 falls in the last bin
  EXPECT_DOUBLE_EQ(r.bins[9].accuracy, 0.5);

  // Two bins, weighted by their counts: 3 at 0.25 (all wrong), 1 at 0.75 (right).
  const Reliability two = reliability({0.25, 0.25, 0.25, 0.75}, {false, false, false, true}, 2);
  EXPECT_NEAR(two.ece, 0.75 * 0.25 + 0.25 * 0.25, 1e-12);
  EXPECT_EQ(reliability({}, {}).ece, 0.0);
  EXPECT_THROW(reliability({0.5}, {}), std::invalid_argument);
  EXPECT_THROW(reliability({0.5}, {true}, 0), std::invalid_argument);
}

TEST(ReportCalibration, FromExampleRecords) {
  const runs::Run r = eval_run(1, "p");
  std::vector<json> examples = r.examples;
  examples.push_back({{"index", 9}, {"prediction", "x"}});  // no scores: skipped
  const Reliability rel = reliability_of_examples(examples);
  EXPECT_EQ(rel.total, 4u);
  EXPECT_EQ(rel.bins[9].count, 1u);  // 0.9
  EXPECT_EQ(rel.bins[6].count, 1u);  // 0.65, wrong
  EXPECT_DOUBLE_EQ(rel.bins[6].accuracy, 0.0);
  EXPECT_NEAR(rel.ece, (0.1 + 0.65 + 0.15 + 0.25) / 4, 1e-12);
}

TEST(ReportSvg, NiceNumberTicks) {
  detail::Axis a = detail::nice_axis(0, 1, 6);
  EXPECT_DOUBLE_EQ(a.step, 0.2);
  ASSERT_EQ(a.ticks.size(), 6u);
  EXPECT_DOUBLE_EQ(a.ticks[3], 0.6000000000000001);
  a = detail::nice_axis(0.13, 0.87, 5);
  EXPECT_DOUBLE_EQ(a.lo, 0.0);
  EXPECT_DOUBLE_EQ(a.hi, 1.0);
  a = detail::nice_axis(3, 97, 5);
  EXPECT_DOUBLE_EQ(a.step, 20);
  EXPECT_DOUBLE_EQ(a.lo, 0);
  EXPECT_DOUBLE_EQ(a.hi, 100);
  a = detail::nice_axis(1, 30, 8);
  EXPECT_DOUBLE_EQ(a.step, 5);
  a = detail::nice_axis(5, 5);
  EXPECT_LT(a.lo, 5);
  EXPECT_GT(a.hi, 5);
  a = detail::nice_axis(-0.3, 0.3, 5);
  EXPECT_EQ(detail::format_tick(a.ticks[1], a.step), "-0.2");
  EXPECT_DOUBLE_EQ(detail::nice_number(0.43, true), 0.5);
  EXPECT_DOUBLE_EQ(detail::nice_number(0.73, true), 1);
  EXPECT_DOUBLE_EQ(detail::nice_number(7.3, false), 10);
  EXPECT_DOUBLE_EQ(detail::nice_number(180, true), 200);
  EXPECT_EQ(detail::format_tick(0.2, 0.2), "0.2");
  EXPECT_EQ(detail::format_tick(0.05, 0.05), "0.05");
  EXPECT_EQ(detail::format_tick(40, 20), "40");
  EXPECT_EQ(detail::format_tick(2000, 1000), "2k");
}

TEST(ReportHtml, EscapeTruncateAndFormat) {
  EXPECT_EQ(detail::escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(detail::truncate("h\xC3\xA9llo", 3), "h\xC3\xA9\xE2\x80\xA6");
  EXPECT_EQ(detail::truncate("abc", 3), "abc");
  EXPECT_EQ(detail::format_number(3), "3");
  EXPECT_EQ(detail::format_number(0.83125), "0.8313");
  EXPECT_EQ(detail::format_duration(42.14), "42.1 s");
  EXPECT_EQ(detail::format_duration(192), "3 min 12 s");
  EXPECT_EQ(detail::format_duration(7500), "2 h 05 min");
  double s = 0;
  EXPECT_TRUE(detail::seconds_between("2026-12-31T23:59:30Z", "2027-01-01T00:00:40Z", s));
  EXPECT_DOUBLE_EQ(s, 70);
  EXPECT_FALSE(detail::seconds_between("2026-12-01T14:05:09Z", "", s));
}

}  // namespace
}  // namespace ptune::report
