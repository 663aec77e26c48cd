function history(t) {
  /* A promoted Hyperband trial continues its parent: prepend the ancestors' epochs. */
  var rows = t.history.slice(), p = byId[t.parent], guard = 0;
  while (p && guard++ < 64) {
    var first = rows.length ? rows[0][0] : Infinity;
    rows = p.history.filter(function (r) { return r[0] < first; }).concat(rows);
    p = byId[p.parent];
  }
  return rows;
}
var PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
function plotCurves(box) {
  var base = OBJ.replace(/^val_/, ''), col = base === 'accuracy' ? 4 : 3, metric = base === 'accuracy' ? 'accuracy' : 'loss';
  var top = ranked.slice(-8).reverse();
  var W = 620, H = 320, x0 = 56, x1 = W - 16, y0 = 12, y1 = H - 46;
  var svg = svgBox(box, W, H, 'curves');
  var curves = top.map(function (t) { return { t: t, rows: history(t) }; });
  var vmin = Infinity, vmax = -Infinity, emax = 1;
  curves.forEach(function (c) {
    c.rows.forEach(function (r) {
      [r[col], r[col - 2]].forEach(function (v) { if (typeof v === 'number' && isFinite(v)) { vmin = Math.min(vmin, v); vmax = Math.max(vmax, v); } });
      emax = Math.max(emax, r[0] + 1);
    });
  });
  var grid = el('g', { 'class': 'grid' }, svg);
  var xs = linear(1, emax, x0, x1, 0.03), ys = linear(vmin, vmax, y1, y0, 0.05);
  axisX(svg, grid, xs, xs.ticks(Math.min(10, emax)).filter(Number.isInteger), y1, y0);
  axisY(svg, grid, ys, ys.ticks(6), x0, x1);
  frame(svg, x0, x1, y0, y1);
  el('text', { 'class': 'label', x: (x0 + x1) / 2, y: H - 8, 'text-anchor': 'middle' }, svg, 'epoch');
  el('text', { 'class': 'label', transform: 'rotate(-90)', x: -(y0 + y1) / 2, y: 14, 'text-anchor': 'middle' }, svg, metric);
  var lg = h('div', 'legend', box);
  curves.forEach(function (c, i) {
    var colr = PALETTE[i % PALETTE.length];
    [[col, 'curve-val'], [col - 2, 'curve-train']].forEach(function (m) {
      var d = '', gap = true;
      c.rows.forEach(function (r) {
        var v = r[m[0]];
        if (typeof v !== 'number' || !isFinite(v)) { gap = true; return; }
        d += (gap ? 'M' : 'L') + xs(r[0] + 1).toFixed(1) + ',' + ys(v).toFixed(1);
        gap = false;
      });
      if (d) el('path', { 'class': m[1], d: d, stroke: colr, 'data-trial': c.t.id }, svg);
    });
    /* Dots on the validation curve, so a one-epoch trial shows too. */
    c.rows.forEach(function (r) {
      var v = r[col];
      if (typeof v === 'number' && isFinite(v))
        el('circle', { 'class': 'curve-pt', cx: xs(r[0] + 1).toFixed(1), cy: ys(v).toFixed(1), r: 3, fill: colr, 'data-trial': c.t.id }, svg);
    });
    h('span', '', lg, 'trial ' + c.t.id + ' (' + num(c.t.score) + ')').style.setProperty('--c', colr);
  });
  svg.setAttribute('data-lines', curves.length);
  h('p', 'note', box, 'The ' + curves.length + ' best trials: val_' + metric + ' solid, training ' + metric +
    ' dashed.  A promoted Hyperband trial\u2019s curve starts with its ancestors\u2019 epochs.');
}
