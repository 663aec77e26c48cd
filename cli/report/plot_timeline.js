/* ---- worker timeline (issue 15 "busy"): one lane per slot, a bar per work
 * item (one execution or fold of a trial as a slot ran it), coloured by
 * Hyperband bracket (else by trial); sessions (resumes) side by side, each
 * as long as it ran, so the idle gaps are what the utilisation counts. ---- */
var LANE_COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
function plotTimeline(box) {
  var T = D.timeline || { sessions: [], work: [] };
  box.setAttribute('data-bars', 0);
  if (!T.sessions.length) { h('p', 'empty', box, 'No timeline: the store is from before hptc recorded when work ran.'); return; }
  var offset = {}, slots = 0, total = 0;
  T.sessions.forEach(function (s) {   /* [id, started, finished, slots, ranks] */
    offset[s[0]] = total - s[1];
    total += Math.max(0, s[2] - s[1]);
    slots = Math.max(slots, s[3]);
  });
  var u = typeof T.utilisation === 'number' ? (100 * T.utilisation).toFixed(1) + '%' : 'unknown';
  h('p', 'note', box, 'Core utilisation ' + u + ': ' + num(T.busy_core_seconds) + ' busy core-seconds of ' +
    num(T.core_seconds) + ' (' + T.sessions.length + ' session' + (T.sessions.length === 1 ? '' : 's') + ', ' +
    num(total) + ' s of wall time, up to ' + slots + ' slot' + (slots === 1 ? '' : 's') + ').');
  var laneH = 18, left = 92, W = 920, H = 30 + slots * laneH + 20;
  var svg = svgBox(box, W, H, 'timeline');
  svg.style.maxWidth = W + 'px';
  var xs = function (t) { return left + (W - left - 10) * (total > 0 ? t / total : 0); };
  var ranks = {};
  T.work.forEach(function (w) { ranks[w[5]] = w[4]; });
  for (var k = 0; k < slots; k++)
    el('text', { 'class': 'label', x: 4, y: 30 + k * laneH + 13 }, svg, 'slot ' + k + (ranks[k] ? ' (rank ' + ranks[k] + ')' : ''));
  T.sessions.forEach(function (s, i) {
    if (i) el('line', { x1: xs(offset[s[0]] + s[1]), x2: xs(offset[s[0]] + s[1]), y1: 24, y2: H - 18, stroke: '#7b8794', 'stroke-dasharray': '3,3' }, svg);
  });
  var bars = 0;
  T.work.forEach(function (w) {   /* [session, trial, execution, retry, rank, slot, started, finished] */
    if (offset[w[0]] === undefined) return;
    var t = byId[w[1]], c = t && t.bracket >= 0 ? LANE_COLOURS[t.bracket % LANE_COLOURS.length] : LANE_COLOURS[w[1] % LANE_COLOURS.length];
    var x0 = xs(offset[w[0]] + w[6]), x1 = xs(offset[w[0]] + w[7]);
    el('rect', { 'class': 'tl-bar', x: x0.toFixed(1), y: 30 + w[5] * laneH + 2, width: Math.max(1, x1 - x0).toFixed(1), height: laneH - 4,
                 fill: c, 'data-trial': w[1] }, svg);
    bars++;
  });
  el('text', { x: left, y: H - 4 }, svg, '0 s');
  el('text', { x: W - 60, y: H - 4 }, svg, num(total) + ' s');
  var brackets = {};
  trials.forEach(function (t) { if (t.bracket >= 0) brackets[t.bracket] = 1; });
  var keys = Object.keys(brackets).map(Number).sort(function (a, b) { return b - a; });
  if (!keys.length) el('text', { x: left, y: 16 }, svg, 'colour: trial');
  keys.forEach(function (b, i) {   /* the legend: a swatch per bracket */
    el('rect', { x: left + i * 90, y: 7, width: 10, height: 10, fill: LANE_COLOURS[b % LANE_COLOURS.length] }, svg);
    el('text', { x: left + i * 90 + 14, y: 16 }, svg, 'bracket ' + b);
  });
  box.setAttribute('data-bars', bars);
}
