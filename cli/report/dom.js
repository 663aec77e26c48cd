/* ---- DOM helpers: text is only ever set with textContent ---- */
function el(tag, attrs, parent, text) {
  var e = document.createElementNS(NS, tag);
  for (var k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function h(tag, cls, parent, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function svgBox(box, w, ht, name) {
  return el('svg', { viewBox: '0 0 ' + w + ' ' + ht, width: w, height: ht, 'data-plot': name }, box);
}
function num(v) {
  if (typeof v !== 'number' || !isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  var a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2).replace(/\.?0+e/, 'e').replace('e+', 'e');
  return String(parseFloat(v.toPrecision(4)));
}
function val(v) {
  if (v === undefined) return 'inactive';
  return typeof v === 'number' ? num(v) : typeof v === 'string' ? v : JSON.stringify(v);
}
function short(s, n) { return s.length > n ? s.slice(0, n - 1) + '\u2026' : s; }
function jitter(id) { return (Math.imul(id + 1, 2654435761) >>> 0) / 4294967296 - 0.5; }
