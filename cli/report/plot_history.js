/* ---- plots ---- */
function plotHistory(box) {
  var W = 1300, H = 300, x0 = 64, x1 = W - 20, y0 = 14, y1 = H - 46;
  var svg = svgBox(box, W, H, 'history');
  if (!trials.length) { h('p', 'empty', box, 'No trials yet.'); return; }
  var grid = el('g', { 'class': 'grid' }, svg);
  var ids = trials.map(function (t) { return t.id; });
  var xs = linear(Math.min.apply(null, ids) - 0.5, Math.max.apply(null, ids) + 0.5, x0, x1);
  var ys = scoreScale(y0, y1);
  axisX(svg, grid, xs, xs.ticks(12).filter(Number.isInteger), y1, y0);
  axisY(svg, grid, ys, ys.ticks(6), x0, x1);
  frame(svg, x0, x1, y0, y1);
  el('text', { 'class': 'label', x: (x0 + x1) / 2, y: H - 8, 'text-anchor': 'middle' }, svg, 'trial id');
  el('text', { 'class': 'label', transform: 'rotate(-90)', x: -(y0 + y1) / 2, y: 16, 'text-anchor': 'middle' }, svg, OBJ);
  /* Best so far, in trial-id order: a step line. */
  var d = '', cur = null;
  done.forEach(function (t) {
    if (cur === null || (MAX ? t.score > cur : t.score < cur)) {
      cur = t.score;
      d += (d ? 'H' + xs(t.id).toFixed(1) + 'V' : 'M' + xs(t.id).toFixed(1) + ',') + ys(cur).toFixed(1);
    }
  });
  if (d) el('path', { 'class': 'best-line', d: d + 'H' + x1 }, svg);
  var r = done.length > 300 ? 2.6 : 4.5, g = el('g', {}, svg);
  done.forEach(function (t) {
    el('circle', { 'class': 'pt', cx: xs(t.id).toFixed(1), cy: ys(t.score).toFixed(1), r: r, fill: colour(t.score), 'data-trial': t.id }, g);
  });
  trials.forEach(function (t) {
    if (t.status === 'failed')
      el('text', { 'class': 'fail-mark', x: xs(t.id), y: y1 - 4, 'text-anchor': 'middle', fill: '#b42318', 'data-trial': t.id }, svg, '\u2715');
  });
  svg.setAttribute('data-points', done.length);
  var lg = h('div', 'legend', box);
  h('span', '', lg, 'best so far').style.setProperty('--c', '#d9480f');
  h('span', '', lg, 'completed trial (colour: ' + OBJ + ', dark = better)').style.setProperty('--c', colour(best ? best.score : 0));
  if (trials.some(function (t) { return t.status === 'failed'; })) h('span', '', lg, '\u2715 failed trial').style.setProperty('--c', '#b42318');
}
