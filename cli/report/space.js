/* ---- the search space: from the spec's IR, or guessed from the values ---- */
function space() {
  if (D.space) return D.space.filter(function (s) { return s.kind !== 'fixed'; });
  var names = [], seen = {};
  trials.forEach(function (t) {
    for (var k in t.hyperparameters) if (!seen[k]) { seen[k] = 1; names.push(k); }
  });
  return names.map(function (n) {
    var vs = trials.map(function (t) { return t.hyperparameters[n]; }).filter(function (v) { return v !== undefined; });
    if (vs.every(function (v) { return typeof v === 'number'; })) return { name: n, kind: 'float', sampling: 'linear' };
    return { name: n, kind: 'choice', values: [] };
  });
}
var SPACE = space();
function categorical(s) { return s.kind === 'choice' || s.kind === 'boolean'; }
/* An axis for one hyperparameter: categorical ones on bands (the spec's order),
 * log-sampled ones on a log axis, the rest linear. */
function hpAxis(s, r0, r1) {
  var vs = done.map(function (t) { return t.hyperparameters[s.name]; }).filter(function (v) { return v !== undefined; });
  if (categorical(s)) {
    var keys = [], labels = [], seen = {};
    var all = (s.kind === 'boolean' ? [false, true] : s.values || []).concat(vs);
    all.forEach(function (v) {
      var k = JSON.stringify(v);
      if (!seen[k]) { seen[k] = 1; keys.push(k); labels.push(val(v)); }
    });
    var b = band(keys, r0, r1);
    return { pos: function (v) { return b(JSON.stringify(v)); }, band: b.step, ticks: keys.map(function (k) { return JSON.parse(k); }),
             labels: labels, scale: function (v) { return b(JSON.stringify(v)); }, log: false };
  }
  var d0 = Math.min.apply(null, vs.concat(typeof s.min === 'number' ? [s.min] : [])),
      d1 = Math.max.apply(null, vs.concat(typeof s.max === 'number' ? [s.max] : []));
  var log = s.sampling === 'log' && d0 > 0;
  var sc = log ? logScale(d0, d1, r0, r1) : linear(d0, d1, r0, r1, 0.04);
  var ticks = log ? sc.ticks() : sc.ticks(5);
  var spread = 0;
  if (s.kind === 'int') {
    ticks = ticks.filter(Number.isInteger);
    /* Few distinct values: spread the points around each like a band. */
    var distinct = {};
    vs.forEach(function (v) { distinct[v] = 1; });
    var keys = Object.keys(distinct).map(Number).sort(function (a, b) { return a - b; }), gap = Infinity;
    for (var k = 1; k < keys.length; k++) gap = Math.min(gap, Math.abs(sc(keys[k]) - sc(keys[k - 1])));
    if (keys.length <= 12) spread = Math.min(isFinite(gap) ? gap * 0.6 : 24, 40);
  }
  return { pos: sc, band: spread, ticks: ticks, labels: ticks.map(num), scale: sc, log: log };
}
