/* test_pareto.c: non-dominated sorting, hypervolume, hypervolume subset
 * selection and crowding against answers worked out by hand (issue 15). */
#include "runtime/tune/pareto.h"
#include "stdlib/objectives.h"
#include "tests/unit/check.h"

#include <math.h>
#include <string.h>

static void test_rank(void)
{
    /* (1,5) (2,3) (4,1) form the front; (3,4) is beaten by (2,3); (5,5) by all. */
    const double p[] = { 1, 5, 2, 3, 3, 4, 4, 1, 5, 5 };
    int rank[5];
    int fronts = pareto_rank(p, 5, 2, rank);
    CHECK(fronts == 3, "three fronts (got %d)", fronts);
    CHECK(rank[0] == 0 && rank[1] == 0 && rank[3] == 0, "the front is points 0, 1, 3");
    CHECK(rank[2] == 1, "(3,4) is in the second front (got %d)", rank[2]);
    CHECK(rank[4] == 2, "(5,5) is in the third front (got %d)", rank[4]);
    const double same[] = { 1, 1, 1, 1 };
    pareto_rank(same, 2, 2, rank);
    CHECK(rank[0] == 0 && rank[1] == 0, "equal points do not dominate each other");
    CHECK(pareto_dominates((const double[]){ 1, 2 }, (const double[]){ 1, 3 }, 2), "(1,2) dominates (1,3)");
    CHECK(!pareto_dominates((const double[]){ 1, 3 }, (const double[]){ 2, 2 }, 2), "(1,3) does not dominate (2,2)");
}

static void test_hypervolume(void)
{
    /* Reference (6,6): the staircase of (1,5) (2,3) (4,1): 5*1 + 4*2 + 2*2 = 17. */
    const double p[] = { 1, 5, 2, 3, 3, 4, 4, 1, 5, 5 };
    const double ref[] = { 6, 6 };
    CHECK_NEAR(pareto_hypervolume(p, 5, 2, ref), 17, 1e-12, "2-D hypervolume of a staircase is 17");
    CHECK_NEAR(pareto_hypervolume(p, 0, 2, ref), 0, 0, "no points, no volume");
    const double out[] = { 7, 1 };
    CHECK_NEAR(pareto_hypervolume(out, 1, 2, ref), 0, 0, "a point outside the reference adds nothing");
    /* 3-D: a unit cube's corner (0,0,0) with ref (1,1,1) is 1; add (0.5,0.5,-1)
     * with ref z 1: its box is 0.5*0.5*2 = 0.5, overlapping the cube by 0.25 -> 1.25. */
    const double c[] = { 0, 0, 0, 0.5, 0.5, -1 };
    const double r3[] = { 1, 1, 1 };
    CHECK_NEAR(pareto_hypervolume(c, 1, 3, r3), 1, 1e-12, "3-D box of one point");
    CHECK_NEAR(pareto_hypervolume(c, 2, 3, r3), 1.25, 1e-12, "3-D union of two boxes is 1.25");
    /* 3-D against the 2-D answer: every point at z = 0, ref z = 2 doubles the area. */
    const double flat[] = { 1, 5, 0, 2, 3, 0, 4, 1, 0 };
    const double rf[] = { 6, 6, 2 };
    CHECK_NEAR(pareto_hypervolume(flat, 3, 3, rf), 34, 1e-12, "3-D slab is twice the 2-D staircase");
}

static void test_select(void)
{
    /* With ref (6,6): (2,3) alone covers 4*3 = 12, more than (1,5)'s 5 or (4,1)'s 10. */
    const double p[] = { 1, 5, 2, 3, 4, 1 };
    const double ref[] = { 6, 6 };
    int chosen[2];
    CHECK(pareto_select_by_hypervolume(p, 3, 2, ref, 2, chosen) == 0, "selection runs");
    CHECK(chosen[0] == 1, "first pick is (2,3) (got %d)", chosen[0]);
    /* Then (4,1) adds 2*2 = 4, (1,5) adds 1*1 = 1. */
    CHECK(chosen[1] == 2, "second pick is (4,1) (got %d)", chosen[1]);
}

static void test_crowding(void)
{
    const double p[] = { 0, 4, 1, 3, 3, 1, 4, 0 };
    double d[4];
    pareto_crowding(p, 4, 2, d);
    CHECK(isinf(d[0]) && isinf(d[3]), "the extremes are infinitely far");
    /* Point 1: (3-0)/4 + (4-1)/4 = 1.5; point 2: (4-1)/4 + (3-0)/4 = 1.5. */
    CHECK_NEAR(d[1], 1.5, 1e-12, "crowding distance of (1,3)");
    CHECK_NEAR(d[2], 1.5, 1e-12, "crowding distance of (3,1)");
}

static void test_objectives_text(void)
{
    objective_set s;
    CHECK(objectives_parse("val_accuracy max, params min", &s) == 0 && s.n == 2, "meta text parses");
    CHECK(s.pareto && s.maximize[0] == 1 && s.maximize[1] == 0 && s.kind[1] == OBJ_PARAMS && s.primary == 0,
          "directions, kinds and the primary metric come back");
    char buf[128];
    objectives_format(&s, buf, sizeof buf);
    CHECK(!strcmp(buf, "val_accuracy max, params min"), "formats back to the same text (got %s)", buf);
}

int main(void)
{
    test_rank();
    test_hypervolume();
    test_select();
    test_crowding();
    test_objectives_text();
    return check_exit();
}
