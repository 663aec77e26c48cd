function plotScatter(box) {
  if (!SPACE.length) { h('p', 'empty', box, 'The search space has no tunable hyperparameter.'); return; }
  SPACE.forEach(function (s, i) {
    var W = 320, H = 236, x0 = 54, x1 = W - 12, y0 = 12, y1 = H - 48;
    var cell = h('div', '', box);
    cell.id = 'plot-hp-' + i;
    var svg = svgBox(cell, W, H, 'hp');
    svg.setAttribute('data-hp', s.name);
    var grid = el('g', { 'class': 'grid' }, svg);
    var ax = hpAxis(s, x0, x1), ys = scoreScale(y0, y1);
    var step = Math.max(1, Math.ceil(ax.ticks.length / 6));
    axisX(svg, grid, ax.scale, ax.ticks.filter(function (_, k) { return k % step === 0; }), y1, y0,
          ax.labels.filter(function (_, k) { return k % step === 0; }).map(function (l) { return short(l, 12); }));
    axisY(svg, grid, ys, ys.ticks(5), x0, x1);
    frame(svg, x0, x1, y0, y1);
    el('text', { 'class': 'label', x: (x0 + x1) / 2, y: H - 10, 'text-anchor': 'middle' }, svg,
       short(s.name, 34) + (ax.log ? ' (log)' : categorical(s) ? ' (' + s.kind + ')' : ''));
    var g = el('g', {}, svg), n = 0, r = done.length > 300 ? 2.4 : 4;
    ranked.forEach(function (t) {
      var v = t.hyperparameters[s.name];
      if (v === undefined) return;
      var x = ax.pos(v) + (ax.band ? jitter(t.id) * ax.band * 0.5 : 0);
      el('circle', { 'class': 'pt', cx: x.toFixed(1), cy: ys(t.score).toFixed(1), r: r, fill: colour(t.score), 'data-trial': t.id }, g);
      n++;
    });
    svg.setAttribute('data-points', n);
  });
}
