// The report's script: tab switching by URL hash, the example matrix's filters and search, and
// the prompts' word diff (LCS over whitespace-separated words). It builds DOM nodes with
// textContent only (never innerHTML from data), collects any error into #report-errors and
// marks <body data-ready="1"> when it has run, so a headless browser can check it.
#include "report/assets.h"

namespace ptune::report::detail {

const char* const kReportJs = R"JS(
(function () {
  'use strict';
  var errors = [];
  function fail(message) {
    errors.push(String(message));
    var pre = document.getElementById('report-errors');
    if (pre) { pre.textContent = errors.join('\n'); pre.hidden = false; }
  }
  window.onerror = function (message, source, line, column) {
    fail('error: ' + message + ' (line ' + line + ':' + column + ')');
  };
  function guard(name, fn) {
    try { fn(); } catch (e) { fail(name + ': ' + (e && e.stack ? e.stack : e)); }
  }
  function byId(id) { return document.getElementById(id); }

  var data = {};

  function showPage() {
    var want = (location.hash || '#overview').slice(1);
    var sections = document.querySelectorAll('section.page');
    var found = false;
    sections.forEach(function (s) { if (s.dataset.page === want) found = true; });
    if (!found) want = 'overview';
    sections.forEach(function (s) { s.classList.toggle('active', s.dataset.page === want); });
    document.querySelectorAll('#tabs a.tab').forEach(function (a) {
      a.classList.toggle('active', a.getAttribute('href') === '#' + want);
    });
  }

  function initExamples() {
    var table = byId('example-matrix');
    if (!table) return;
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var haystack = rows.map(function (r) {
      var text = r.textContent;
      r.querySelectorAll('[title]').forEach(function (e) { text += ' ' + e.getAttribute('title'); });
      return text.toLowerCase();
    });
    var columns = table.querySelectorAll('[data-task]:not(tr)');
    var mode = byId('example-filter'), gold = byId('example-gold'), task = byId('example-task');
    var search = byId('example-search'), count = byId('example-count');
    var goldsOf = {};  // task -> the gold labels of its rows
    rows.forEach(function (r) {
      (goldsOf[r.dataset.task] = goldsOf[r.dataset.task] || {})[r.dataset.gold] = true;
    });
    function apply() {
      var t = task ? task.value : '';
      Array.prototype.forEach.call(gold.options, function (o) {
        o.hidden = o.value !== '' && t !== '' && !(goldsOf[t] || {})[o.value];
      });
      if (gold.selectedOptions.length && gold.selectedOptions[0].hidden) gold.value = '';
      var m = mode.value, g = gold.value;
      var q = search.value.trim().toLowerCase();
      var shown = 0, total = 0;
      columns.forEach(function (c) { c.hidden = t !== '' && c.dataset.task !== t; });
      rows.forEach(function (r, i) {
        var inTask = t === '' || r.dataset.task === t;
        var ok = inTask && (m === 'all' || (m === 'failures' && r.dataset.fail === '1') ||
                            (m === 'disagreements' && r.dataset.dis === '1')) &&
                 (g === '' || r.dataset.gold === g) && (q === '' || haystack[i].indexOf(q) >= 0);
        r.hidden = !ok;
        if (inTask) total++;
        if (ok) shown++;
      });
      count.textContent = shown + ' of ' + total + ' examples shown';
    }
    [mode, gold, task].forEach(function (s) { if (s) s.addEventListener('change', apply); });
    search.addEventListener('input', apply);
    apply();
  }

  // Words with the whitespace after each: [{w: 'word', s: ' '}].
  function words(text) {
    var out = [], re = /(\S+)(\s*)/g, m, lead = /^\s*/.exec(text)[0];
    if (lead) out.push({w: '', s: lead});
    while ((m = re.exec(text)) !== null) out.push({w: m[1], s: m[2]});
    return out;
  }

  // Marks a[i].same / b[j].same for the words of a longest common subsequence. The common
  // prefix and suffix are matched first; a middle too large for the table counts as changed.
  function lcs(a, b) {
    var lo = 0, ha = a.length, hb = b.length;
    while (lo < ha && lo < hb && a[lo].w === b[lo].w) { a[lo].same = b[lo].same = true; lo++; }
    while (ha > lo && hb > lo && a[ha - 1].w === b[hb - 1].w) {
      a[--ha].same = true; b[--hb].same = true;
    }
    var n = ha - lo, m = hb - lo;
    if (n === 0 || m === 0 || n * m > 4000000) return;
    var t = new Int32Array((n + 1) * (m + 1));
    for (var i = n - 1; i >= 0; i--) {
      for (var j = m - 1; j >= 0; j--) {
        t[i * (m + 1) + j] = a[lo + i].w === b[lo + j].w ? t[(i + 1) * (m + 1) + j + 1] + 1
            : Math.max(t[(i + 1) * (m + 1) + j], t[i * (m + 1) + j + 1]);
      }
    }
    i = 0; j = 0;
    while (i < n && j < m) {
      if (a[lo + i].w === b[lo + j].w) { a[lo + i].same = b[lo + j].same = true; i++; j++; }
      else if (t[(i + 1) * (m + 1) + j] >= t[i * (m + 1) + j + 1]) i++;
      else j++;
    }
  }

  function drawPane(pane, tokens, changedClass) {
    pane.textContent = '';
    var changed = 0;
    tokens.forEach(function (t) {
      if (t.w) {
        if (t.same) {
          pane.appendChild(document.createTextNode(t.w));
        } else {
          var span = document.createElement('span');
          span.className = changedClass;
          span.textContent = t.w;
          pane.appendChild(span);
          changed++;
        }
      }
      if (t.s) pane.appendChild(document.createTextNode(t.s));
    });
    return changed;
  }

  function initPrompts() {
    var prompts = data.prompts || [];
    var selA = byId('prompt-a'), selB = byId('prompt-b');
    if (!selA || !selB || prompts.length === 0) return;
    function draw() {
      var a = words(prompts[+selA.value].prompt), b = words(prompts[+selB.value].prompt);
      lcs(a, b);
      var removed = drawPane(byId('prompt-pane-a'), a, 'del');
      var added = drawPane(byId('prompt-pane-b'), b, 'ins');
      byId('prompt-diff-summary').textContent = selA.value === selB.value
          ? 'The same run on both sides.'
          : removed + ' word(s) only on the left, ' + added + ' only on the right.';
    }
    selA.addEventListener('change', draw);
    selB.addEventListener('change', draw);
    draw();
  }

  function init() {
    guard('data', function () {
      var block = byId('report-data');
      data = block ? JSON.parse(block.textContent) : {};
    });
    guard('tabs', function () { showPage(); window.addEventListener('hashchange', showPage); });
    guard('examples', initExamples);
    guard('prompts', initPrompts);
    document.body.dataset.ready = '1';
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
)JS";

}  // namespace ptune::report::detail
