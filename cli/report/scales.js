/* Score to colour: worst gold, through red, to best deep purple. */
var lo = Infinity, hi = -Infinity;
done.forEach(function (t) { lo = Math.min(lo, t.score); hi = Math.max(hi, t.score); });
var RAMP = [[252, 212, 90], [236, 112, 58], [190, 40, 82], [92, 24, 130]];
function colour(score) {
  var q = hi > lo ? (score - lo) / (hi - lo) : 1;
  if (!MAX) q = 1 - q;
  var x = q * (RAMP.length - 1), i = Math.min(Math.floor(x), RAMP.length - 2), f = x - i, c = [];
  for (var k = 0; k < 3; k++) c.push(Math.round(RAMP[i][k] + f * (RAMP[i + 1][k] - RAMP[i][k])));
  return 'rgb(' + c.join(',') + ')';
}

/* ---- scales and axes ---- */
function niceTicks(a, b, n) {
  var span = b - a;
  if (!(span > 0)) return [a];
  var step = Math.pow(10, Math.floor(Math.log10(span / n))), err = n / span * step;
  if (err <= 0.15) step *= 10; else if (err <= 0.35) step *= 5; else if (err <= 0.75) step *= 2;
  var out = [];
  for (var v = Math.ceil(a / step) * step; v <= b + step * 1e-9; v += step) out.push(parseFloat(v.toPrecision(12)));
  return out;
}
function linear(d0, d1, r0, r1, pad) {
  if (!(d1 > d0)) { var c = isFinite(d0) ? d0 : 0, w = Math.abs(c) * 0.1 || 1; d0 = c - w; d1 = c + w; }
  else if (pad) { var p = (d1 - d0) * pad; d0 -= p; d1 += p; }
  var f = function (v) { return r0 + (v - d0) / (d1 - d0) * (r1 - r0); };
  f.ticks = function (n) { return niceTicks(d0, d1, n); };
  return f;
}
function logScale(d0, d1, r0, r1) {
  var l0 = Math.log10(d0), l1 = Math.log10(d1);
  if (!(l1 > l0)) { l0 -= 0.5; l1 += 0.5; }
  var p = (l1 - l0) * 0.04; l0 -= p; l1 += p;
  var f = function (v) { return r0 + (Math.log10(v) - l0) / (l1 - l0) * (r1 - r0); };
  f.ticks = function () {
    var out = [], mult = l1 - l0 < 2.5 ? [1, 2, 5] : [1];
    for (var e = Math.floor(l0); e <= Math.ceil(l1); e++)
      mult.forEach(function (m) { var v = m * Math.pow(10, e), lv = Math.log10(v); if (lv >= l0 && lv <= l1) out.push(v); });
    return out;
  };
  return f;
}
function band(keys, r0, r1) {
  var step = (r1 - r0) / Math.max(keys.length, 1), idx = {};
  keys.forEach(function (k, i) { idx[k] = i; });
  var f = function (k) { return r0 + step * (idx[k] + 0.5); };
  f.step = step;
  return f;
}
function axisX(svg, grid, scale, ticks, y, top, labels) {
  var a = el('g', { 'class': 'axis' }, svg);
  ticks.forEach(function (v, i) {
    var x = scale(v);
    if (grid) el('line', { x1: x, x2: x, y1: top, y2: y }, grid);
    el('line', { x1: x, x2: x, y1: y, y2: y + 4 }, a);
    el('text', { x: x, y: y + 16, 'text-anchor': 'middle' }, a, labels ? labels[i] : num(v));
  });
  return a;
}
function axisY(svg, grid, scale, ticks, x, right) {
  var a = el('g', { 'class': 'axis' }, svg);
  ticks.forEach(function (v, i) {
    var y = scale(v);
    if (grid) el('line', { x1: x, x2: right, y1: y, y2: y }, grid);
    el('line', { x1: x - 4, x2: x, y1: y, y2: y }, a);
    el('text', { x: x - 7, y: y + 4, 'text-anchor': 'end' }, a, num(v));
  });
  return a;
}
function frame(svg, x0, x1, y0, y1) {
  el('line', { x1: x0, x2: x1, y1: y1, y2: y1, 'class': 'frame', stroke: '#9aa5b1' }, svg);
  el('line', { x1: x0, x2: x0, y1: y0, y2: y1, 'class': 'frame', stroke: '#9aa5b1' }, svg);
}
function scoreScale(y0, y1) {
  return linear(lo, hi, y1, y0, 0.06);
}
