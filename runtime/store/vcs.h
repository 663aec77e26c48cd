/* vcs.h: what version control says about a spec file — the commit its
 * repository's HEAD names and whether the spec differs from that commit.
 *
 * `hptc run` stores both beside the search (meta keys git_commit and
 * git_modified, docs/results.md).  The repository is read with libgit2 as
 * data: no git process is started and nothing the repository's configuration
 * names (core.fsmonitor, filter drivers, hooks) is ever executed. */
#ifndef HPTC_VCS_H
#define HPTC_VCS_H
#include "runtime/err.h"

typedef enum vcs_state {
    VCS_CLEAN,          /* the spec is as committed in HEAD */
    VCS_MODIFIED,       /* changed in the index, the work tree, or both */
    VCS_UNTRACKED,      /* not in the index: new, or ignored */
} vcs_state;

typedef struct vcs_info {
    char commit[65];    /* HEAD's object id in hex (40 digits for SHA-1) */
    vcs_state state;
} vcs_info;

/* Describe the file at spec_path (absolute, or relative to the working
 * directory; symlinks are resolved first) from the git repository whose
 * work tree holds it, found by searching up from its directory (a `.git`
 * directory, or a `.git` file as in linked worktrees and submodules).
 * Returns 1 and fills out; 0 when there is nothing to record (the file is in
 * no work tree, or HEAD names no commit yet); -1 with e filled when the
 * repository cannot be read (among others: libgit2, like git, refuses a
 * repository owned by another user unless safe.directory lists it). */
int vcs_describe(const char *spec_path, vcs_info *out, hpt_error *e);

/* The meta value of a state: "false", "true", "untracked". */
const char *vcs_state_name(vcs_state s);

#endif
