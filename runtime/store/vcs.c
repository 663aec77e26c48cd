/* vcs.c: a spec's git commit and state, read with libgit2 (see vcs.h).
 *
 * Why libgit2 and not `git status`: git runs commands the repository names
 * in its own .git/config (core.fsmonitor on every status, a filter driver's
 * clean command for each file it hashes), so a spec inside a repository from
 * elsewhere could make hptc run anything.  libgit2 1.5 starts no process at
 * all: it has no fsmonitor support, and its filters are the built-in crlf
 * and ident ones plus those the program registers in C (hptc registers
 * none), so `filter=x` attributes and filter.x.* settings are ignored.  Nor
 * does it write: git_status_file leaves the index as it was.
 *
 * Invariants: the repository is the one whose work tree holds the spec's
 * real path (GIT_DIR and the other GIT_* variables are not consulted, the
 * search stops at a file-system boundary, as git's does); the state is of
 * that path relative to the work tree; libgit2 is initialised and shut down
 * within each call, so nothing of it outlives vcs_describe. */
#include "runtime/store/vcs.h"

#include <git2.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

const char *vcs_state_name(vcs_state s)
{
    static const char *const names[] = { [VCS_CLEAN] = "false", [VCS_MODIFIED] = "true", [VCS_UNTRACKED] = "untracked" };
    return names[s];
}

static int git_fail(hpt_error *e, const char *spec_path, const char *what)
{
    const git_error *g = git_error_last();
    return hpt_fail(e, "%s: git: %s: %s", spec_path, what, g && g->message ? g->message : "unknown error");
}

/* Flags of git_status_file -> one state.  In the index but not in HEAD is a
 * change (`git add` of a new spec), not untracked. */
static vcs_state state_of(unsigned flags)
{
    if (flags == GIT_STATUS_CURRENT) return VCS_CLEAN;
    if (flags & (GIT_STATUS_WT_NEW | GIT_STATUS_IGNORED)) return VCS_UNTRACKED;
    return VCS_MODIFIED;
}

/* HEAD's commit and the spec's state in repo, whose work tree is workdir. */
static int describe_in(git_repository *repo, const char *spec_path, const char *real, vcs_info *out, hpt_error *e)
{
    const char *workdir = git_repository_workdir(repo);
    char root[PATH_MAX];
    if (!workdir || !realpath(workdir, root)) return 0;    /* bare, or a work tree gone */
    size_t n = strcmp(root, "/") ? strlen(root) : 0;        /* real + n is "/path/in/work/tree" */
    if (strncmp(real, root, n) || real[n] != '/') return 0; /* e.g. inside .git itself */

    git_oid head;
    int rc = git_reference_name_to_id(&head, repo, "HEAD");
    if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH) return 0;   /* no commit yet */
    if (rc < 0) return git_fail(e, spec_path, "reading HEAD");
    git_oid_tostr(out->commit, sizeof out->commit, &head);

    unsigned flags = 0;
    if (git_status_file(&flags, repo, real + n + 1) < 0) return git_fail(e, spec_path, "status");
    out->state = state_of(flags);
    return 1;
}

int vcs_describe(const char *spec_path, vcs_info *out, hpt_error *e)
{
    char real[PATH_MAX];
    if (!realpath(spec_path, real)) return 0;              /* not a file on disk (stdin) */
    char dir[PATH_MAX];
    strcpy(dir, real);
    *strrchr(dir, '/') = 0;                                /* realpath is absolute: there is one */
    if (!*dir) strcpy(dir, "/");

    if (git_libgit2_init() < 0) return git_fail(e, spec_path, "initialising libgit2");
    git_repository *repo = NULL;
    int rc = git_repository_open_ext(&repo, dir, 0, NULL);
    if (rc == GIT_ENOTFOUND) rc = 0;                       /* in no repository */
    else if (rc < 0) rc = git_fail(e, spec_path, "opening the repository");
    else rc = describe_in(repo, spec_path, real, out, e);
    git_repository_free(repo);
    git_libgit2_shutdown();
    return rc;
}
