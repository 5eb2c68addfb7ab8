// The report's stylesheet: system fonts, a light neutral palette, cards, tables, chart strokes
// and the status / correctness colours. Kept as one raw string so the page is a single file.
#include "report/assets.h"

namespace ptune::report::detail {

const char* const kReportCss = R"CSS(
:root {
  --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --soft: #eaeef2; --bg: #f6f8fa;
  --accent: #0969da; --ok-bg: #dafbe1; --ok: #116329; --bad-bg: #ffebe9; --bad: #a40e26;
  --warn-bg: #fff8c5; --warn: #7d4e00; --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo,
  Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
html { background: var(--bg); }
body {
  margin: 0; color: var(--fg); background: var(--bg);
  font: 14px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial,
    sans-serif;
}
header.top {
  background: #fff; border-bottom: 1px solid var(--line); padding: 16px 32px 0;
  position: sticky; top: 0; z-index: 10;
}
h1 { font-size: 20px; font-weight: 600; margin: 0; letter-spacing: -0.01em; }
.sub { color: var(--muted); margin: 2px 0 10px; font-size: 13px; }
nav#tabs { display: flex; gap: 2px; }
nav#tabs a {
  padding: 8px 14px 9px; color: var(--muted); text-decoration: none; font-weight: 500;
  border-bottom: 2px solid transparent; border-radius: 6px 6px 0 0;
}
nav#tabs a:hover { color: var(--fg); background: var(--bg); }
nav#tabs a.active { color: var(--fg); border-bottom-color: #fd8c73; font-weight: 600; }
main { padding: 24px 32px 48px; max-width: 1680px; }
section.page { display: none; }
section.page.active { display: block; }
.card {
  background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 16px 20px 18px;
  margin: 0 0 20px; box-shadow: 0 1px 2px rgba(31, 35, 40, 0.04);
}
h2 { font-size: 15px; font-weight: 600; margin: 0 0 12px; }
.muted { color: var(--muted); font-weight: normal; }
.small { font-size: 12px; }
.note { color: var(--warn); background: var(--warn-bg); padding: 6px 10px; border-radius: 6px; }
.empty { color: var(--muted); font-style: italic; text-align: center; padding: 60px 0; }
code { font-family: var(--mono); font-size: 12px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--soft); }
td { vertical-align: top; }
thead th {
  font-size: 12px; font-weight: 600; color: var(--muted); border-bottom: 1px solid var(--line);
  white-space: nowrap; background: #fff;
}
tbody tr:hover td { background: #f9fafb; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.nowrap { white-space: nowrap; }
.scroll-x { overflow-x: auto; }
table.compact { width: auto; min-width: 420px; }
.run-name { white-space: nowrap; }
.swatch {
  display: inline-block; width: 10px; height: 10px; border-radius: 3px; margin-right: 7px;
  vertical-align: -1px;
}
.badge {
  display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 500;
  line-height: 20px; background: var(--soft); color: var(--muted);
}
.badge.finished { background: var(--ok-bg); color: var(--ok); }
.badge.running { background: #ddf4ff; color: var(--accent); }
.badge.failed { background: var(--bad-bg); color: var(--bad); }
.badge.interrupted { background: var(--warn-bg); color: var(--warn); }
tr.run-failed td:first-child, tr.run-interrupted td:first-child { box-shadow: inset 3px 0 #d4a72c; }
tr.run-failed td:first-child { box-shadow: inset 3px 0 #cf222e; }
.error-text { color: var(--bad); font-size: 12px; margin-top: 2px; max-width: 360px; }
table.metrics { width: auto; }
table.metrics td, table.metrics th { vertical-align: middle; padding: 3px 10px; }
table.metrics col.c-run { width: 260px; }
table.metrics col.c-status { width: 110px; }
table.metrics col.c-mark { width: 290px; }
tr.metric-head th, tr.metric-head td {
  padding-top: 16px; font-size: 13px; color: var(--fg); border-bottom: 1px solid var(--line);
}
tbody.metric-group:first-of-type tr.metric-head > * { padding-top: 4px; }
.card-row { display: flex; flex-wrap: wrap; gap: 0 20px; align-items: flex-start; }
.card-row > .card { flex: 0 1 auto; max-width: 100%; }
svg { overflow: visible; }
svg text { font-family: inherit; }
svg .tick { font-size: 11px; fill: var(--muted); font-variant-numeric: tabular-nums; }
svg .label { font-size: 12px; fill: #444c56; }
svg .grid { stroke: #eef1f4; stroke-width: 1; }
svg .axis { stroke: #8c959f; stroke-width: 1; }
svg .series { fill: none; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
svg .dot { stroke: #fff; stroke-width: 1.2; }
svg .whisker { stroke-width: 2; stroke-linecap: round; }
svg .diagonal { stroke: #8c959f; stroke-dasharray: 4 4; }
svg .gap { fill: rgba(225, 87, 89, 0.22); stroke: rgba(207, 34, 46, 0.55); stroke-width: 1; }
svg .bin-count { font-size: 10px; fill: var(--muted); }
svg .cm-label { fill: #444c56; }
svg .cm-count { fill: var(--fg); font-variant-numeric: tabular-nums; }
svg .cm-count.light { fill: #fff; }
.chart { max-width: 100%; height: auto; display: block; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 6px 18px; padding: 0; margin: 8px 0 0; }
.legend li { font-size: 13px; }
.figures { display: flex; flex-wrap: wrap; gap: 28px; align-items: flex-start; }
figure { margin: 0; max-width: 100%; }
figcaption { font-size: 12px; font-weight: 600; color: var(--muted); margin-bottom: 6px; }
.ece { margin: 6px 0 0; font-size: 13px; color: var(--muted); max-width: 300px; }
.ece b { color: var(--fg); }
.controls { display: flex; flex-wrap: wrap; gap: 10px 18px; align-items: center; margin-bottom: 12px; }
.controls label { color: var(--muted); font-size: 13px; }
select, input[type=search] {
  font: inherit; font-size: 13px; padding: 4px 8px; border: 1px solid var(--line);
  border-radius: 6px; background: #fff; color: var(--fg);
}
select { max-width: 260px; }
input[type=search] { min-width: 260px; }
.matrix-scroll { max-height: 72vh; overflow: auto; border: 1px solid var(--soft); border-radius: 6px; }
#example-matrix thead th { position: sticky; top: 0; z-index: 2; vertical-align: bottom; }
#example-matrix td { font-size: 13px; padding: 4px 8px; }
#example-matrix td.key { font-family: var(--mono); font-size: 11px; color: var(--muted); white-space: nowrap; }
#example-matrix td.input { min-width: 260px; max-width: 480px; }
#example-matrix td.gold { white-space: nowrap; font-weight: 500; }
#example-matrix td.cell { white-space: nowrap; max-width: 220px; overflow: hidden; text-overflow: ellipsis; }
#example-matrix td.ok { background: #e6f6ea; color: var(--ok); }
#example-matrix td.bad { background: #fde7e9; color: var(--bad); }
#example-matrix td.absent { background: #f3f4f6; color: #aab1b9; text-align: center; }
#example-matrix tbody tr:hover td { filter: brightness(0.97); }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.prompt-side select { margin-bottom: 6px; max-width: 100%; }
.prompt-pane {
  white-space: pre-wrap; word-break: break-word; font: 12px/1.55 var(--mono); margin: 0;
  background: var(--bg); border: 1px solid var(--soft); border-radius: 6px; padding: 10px 12px;
  max-height: 420px; overflow: auto;
}
.ins { background: #aceebb; border-radius: 2px; }
.del { background: #ffcecb; border-radius: 2px; text-decoration: line-through; text-decoration-color: rgba(164, 14, 38, 0.5); }
#report-errors {
  color: var(--bad); background: var(--bad-bg); border: 1px solid #ffcecb; border-radius: 6px;
  padding: 10px; white-space: pre-wrap;
}
@media (max-width: 900px) { .grid2 { grid-template-columns: 1fr; } main { padding: 16px; } }
)CSS";

}  // namespace ptune::report::detail
