/* hyperband.h: Keras Tuner's Hyperband schedule, exactly.
 *
 * For max_epochs R and factor f, there are B = #{R/f^k >= 1} brackets,
 * run from the most exploratory (b = B-1) down to b = 0.  Bracket b has b+1
 * rounds; round r trains ceil(s_b * f^(b-r)) trials for ceil(R / f^(b-r))
 * epochs, where s_b = ceil(1 + log_f R) / (b + 1).  Trials of round r > 0 are
 * the best of round r-1, promoted: they continue from their parent's weights,
 * so they train epochs(r) - epochs(r-1) more epochs.  For R = 10, f = 3 this
 * gives 12@2 -> 4@4 -> 2@10, 6@4 -> 2@10, 4@10: 30 trials, 120 epochs. */
#ifndef HPTC_HYPERBAND_H
#define HPTC_HYPERBAND_H

typedef struct hb_round {
    int bracket;        /* b, counting down */
    int round;          /* r within the bracket */
    int trials;         /* trials in this round */
    int epochs;         /* each trial's total epochs at the end of the round */
    int initial_epoch;  /* epochs already trained by the parent (0 in round 0) */
} hb_round;

/* The rounds of one Hyperband iteration, in the order they run.  Returns the
 * count, or -1 when it would exceed cap (cap = 64 is always enough for
 * max_epochs <= 1e6 with factor >= 2). */
int hb_schedule(int max_epochs, int factor, hb_round *out, int cap);
/* Totals over `iterations` iterations: trials and epochs actually trained. */
void hb_totals(int max_epochs, int factor, int iterations, long *trials, long *epochs);

#endif
