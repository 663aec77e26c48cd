/* ---- tooltip: one div, filled from the trial under the pointer ---- */
var tip = document.getElementById('tip');
function trialText(t) {
  var lines = ['Trial ' + t.id + ' \u00b7 ' + t.status];
  if (typeof t.score === 'number') lines.push(OBJ + ' = ' + num(t.score) + ' (epoch ' + (t.best_epoch + 1) + ')');
  if (t.bracket >= 0) lines.push('bracket ' + t.bracket + ', round ' + t.round + (t.parent >= 0 ? ', promoted from trial ' + t.parent : ''));
  for (var k in t.hyperparameters) lines.push(k + ' = ' + val(t.hyperparameters[k]));
  if (t.reason) lines.push(t.reason);
  return lines.join('\n');
}
function place(ev) {
  var x = ev.clientX + 14, y = ev.clientY + 14;
  if (x + tip.offsetWidth > window.innerWidth) x = ev.clientX - tip.offsetWidth - 14;
  if (y + tip.offsetHeight > window.innerHeight) y = ev.clientY - tip.offsetHeight - 14;
  tip.style.left = x + 'px';
  tip.style.top = y + 'px';
}
document.addEventListener('mouseover', function (ev) {
  var n = ev.target.closest ? ev.target.closest('[data-trial],[data-tip]') : null;
  if (!n || (n.hasAttribute('data-trial') && !byId[n.getAttribute('data-trial')])) { tip.hidden = true; return; }
  tip.textContent = n.hasAttribute('data-trial') ? trialText(byId[n.getAttribute('data-trial')]) : n.getAttribute('data-tip');
  tip.hidden = false;
  place(ev);
});
document.addEventListener('mousemove', function (ev) { if (!tip.hidden) place(ev); });
