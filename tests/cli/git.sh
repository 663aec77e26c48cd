#!/bin/sh
# hptc run notes the git commit of the spec and whether the spec differs from
# it (meta keys git_commit and git_modified, docs/results.md), and runs nothing
# the repository's configuration names while doing so: a .git/config with
# core.fsmonitor or a clean filter driver must not make hptc execute it.
# Checks the values for a committed, an edited, a staged, an untracked and an
# ignored spec; a spec given by an absolute or a relative path, from a
# subdirectory, through a symlinked directory, in a linked worktree, with a
# quote in its name; no record for stdin, outside a repository, before the
# first commit, and in a repository owned by another user (unless listed in
# safe.directory).
# Tiny RandomSearch runs (1 trial, 1 epoch, --limit 200).  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"
case $HPTC in /*) ;; *) HPTC=$PWD/$HPTC ;; esac
command -v git > /dev/null || { fail "git is not installed (.ci/deps.sh installs it)"; exit 1; }

# The test's own git: no user or system configuration, a fixed identity.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t \
       GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t

# spec NAME: a one-trial search whose project is $tmp/out/NAME (outside every repository).
spec() {
    mlp_spec "RandomSearch(objective = \"val_accuracy\", max_trials = 1, seed = 1, directory = \"$tmp/out\", project_name = \"$1\")" \
             "search(epochs = 1, validation_split = 0.2, batch_size = 32)"
}
# run NAME FILE [DIR]: hptc run FILE from DIR (default: here); the log ends with its exit status.
run() {
    (cd "${3:-.}" && "$HPTC" run --jobs 1 --limit 200 --overwrite "$2") > "$tmp/$1.log" 2>&1
    echo "exit $?" >> "$tmp/$1.log"
}
# ran NAME: run NAME completed its search and exited 0 (under ASan: without a leak).
ran() { grep -q '^Results summary' "$tmp/$1.log" && tail -1 "$tmp/$1.log" | grep -qx 'exit 0'; }
# meta NAME KEY: the meta value in the store of run NAME (the project its log
# names), as hptc report's data holds it ("" when absent).
meta() {
    "$HPTC" report "$(sed -n 's/^Results in //p' "$tmp/$1.log")" -o - 2>/dev/null | grep -o '"meta": {[^}]*}' | grep -o "\"$2\": \"[^\"]*\"" |
        sed 's/.*: "\(.*\)"/\1/'
}
# recorded NAME COMMIT MODIFIED: the run succeeded and stored exactly these.
recorded() {
    ran "$1" && [ "$(meta "$1" git_commit)" = "$2" ] &&
        [ "$(meta "$1" git_modified)" = "$3" ]
}

repo=$tmp/repo
git init -q "$repo"
mkdir "$repo/sub"
spec a > "$repo/a.hpt"
spec s > "$repo/sub/s.hpt"
echo '*.hpt filter=evil' > "$repo/.gitattributes"
echo 'ignored.hpt' > "$repo/.gitignore"
git -C "$repo" add . && git -C "$repo" commit -q -m one
head=$(git -C "$repo" rev-parse HEAD)

# The attack: configuration that makes `git status` run a command.  The spec's
# mtime changes so that git must hash it again (through the clean filter).
git -C "$repo" config core.fsmonitor "touch $tmp/pwned"
touch -m -d '2001-01-01 00:00' "$repo/a.hpt"
run fsmonitor "$repo/a.hpt"
check "core.fsmonitor in the spec's repository is not executed" "[ ! -e $tmp/pwned ]"
check "a committed spec (absolute path): git_commit is HEAD, git_modified false" "recorded fsmonitor $head false"
git -C "$repo" config --unset core.fsmonitor
git -C "$repo" config filter.evil.clean "touch $tmp/pwned2; cat"
touch -m -d '2002-01-01 00:00' "$repo/a.hpt"
run filter "$repo/a.hpt"
check "a clean filter driver named by .gitattributes is not executed" "[ ! -e $tmp/pwned2 ]"
check "with the filter configured, the unchanged spec is not modified" "recorded filter $head false"
git -C "$repo" config --unset filter.evil.clean

run relative a.hpt "$repo"
check "a spec given relative to the working directory" "recorded relative $head false"
run sub sub/s.hpt "$repo"
check "a spec in a subdirectory of the repository" "recorded sub $head false"
run subdir s.hpt "$repo/sub"
check "a spec run from its subdirectory" "recorded subdir $head false"
run updir ../a.hpt "$repo/sub"
check "a spec given as ../a.hpt" "recorded updir $head false"
ln -s "$repo" "$tmp/link"
run link "$tmp/link/sub/s.hpt"
check "a spec reached through a symlinked directory" "recorded link $head false"

echo '# edited' >> "$repo/sub/s.hpt"
run edited sub/s.hpt "$repo"
check "an edited spec: git_modified true" "recorded edited $head true"
git -C "$repo" add sub/s.hpt
run staged "$repo/sub/s.hpt"
check "an edit staged but not committed: git_modified true" "recorded staged $head true"
git -C "$repo" commit -q -m two
head2=$(git -C "$repo" rev-parse HEAD)
run committed "$repo/sub/s.hpt"
check "once committed: the new commit, git_modified false" "[ $head2 != $head ] && recorded committed $head2 false"

spec new > "$repo/new.hpt"
run untracked "$repo/new.hpt"
check "a spec git does not track: git_modified untracked" "recorded untracked $head2 untracked"
spec ign > "$repo/ignored.hpt"
run ignored "$repo/ignored.hpt"
check "a spec git ignores: git_modified untracked" "recorded ignored $head2 untracked"
spec quote > "$repo/it's.hpt"
git -C "$repo" add "it's.hpt" && git -C "$repo" commit -q -m three
run quote "$repo/it's.hpt"
check "a spec with a quote in its name" "recorded quote $(git -C "$repo" rev-parse HEAD) false"

run stdin - "$repo" < "$repo/a.hpt"
check "a spec read from stdin records no git keys" \
    "ran stdin && [ -z \"\$(meta stdin git_commit)\$(meta stdin git_modified)\" ]"

# A linked worktree (its .git is a file) on a branch of its own, one commit ahead.
git -C "$repo" worktree add -q -b side "$tmp/wt"
echo '# side' >> "$tmp/wt/a.hpt"
git -C "$tmp/wt" commit -q -a -m side
side=$(git -C "$tmp/wt" rev-parse HEAD)
run worktree "$tmp/wt/a.hpt"
check "a spec in a linked worktree: the worktree's HEAD" "[ $side != \$(git -C $repo rev-parse HEAD) ] && recorded worktree $side false"
echo '# more' >> "$tmp/wt/a.hpt"
run worktree2 "$tmp/wt/a.hpt"
check "an edited spec in a linked worktree: git_modified true" "recorded worktree2 $side true"

# A repository with no commit yet: nothing to name.
git init -q "$tmp/fresh"
spec fresh > "$tmp/fresh/f.hpt"
git -C "$tmp/fresh" add f.hpt
run fresh "$tmp/fresh/f.hpt"
check "a repository without a commit records no git keys" \
    "ran fresh && [ -z \"\$(meta fresh git_commit)\$(meta fresh git_modified)\" ]"

# A repository owned by another user is not read (git's safe.directory rule,
# which libgit2 applies), unless the user's ~/.gitconfig lists it.
if [ "$(id -u)" = 0 ]; then
    git init -q "$tmp/other"
    spec other > "$tmp/other/o.hpt"
    git -C "$tmp/other" add o.hpt && git -C "$tmp/other" commit -q -m other
    other=$(git -C "$tmp/other" rev-parse HEAD)
    chown -R 65534:65534 "$tmp/other"
    mkdir "$tmp/home"
    HOME=$tmp/home run owned "$tmp/other/o.hpt"
    check "a repository owned by another user records no git keys" \
        "ran owned && [ -z \"\$(meta owned git_commit)\" ]"
    printf '[safe]\n\tdirectory = %s\n' "$(cd "$tmp/other" && pwd -P)" > "$tmp/home/.gitconfig"
    HOME=$tmp/home run safe "$tmp/other/o.hpt"
    check "... unless safe.directory lists it" "recorded safe $other false"
else
    echo "SKIP: not root; no repository owned by another user"
fi

mkdir "$tmp/plain"
spec plain > "$tmp/plain/x.hpt"
if git -C "$tmp/plain" rev-parse > /dev/null 2>&1; then
    echo "SKIP: $tmp is inside a git repository; no test outside one"
else
    run plain "$tmp/plain/x.hpt"
    check "outside a repository no git keys are recorded" \
        "ran plain && [ -z \"\$(meta plain git_commit)\$(meta plain git_modified)\" ]"
fi
