function summary(box) {
  if (!best) { h('p', 'empty', box, 'No completed trial yet.'); return; }
  var p = h('p', '', box);
  h('strong', '', p, 'Best: trial ' + best.id + ', ' + OBJ + ' = ' + num(best.score));
  p.appendChild(document.createTextNode(' at epoch ' + (best.best_epoch + 1) + ' of ' + best.epochs + '.'));
  var tab = h('table', '', box), tr = h('tr', '', h('thead', '', tab));
  ['#', 'trial', OBJ, 'hyperparameters'].forEach(function (c) { h('th', '', tr, c); });
  var tb = h('tbody', '', tab);
  ranked.slice(-10).reverse().forEach(function (t, i) {
    var r = h('tr', '', tb);
    r.setAttribute('data-trial', t.id);
    h('td', 'num', r, String(i + 1));
    h('td', 'num', r, String(t.id));
    h('td', 'num', r, num(t.score));
    h('td', '', r, Object.keys(t.hyperparameters).map(function (k) { return k + '=' + val(t.hyperparameters[k]); }).join(', '));
  });
}
