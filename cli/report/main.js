/* One section failing must not take the others with it. */
[['summary-body', summary], ['plot-history', plotHistory], ['plot-importance', plotImportance], ['plot-parallel', plotParallel],
 ['plot-scatter', plotScatter], ['plot-curves', plotCurves], ['plot-hyperband', plotHyperband],
 ['plot-timeline', plotTimeline]].forEach(function (s) {
  var box = document.getElementById(s[0]);
  try { s[1](box); } catch (e) { errors.push(s[0] + ': ' + e.message); h('p', 'error', box, 'Could not draw this plot: ' + e.message); }
});
var root = document.documentElement;
if (errors.length) root.setAttribute('data-render-errors', errors.join(' | '));
root.setAttribute('data-render-ms', performance.now().toFixed(1));
})();
