function plotParallel(box) {
  var axes = SPACE.concat([{ name: OBJ, kind: 'objective' }]);
  var W = 1300, H = 380, x0 = 70, x1 = W - 90, y0 = 40, y1 = H - 26;
  var svg = svgBox(box, W, H, 'parallel');
  var xs = function (i) { return axes.length > 1 ? x0 + i * (x1 - x0) / (axes.length - 1) : (x0 + x1) / 2; };
  var scales = axes.map(function (s) {
    if (s.kind === 'objective') { var sc = scoreScale(y0, y1); return { pos: sc, ticks: sc.ticks(6), labels: sc.ticks(6).map(num), band: 0 }; }
    return hpAxis(s, y1, y0);
  });
  var g = el('g', {}, svg);
  ranked.forEach(function (t) {
    var d = '', gap = true;
    axes.forEach(function (s, i) {
      var v = s.kind === 'objective' ? t.score : t.hyperparameters[s.name];
      if (v === undefined) { gap = true; return; }
      var y = scales[i].pos(v) + (scales[i].band ? jitter(t.id) * scales[i].band * 0.4 : 0);
      d += (gap ? 'M' : 'L') + xs(i).toFixed(1) + ',' + y.toFixed(1);
      gap = false;
    });
    el('path', { 'class': 'pc-line', d: d, stroke: colour(t.score), 'data-trial': t.id }, g);
  });
  /* Many lines: fainter, so the dense bundles show where the trials went. */
  if (ranked.length > 150) g.setAttribute('class', 'dense');
  axes.forEach(function (s, i) {
    var a = el('g', { 'class': 'axis' }, svg), x = xs(i), sc = scales[i];
    el('line', { x1: x, x2: x, y1: y0, y2: y1 }, a);
    var step = Math.max(1, Math.ceil(sc.ticks.length / 8));
    sc.ticks.forEach(function (v, k) {
      if (k % step) return;
      var y = sc.pos(v);
      el('line', { x1: x - 4, x2: x, y1: y, y2: y }, a);
      el('text', { x: x - 7, y: y + 4, 'text-anchor': 'end', 'paint-order': 'stroke', stroke: '#fff', 'stroke-width': 3 }, a,
         short(sc.labels[k], 12));
    });
    el('text', { 'class': 'label', x: x, y: y0 - 14, 'text-anchor': 'middle' }, a, short(s.name, 22) + (sc.log ? ' (log)' : ''));
  });
  svg.setAttribute('data-lines', ranked.length);
}
