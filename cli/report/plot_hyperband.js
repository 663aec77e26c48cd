function plotHyperband(box) {
  var hb = trials.filter(function (t) { return t.bracket >= 0; });
  box.setAttribute('data-edges', 0);
  if (!hb.length) { h('p', 'empty', box, 'Not a Hyperband search: its trials have no brackets.'); return; }
  var brackets = {}, edges = 0;
  hb.forEach(function (t) { (brackets[t.bracket] = brackets[t.bracket] || []).push(t); });
  Object.keys(brackets).map(Number).sort(function (a, b) { return b - a; }).forEach(function (b) {
    var ts = brackets[b], inB = {}, row = {}, rows = 0, rounds = 0, epochs = {};
    ts.forEach(function (t) { inB[t.id] = t; rounds = Math.max(rounds, t.round + 1); epochs[t.round] = Math.max(epochs[t.round] || 0, t.epochs); });
    ts.slice().sort(function (a, c) { return a.round - c.round || a.id - c.id; }).forEach(function (t) {
      row[t.id] = t.parent >= 0 && inB[t.parent] && row[t.parent] !== undefined ? row[t.parent] : rows++;
    });
    var colW = 190, W = 96 + Math.max(rounds, 3) * colW, H = 44 + rows * 22;
    var svg = svgBox(box, W, H, 'hyperband');
    svg.style.maxWidth = W + 'px';
    svg.setAttribute('data-bracket', b);
    el('text', { 'class': 'label', x: 4, y: 16 }, svg, 'bracket ' + b);
    for (var r = 0; r < rounds; r++)
      el('text', { x: 90 + r * colW, y: 16 }, svg, 'round ' + r + (epochs[r] ? ' \u00b7 ' + epochs[r] + ' epochs' : ''));
    var X = function (t) { return 96 + t.round * colW; }, Y = function (t) { return 38 + row[t.id] * 22; };
    var label = function (t) {
      return '#' + t.id + '  ' + (t.status === 'completed' && typeof t.score === 'number' ? num(t.score) : t.status);
    };
    ts.forEach(function (t) {
      var p = inB[t.parent];
      if (!p) return;
      /* From the end of the parent's label (about 7 px a character) to the child. */
      el('path', { 'class': 'hb-edge', d: 'M' + (X(p) + 16 + 7 * label(p).length) + ',' + Y(p) + 'L' + (X(t) - 9) + ',' + Y(t),
                   'marker-end': 'url(#hb-arrow)' }, svg);
      edges++;
    });
    ts.forEach(function (t) {
      var ok = t.status === 'completed' && typeof t.score === 'number';
      el('circle', { 'class': 'hb-node pt', cx: X(t), cy: Y(t), r: 6, fill: ok ? colour(t.score) : '#c4cdd5', 'data-trial': t.id }, svg);
      el('text', { x: X(t) + 11, y: Y(t) + 4, 'data-trial': t.id }, svg, label(t));
    });
  });
  var defs = el('svg', { width: 0, height: 0, style: 'position:absolute' }, box);
  var m = el('marker', { id: 'hb-arrow', viewBox: '0 0 8 8', refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: 'auto' }, el('defs', {}, defs));
  el('path', { d: 'M0,0L8,4L0,8z', fill: '#7b8794' }, m);
  box.setAttribute('data-edges', edges);
}
