// The examples tab: the example x run matrix (one row per example, matched across runs of a
// task by its "source", else its "index"; one column per run with examples; each cell the run's
// prediction, green when correct, red when wrong, grey when the run did not see the example)
// with the script's filters (failures, disagreements, gold label, task, free text), and above it
// the runs' prompts side by side with a word diff (drawn by the script from the JSON block; the
// panes hold the plain text until it runs). With several tasks the script shows one at a time.
#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include "report/pages.h"

namespace ptune::report::detail {

using nlohmann::json;

namespace {

struct Cell {
  bool present = false;
  std::string prediction;
  int correct = -1;  // -1 unknown, 0 wrong, 1 right
};

struct Row {
  std::string key, input, gold;
  size_t task = 0;  // index into the matrix's tasks: rows of different tasks never match
  std::vector<Cell> cells;
};

// Runs with examples (the columns) and the distinct task names among them.
struct Columns {
  std::vector<size_t> runs;  // indices into ctx.runs
  std::vector<size_t> task;  // per column, its index into `tasks`
  std::vector<std::string> tasks;
};

std::string example_key(const json& e, size_t position) {
  if (e.contains("source") && e["source"].is_string() &&
      !e["source"].get_ref<const std::string&>().empty()) {
    return e["source"].get<std::string>();
  }
  if (e.contains("index") && !e["index"].is_null()) return "#" + text_of(e["index"]);
  return "@" + std::to_string(position);
}

std::string input_text(const json& e) {
  if (!e.contains("input")) return "";
  const json& in = e["input"];
  if (!in.is_object()) return text_of(in);
  if (in.contains("text")) return text_of(in["text"]);
  for (const auto& [name, v] : in.items()) {
    if (name != "label") return text_of(v);
  }
  return in.empty() ? "" : text_of(in.begin().value());
}

std::string gold_text(const json& e) {
  if (e.contains("gold")) return text_of(e["gold"]);
  if (e.contains("references") && e["references"].is_array() && !e["references"].empty()) {
    return text_of(e["references"][0]);
  }
  return "";
}

int correctness(const json& e) {
  if (e.contains("correct") && e["correct"].is_boolean()) return e["correct"].get<bool>() ? 1 : 0;
  if (e.contains("exact_match") && e["exact_match"].is_number()) {
    return e["exact_match"].get<double>() >= 0.5 ? 1 : 0;
  }
  return -1;
}

Columns columns_of(const std::vector<runs::Run>& runs) {
  Columns cols;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].examples.empty()) continue;
    auto it = std::find(cols.tasks.begin(), cols.tasks.end(), runs[i].task);
    if (it == cols.tasks.end()) it = cols.tasks.insert(it, runs[i].task);
    cols.runs.push_back(i);
    cols.task.push_back(static_cast<size_t>(it - cols.tasks.begin()));
  }
  return cols;
}

std::vector<Row> collect(const std::vector<runs::Run>& runs, const Columns& cols) {
  std::vector<Row> rows;
  std::unordered_map<std::string, size_t> at;
  for (size_t c = 0; c < cols.runs.size(); ++c) {
    const std::vector<json>& examples = runs[cols.runs[c]].examples;
    for (size_t i = 0; i < examples.size(); ++i) {
      const json& e = examples[i];
      if (!e.is_object()) continue;
      const std::string key = std::to_string(cols.task[c]) + "\n" + example_key(e, i);
      auto [it, fresh] = at.emplace(key, rows.size());
      if (fresh) {
        rows.push_back({example_key(e, i), input_text(e), gold_text(e), cols.task[c],
                        std::vector<Cell>(cols.runs.size())});
      }
      Row& row = rows[it->second];
      if (row.input.empty()) row.input = input_text(e);
      if (row.gold.empty()) row.gold = gold_text(e);
      row.cells[c] = {true, e.contains("prediction") ? text_of(e["prediction"]) : "",
                      correctness(e)};
    }
  }
  return rows;
}

std::string row_html(const Row& row, const Columns& cols) {
  bool fail = false;
  std::set<std::string> predictions;
  for (const Cell& c : row.cells) {
    if (!c.present) continue;
    fail = fail || c.correct == 0;
    predictions.insert(c.prediction);
  }
  const size_t slash = row.key.find_last_of('/');
  const std::string short_key = slash == std::string::npos ? row.key : row.key.substr(slash + 1);
  std::ostringstream o;
  o << "<tr data-task=\"" << row.task << "\" data-fail=\"" << (fail ? 1 : 0) << "\" data-dis=\""
    << (predictions.size() > 1 ? 1 : 0) << "\" data-gold=\"" << escape(row.gold)
    << "\"><td class=\"key\" title=\"" << escape(row.key) << "\">"
    << escape(truncate(short_key, 28)) << "</td><td class=\"input\" title=\""
    << escape(truncate(row.input, 1500)) << "\">" << escape(truncate(row.input, 140))
    << "</td><td class=\"gold\">" << escape(truncate(row.gold, 40)) << "</td>";
  for (size_t k = 0; k < row.cells.size(); ++k) {
    const Cell& c = row.cells[k];
    o << "<td data-task=\"" << cols.task[k] << "\" class=\"cell";
    if (!c.present) {
      o << " absent\">&mdash;</td>";
      continue;
    }
    o << (c.correct == 1   ? " ok"
          : c.correct == 0 ? " bad"
                           : "")
      << "\" title=\"" << escape(truncate(c.prediction, 1500)) << "\">"
      << escape(truncate(c.prediction, 40)) << "</td>";
  }
  o << "</tr>";
  return o.str();
}

