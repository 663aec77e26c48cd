/* Importance: for each hyperparameter, the share of the objective's variance
 * that its value explains, Var(E[score | value]) / Var(score), estimated by a
 * one-way ANOVA over groups of completed trials: one group per value of a
 * categorical hyperparameter or of an Int with at most 12 distinct values, else
 * k = clamp(round(sqrt(n)), 2, 10) equal-count bins of the sorted values; trials
 * where it is inactive form one more group.  eta^2 = SS_between / SS_total is
 * corrected for the number of groups (epsilon^2 = (SS_b - (k-1) MS_w) / (SS_t +
 * MS_w), clamped at 0), so a hyperparameter without effect scores about 0. */
function importance(s) {
  var n = done.length;
  if (n < 3) return null;
  var groups = {}, act = [];
  done.forEach(function (t) {
    var v = t.hyperparameters[s.name];
    if (v === undefined) (groups.inactive = groups.inactive || []).push(t.score);
    else act.push([v, t.score]);
  });
  var distinct = {};
  act.forEach(function (p) { distinct[JSON.stringify(p[0])] = 1; });
  if (categorical(s) || (s.kind === 'int' && Object.keys(distinct).length <= 12) || typeof (act[0] || [0])[0] !== 'number') {
    act.forEach(function (p) { var k = 'v' + JSON.stringify(p[0]); (groups[k] = groups[k] || []).push(p[1]); });
  } else {
    act.sort(function (a, b) { return a[0] - b[0]; });
    var k = Math.max(2, Math.min(10, Math.round(Math.sqrt(act.length))));
    act.forEach(function (p, i) { var b = 'b' + Math.floor(i * k / act.length); (groups[b] = groups[b] || []).push(p[1]); });
  }
  var mean = done.reduce(function (a, t) { return a + t.score; }, 0) / n, sst = 0, ssb = 0;
  done.forEach(function (t) { sst += (t.score - mean) * (t.score - mean); });
  var keys = Object.keys(groups);
  keys.forEach(function (g) {
    var v = groups[g], m = v.reduce(function (a, x) { return a + x; }, 0) / v.length;
    ssb += v.length * (m - mean) * (m - mean);
  });
  var kk = keys.length;
  if (!(sst > 0) || kk < 2) return { eps: 0, eta: 0, k: kk, n: n };
  var msw = n > kk ? (sst - ssb) / (n - kk) : 0;
  return { eps: Math.max(0, (ssb - (kk - 1) * msw) / (sst + msw)), eta: ssb / sst, k: kk, n: n };
}
function plotImportance(box) {
  var rows = SPACE.map(function (s) { return { s: s, r: importance(s) }; }).filter(function (x) { return x.r; });
  if (!rows.length) { h('p', 'empty', box, 'Needs at least 3 completed trials.'); return; }
  rows.sort(function (a, b) { return b.r.eps - a.r.eps; });
  var W = 620, rowH = 28, H = rows.length * rowH + 34, x0 = 160, x1 = W - 56;
  var svg = svgBox(box, W, H, 'importance');
  var xs = linear(0, 1, x0, x1), grid = el('g', { 'class': 'grid' }, svg);
  axisX(svg, grid, xs, [0, 0.25, 0.5, 0.75, 1], H - 26, 4);
  rows.forEach(function (x, i) {
    var y = 8 + i * rowH, tipText = x.s.name + '\nepsilon\u00b2 = ' + x.r.eps.toFixed(3) + ' (eta\u00b2 = ' + x.r.eta.toFixed(3) +
        ')\n' + x.r.k + ' groups over ' + x.r.n + ' completed trials';
    el('text', { x: x0 - 8, y: y + 15, 'text-anchor': 'end' }, svg, short(x.s.name, 24));
    el('rect', { 'class': 'bar', x: x0, y: y + 2, width: Math.max(1, xs(x.r.eps) - x0).toFixed(1), height: rowH - 10,
                 'data-hp': x.s.name, 'data-value': x.r.eps.toFixed(4), 'data-tip': tipText }, svg);
    el('text', { x: xs(x.r.eps) + 6, y: y + 15 }, svg, x.r.eps.toFixed(2));
  });
  svg.setAttribute('data-bars', rows.length);
}
