(function () {
'use strict';
var D = JSON.parse(document.getElementById('hptc-data').textContent);
var NS = 'http://www.w3.org/2000/svg';
var OBJ = D.objective.name, MAX = D.objective.direction === 'max';
var trials = D.trials, byId = {}, errors = [];
trials.forEach(function (t) { byId[t.id] = t; });
var done = trials.filter(function (t) { return t.status === 'completed' && typeof t.score === 'number'; });
/* Completed trials from worst to best: drawn in that order, the best end on top. */
var ranked = done.slice().sort(function (a, b) { return MAX ? a.score - b.score : b.score - a.score; });
var best = ranked.length ? ranked[ranked.length - 1] : null;