std::string column_head(const Context& ctx, const Columns& cols, size_t column,
                        const std::vector<Row>& rows) {
  size_t right = 0, known = 0;
  for (const Row& r : rows) {
    const Cell& c = r.cells[column];
    if (c.present && c.correct >= 0) ++known, right += c.correct;
  }
  const size_t index = cols.runs[column];
  std::string head = "<th class=\"run-col\" data-task=\"" + std::to_string(cols.task[column]) +
                     "\">" + run_name_html(ctx.runs[index], index);
  if (known > 0) {
    head += "<div class=\"muted small\">accuracy " +
            format_number(static_cast<double>(right) / static_cast<double>(known), 3) + " (" +
            std::to_string(known) + ")</div>";
  }
  return head + "</th>";
}

// The filter bar: failures / disagreements, gold label, task (with more than one), search.
std::string controls(const Columns& cols, const std::vector<const Row*>& shown) {
  std::map<std::string, size_t> golds;
  std::vector<size_t> per_task(cols.tasks.size(), 0);
  for (const Row* r : shown) ++golds[r->gold], ++per_task[r->task];
  std::ostringstream o;
  o << "<div class=\"controls\"><label>show <select id=\"example-filter\"><option value=\"all\">"
    << "all</option><option value=\"failures\">failures (wrong in any run)</option><option "
    << "value=\"disagreements\">disagreements (runs predict differently)</option></select>"
    << "</label>";
  if (cols.tasks.size() > 1) {
    o << "<label>task <select id=\"example-task\"><option value=\"\">all tasks</option>";
    for (size_t t = 0; t < cols.tasks.size(); ++t) {
      o << "<option value=\"" << t << "\"" << (t == 0 ? " selected" : "") << ">"
        << escape(cols.tasks[t].empty() ? "(no task)" : cols.tasks[t]) << " (" << per_task[t]
        << ")</option>";
    }
    o << "</select></label>";
  }
  o << "<label>gold <select id=\"example-gold\"><option value=\"\">any</option>";
  size_t options = 0;
  for (const auto& [gold, n] : golds) {
    if (++options > 300) break;
    o << "<option value=\"" << escape(gold) << "\">" << escape(truncate(gold, 40)) << " (" << n
      << ")</option>";
  }
  o << "</select></label><input type=\"search\" id=\"example-search\" placeholder=\"search "
    << "input, gold, predictions\"><span id=\"example-count\" class=\"muted\">" << shown.size()
    << " examples</span></div>";
  return o.str();
}

std::string matrix(const Context& ctx, const Columns& cols) {
  const std::vector<Row> rows = collect(ctx.runs, cols);
  std::vector<const Row*> shown;
  std::vector<size_t> per_task(cols.tasks.size(), 0);
  for (const Row& r : rows) {
    if (per_task[r.task]++ < ctx.options.max_examples) shown.push_back(&r);
  }
  std::ostringstream o;
  o << "<div class=\"card\"><h2>Examples</h2>" << controls(cols, shown);
  if (shown.size() < rows.size()) {
    o << "<p class=\"note\">Showing " << shown.size() << " of " << rows.size()
      << " examples (the first " << ctx.options.max_examples << " of each task).</p>";
  }
  o << "<div class=\"matrix-scroll\"><table id=\"example-matrix\"><thead><tr><th>example</th>"
    << "<th>input</th><th>gold</th>";
  for (size_t c = 0; c < cols.runs.size(); ++c) o << column_head(ctx, cols, c, rows);
  o << "</tr></thead><tbody>";
  for (const Row* r : shown) o << row_html(*r, cols);
  o << "</tbody></table></div></div>";
  return o.str();
}

std::string prompt_diff(const Context& ctx) {
  json prompts = json::array();
  std::ostringstream opts;
  for (size_t i = 0; i < ctx.runs.size(); ++i) {
    const runs::Run& r = ctx.runs[i];
    if (!r.settings.is_object() || !r.settings.contains("prompt")) continue;
    if (!r.settings["prompt"].is_string()) continue;
    opts << "<option value=\"" << prompts.size() << "\">" << escape(r.label()) << "</option>";
    prompts.push_back({{"run", r.id}, {"label", r.label()}, {"prompt", r.settings["prompt"]}});
  }
  ctx.data["prompts"] = prompts;
  if (prompts.empty()) return "";
  auto pane = [&](const char* side, size_t pick) {
    std::string options = opts.str();
    const std::string marker = "value=\"" + std::to_string(pick) + "\"";
    options.replace(options.find(marker), marker.size(), marker + " selected");
    return std::string("<div class=\"prompt-side\"><select id=\"prompt-") + side + "\">" + options +
           "</select><pre class=\"prompt-pane\" id=\"prompt-pane-" + side + "\">" +
           escape(prompts[pick]["prompt"].get_ref<const std::string&>()) + "</pre></div>";
  };
  return "<div class=\"card\" id=\"prompt-diff\"><h2>Prompts <span class=\"muted small\">word "
         "diff: <span class=\"del\">only left</span> <span class=\"ins\">only right</span>"
         "</span></h2><div class=\"grid2\">" +
         pane("a", 0) + pane("b", prompts.size() > 1 ? 1 : 0) +
         "</div><p id=\"prompt-diff-summary\" class=\"muted small\"></p></div>";
}

}  // namespace

Page examples_page(const Context& ctx) {
  const Columns cols = columns_of(ctx.runs);
  std::string html = prompt_diff(ctx);
  if (!cols.runs.empty()) html += matrix(ctx, cols);
  if (html.empty()) {
    return {"examples", "Examples", "", "no run has per-example records or a recorded prompt"};
  }
  return {"examples", "Examples", html, ""};
}

}  // namespace ptune::report::detail
