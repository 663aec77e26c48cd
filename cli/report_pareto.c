/* report_pareto.c: the report's Pareto section (issue 15, pareto): the
 * trials in objective space with the front drawn (two objectives: one
 * scatter; more: one per pair), and the hypervolume after each trial, as
 * inline SVG written here, so the page needs no script for it. */
#include "cli/front.h"

#include <math.h>
#include <string.h>

enum { W = 640, H = 360, PAD_L = 70, PAD_R = 16, PAD_T = 14, PAD_B = 42 };

typedef struct axis { double lo, hi; } axis;

static axis axis_of(const front *f, const store_trial *t, int k)
{
    axis a = { INFINITY, -INFINITY };
    for (int i = 0; i < f->n; i++) {
        double v = f->values[(size_t)i * f->set.n + k];
        if (strcmp(t[i].status, "completed") || isnan(v)) continue;
        a.lo = fmin(a.lo, v), a.hi = fmax(a.hi, v);
    }
    if (!(a.lo <= a.hi)) a.lo = 0, a.hi = 1;
    if (a.hi == a.lo) a.lo -= 0.5, a.hi += 0.5;
    double pad = (a.hi - a.lo) * 0.05;
    a.lo -= pad, a.hi += pad;
    return a;
}

static double px(axis a, double v, int w) { return PAD_L + (v - a.lo) / (a.hi - a.lo) * (w - PAD_L - PAD_R); }
static double py(axis a, double v, int h) { return h - PAD_B - (v - a.lo) / (a.hi - a.lo) * (h - PAD_T - PAD_B); }

static void frame(FILE *out, axis ax, axis ay, const char *xname, const char *yname, int w, int h)
{
    fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#9aa4b2\"/>", PAD_L, h - PAD_B, w - PAD_R, h - PAD_B);
    fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#9aa4b2\"/>", PAD_L, PAD_T, PAD_L, h - PAD_B);
    for (int k = 0; k <= 4; k++) {
        double vx = ax.lo + (ax.hi - ax.lo) * k / 4, vy = ay.lo + (ay.hi - ay.lo) * k / 4;
        fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.6g</text>", px(ax, vx, w), h - PAD_B + 16, vx);
        fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>", PAD_L - 6, py(ay, vy, h) + 4, vy);
    }
    fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>", (PAD_L + w - PAD_R) / 2, h - 6, xname);
    fprintf(out, "<text x=\"14\" y=\"%d\" transform=\"rotate(-90 14 %d)\" text-anchor=\"middle\">%s</text>", h / 2, h / 2, yname);
}

/* Objectives kx (across) and ky (up): every completed trial, the front's
 * trials filled and joined as the staircase they dominate. */
static void scatter(FILE *out, const front *f, const store_trial *t, int kx, int ky, int w, int h)
{
    axis ax = axis_of(f, t, kx), ay = axis_of(f, t, ky);
    fprintf(out, "<svg viewBox=\"0 0 %d %d\" style=\"max-width:%dpx\" role=\"img\" aria-label=\"%s against %s\">", w, h, w + 120, f->set.name[ky], f->set.name[kx]);
    frame(out, ax, ay, f->set.name[kx], f->set.name[ky], w, h);
    /* The staircase of the front in this pair: its points sorted along x. */
    int m = f->set.n, order[4096], n_front = 0;
    for (int i = 0; i < f->n && n_front < 4096; i++)
        if (f->on_front[i]) order[n_front++] = i;
    for (int i = 1; i < n_front; i++)
        for (int j = i; j > 0 && f->values[(size_t)order[j - 1] * m + kx] > f->values[(size_t)order[j] * m + kx]; j--) {
            int x = order[j];
            order[j] = order[j - 1], order[j - 1] = x;
        }
    if (m == 2 && n_front > 0) {
        /* With two objectives the front is a monotone staircase. */
        fputs("<polyline fill=\"none\" stroke=\"#d9480f\" stroke-width=\"1.5\" points=\"", out);
        for (int j = 0; j < n_front; j++) {
            double x = f->values[(size_t)order[j] * m + kx], y = f->values[(size_t)order[j] * m + ky];
            if (j) fprintf(out, "%.1f,%.1f ", px(ax, x, w), py(ay, f->values[(size_t)order[j - 1] * m + ky], h));
            fprintf(out, "%.1f,%.1f ", px(ax, x, w), py(ay, y, h));
        }
        fputs("\"/>", out);
    }
    for (int i = 0; i < f->n; i++) {
        double x = f->values[(size_t)i * m + kx], y = f->values[(size_t)i * m + ky];
        if (strcmp(t[i].status, "completed") || isnan(x) || isnan(y)) continue;
        fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\" fill-opacity=\"0.8\"><title>trial %d: %s %.6g, %s %.6g%s</title></circle>",
                px(ax, x, w), py(ay, y, h), f->on_front[i] ? 5 : 3, f->on_front[i] ? "#d9480f" : "#4c6ef5", t[i].id,
                f->set.name[kx], x, f->set.name[ky], y, f->on_front[i] ? " (on the front)" : "");
    }
    fputs("</svg>", out);
}

static void hypervolume_plot(FILE *out, const front *f, const store_trial *t)
{
    axis ax = { t[0].id, t[f->n - 1].id > t[0].id ? t[f->n - 1].id : t[0].id + 1 };
    axis ay = { 0, f->hypervolume > 0 ? f->hypervolume * 1.05 : 1 };
    fprintf(out, "<svg viewBox=\"0 0 %d %d\" style=\"max-width:%dpx\" role=\"img\" aria-label=\"hypervolume over trials\">", W, H, W + 120);
    frame(out, ax, ay, "trial", "hypervolume", W, H);
    fputs("<polyline fill=\"none\" stroke=\"#2b8a3e\" stroke-width=\"1.5\" points=\"", out);
    for (int i = 0; i < f->n; i++) fprintf(out, "%.1f,%.1f ", px(ax, t[i].id, W), py(ay, f->hypervolume_after[i], H));
    fputs("\"/></svg>", out);
}

void report_pareto_section(FILE *out, const front *f, const store_trial *t)
{
    if (!f->set.pareto || f->n == 0) return;
    fprintf(out, "<section class=\"card wide\" id=\"pareto\"><h2>Pareto front</h2><p class=\"note\">%d completed trial%s "
                 "on the front (filled, joined), the others blue; hover a point for its trial. Hypervolume %.6g "
                 "against the worst of each objective over the trials.</p>",
            f->n_front, f->n_front == 1 ? "" : "s", f->hypervolume);
    if (f->set.n == 2) {
        /* The cost across, the metric up, when the second objective is a cost. */
        int up = f->set.primary >= 0 ? f->set.primary : 0;
        scatter(out, f, t, 1 - up, up, W, H);
    } else {
        fputs("<div class=\"smalls\">", out);
        for (int a = 0; a < f->set.n; a++)
            for (int b = a + 1; b < f->set.n; b++) scatter(out, f, t, b, a, W / 2 + 60, H / 2 + 60);
        fputs("</div>", out);
    }
    fputs("</section>\n<section class=\"card wide\" id=\"hypervolume\"><h2>Hypervolume over trials</h2>"
          "<p class=\"note\">Of the front of trials up to each, under the final reference point.</p>", out);
    hypervolume_plot(out, f, t);
    fputs("</section>\n", out);
}
