# shellcheck shell=bash
# What every lab script shares; sourced by tests/labs/NN-*.sh, not run.
#
# A lab is a lesson and a test. Run by hand it prints each step's command,
# what the command printed and what to look at; with --check it also asserts
# each step's outcome and exits non-zero at the first failure.
#
# Everything a lab makes (temp dirs, background processes, cgroups, ...) is
# registered with `undo` the moment it exists. The undo list is a file: it is
# replayed newest first when the lab ends, also on INT and TERM, and by the
# next run of the same lab if this one was killed (SIGKILL) before it could.
#
# Our binaries come from BOXUTILS_BIN_DIR when set, else from PATH.

set -uo pipefail # not -e: a step's failure is judged by the step

LAB_CHECK=0      # 1 with --check
LAB_UNEXPECTED=0 # lesson mode: results that were not as described
LAB_STEP=0
LAB_SCRIPT=$(readlink -f "$0")
if [ -n "${BOXUTILS_BIN_DIR:-}" ]; then
    PATH=$BOXUTILS_BIN_DIR:$PATH
fi
export PATH LC_ALL=C

# lab_start NN TITLE [--mountns] [--netns] [--ipcns] [--rootless] -- "$@"
# Reads the lab's options, clears what a killed run left, and (as root)
# re-runs the lab in a mount namespace of its own (--mountns), plus a
# network namespace with lo up and a private /run/netns (--netns), plus an
# IPC namespace (--ipcns): nothing the lab mounts or links reaches the host.
# --rootless labs run as an ordinary user: as root, they re-run themselves
# as nobody through setpriv.
lab_start() {
    LAB=$1 LAB_TITLE=$2
    shift 2
    local unshare=() rootless=0
    while [ $# -gt 0 ]; do
        case $1 in
        --mountns) unshare+=(-m) ;;
        --netns) unshare+=(-m -n) ;;
        --ipcns) unshare+=(-m -i) ;;
        --rootless) rootless=1 ;;
        --) shift && break ;;
        esac
        shift
    done
    local arg
    for arg; do
        case $arg in
        --check) LAB_CHECK=1 ;;
        -h | --help)
            echo "usage: $0 [--check]"
            echo "Lab $LAB: $LAB_TITLE. Prints each step's command, its output and what to look at;"
            echo "--check asserts each step's outcome and exits non-zero at the first failure."
            exit 0
            ;;
        *) echo "usage: $0 [--check]" >&2 && exit 2 ;;
        esac
    done
    if [ "$rootless" = 1 ] && [ "$(id -u)" = 0 ] && [ -z "${LAB_INSIDE:-}" ]; then
        echo "lab $LAB: a lesson for an ordinary user; as root, it runs itself as nobody:"
        echo "\$ setpriv --reuid 65534 --regid 65534 --clear-groups bash $0 $*"
        export LAB_INSIDE=1
        exec setpriv --reuid 65534 --regid 65534 --clear-groups bash "$LAB_SCRIPT" "$@"
    fi
    if [ "$rootless" = 0 ] && [ "$(id -u)" != 0 ]; then
        echo "lab $LAB: run me as root (as root, the labs touch only what they make)" >&2
        exit 1
    fi
    LAB_STATE=${BOXUTILS_LAB_STATE:-/run/boxutils-labs}
    [ "$(id -u)" = 0 ] || LAB_STATE=${BOXUTILS_LAB_STATE:-${TMPDIR:-/tmp}/boxutils-labs-$(id -u)}
    LAB_UNDO=$LAB_STATE/$LAB.undo
    if [ -z "${LAB_INSIDE:-}" ] || [ "$rootless" = 1 ]; then
        echo "== Lab $LAB: $LAB_TITLE =="
        lab_claim
    fi
    if [ ${#unshare[@]} -gt 0 ] && [ -z "${LAB_INSIDE:-}" ]; then
        need runshare
        echo
        echo "This lab runs in namespaces of its own, so nothing it makes can reach the host:"
        echo "\$ runshare ${unshare[*]} bash $0 $*"
        export LAB_INSIDE=1
        # Without -f runshare execs the lab in place: same PID, same claim.
        exec runshare "${unshare[@]}" bash "$LAB_SCRIPT" "$@"
    fi
    trap lab_exit EXIT
    trap 'lab_interrupted INT 130' INT
    trap 'lab_interrupted TERM 143' TERM
    case " ${unshare[*]} " in
    *" -n "*)
        # A private /run/netns: the named namespaces die with the lab.
        { mkdir -p /run/netns && mount -t tmpfs -o mode=755 tmpfs /run/netns && ip link set lo up; } ||
            lab_fail "cannot set up the lab's network namespace"
        ;;
    esac
}

# Claims the lab's state (one run at a time) and replays the undo list a
# killed run left behind, saying so.
lab_claim() {
    mkdir -p "$LAB_STATE" || lab_fail "cannot make $LAB_STATE"
    local lock=$LAB_STATE/$LAB.run pid start
    if read -r pid start 2>/dev/null <"$lock"; then
        if [ "$(proc_start "$pid")" = "$start" ]; then
            echo "lab $LAB: already running as pid $pid" >&2
            exit 1
        fi
        if [ -s "$LAB_UNDO" ]; then
            echo "lab $LAB: an earlier run (pid $pid) was killed before it cleaned up; clearing what it left:"
            lab_undo_all say
        fi
    fi
    echo "$$ $(proc_start $$)" >"$lock"
}

# The start time of PID (field 22 of its stat), empty when it is gone: with
# the PID, it names one process even after the PID is reused.
proc_start() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    # shellcheck disable=SC2086 # split into fields on purpose
    set -- $stat
    echo "${20}"
}

lab_interrupted() {
    echo
    echo "lab $LAB: interrupted by SIG$1; undoing what it made:"
    LAB_SAY_UNDO=1
    exit "$2"
}

lab_exit() {
    local rc=$?
    trap - EXIT INT TERM
    lab_undo_all "${LAB_SAY_UNDO:-}"
    rm -f "$LAB_STATE/$LAB.run"
    if [ "$rc" = 0 ] && [ "$LAB_UNEXPECTED" != 0 ]; then
        echo "lab $LAB: $LAB_UNEXPECTED result(s) were not as described (see UNEXPECTED above)"
        rc=1
    fi
    exit "$rc"
}

# undo DESCRIPTION COMMAND: COMMAND undoes what was just made.
undo() {
    printf '%s\t%s\n' "$1" "$2" >>"$LAB_UNDO" || lab_fail "cannot write $LAB_UNDO"
}

# Replays the undo list newest first, then empties it; with "say", names
# each undo as it runs. An undo that fails says so; the rest still run.
lab_undo_all() {
    [ -s "$LAB_UNDO" ] || return 0
    local what cmd
    while IFS=$'\t' read -r what cmd; do
        [ -n "$1" ] && echo "  undo: $what"
        eval "$cmd" || echo "lab $LAB: could not undo: $what" >&2
    done < <(tac "$LAB_UNDO")
    rm -f "$LAB_UNDO"
}

# kill_tree PID START: kills PID and its descendants, if PID still is the
# process that started at START (so a reused PID is left alone).
kill_tree() {
    [ "$(proc_start "$1")" = "$2" ] || return 0
    local pids=("$1") i=0 child
    while [ "$i" -lt ${#pids[@]} ]; do
        for child in $(cat /proc/"${pids[$i]}"/task/*/children 2>/dev/null); do
            pids+=("$child")
        done
        i=$((i + 1))
    done
    kill -KILL "${pids[@]}" 2>/dev/null
    # Reap it if it is ours (quietly: no "Killed" job notice), else wait
    # until the kernel has taken it, so that its namespaces go too.
    wait "$1" 2>/dev/null
    for i in $(seq 100); do
        kill -0 "$1" 2>/dev/null || return 0
        [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ] && return 0
        sleep 0.05
    done
}

# lab_tmpdir: a fresh work directory (mode 755), removed when the lab ends;
# the lab runs in it, so the commands it shows use short relative paths.
lab_tmpdir() {
    LAB_WORK=$(mktemp -d "${TMPDIR:-/tmp}/boxutils-lab$LAB.XXXXXX") || lab_fail "mktemp failed"
    # --one-file-system: never into a mount the lab failed to undo.
    undo "remove $LAB_WORK" "rm -rf --one-file-system '$LAB_WORK'"
    chmod 755 "$LAB_WORK"
    cd "$LAB_WORK" || lab_fail "cannot enter $LAB_WORK"
}

# lab_mounted DIR: DIR was just mounted; it is detached when the lab ends
# (if it still is mounted then).
lab_mounted() {
    local dir
    dir=$(readlink -f "$1")
    undo "unmount $1" "! mountpoint -q '$dir' || umount -l '$dir'"
}

# lab_bg COMMAND: starts COMMAND in the background; its PID is in LAB_BG and
# it (with what it started) is killed when the lab ends.
lab_bg() {
    show "$1 &"
    eval "exec $1" &
    LAB_BG=$!
    undo "kill $1 (pid $LAB_BG)" "kill_tree $LAB_BG $(proc_start $LAB_BG)"
}

# wait_until CONDITION: waits (up to 20 s) until the shell text CONDITION
# holds, for what the kernel does in its own time (a network namespace is
# torn down in the background after its last user is gone).
wait_until() {
    local _
    for _ in $(seq 200); do
        eval "$1" && return 0
        sleep 0.1
    done
    return 1
}

# need TOOL...: every TOOL is on PATH, else the lab cannot run (exit 77,
# automake's "skipped").
need() {
    local t
    for t; do
        command -v "$t" >/dev/null || {
            echo "lab $LAB: SKIP: $t is not installed (or not built yet: set BOXUTILS_BIN_DIR)"
            exit 77
        }
    done
}

say() {
    echo
    printf '%s\n' "$*" | fold -s -w 78 | sed 's/ *$//'
}

show() {
    echo
    echo "\$ $1"
}

# run COMMAND: shows COMMAND, runs it (a shell text, evaluated), shows what
# it printed; OUT holds its output (stdout and stderr), RC its exit status.
# The step must succeed; run_fails: the step must fail.
run() {
    lab_do "$1"
    [ "$RC" = 0 ] || lab_unexpected "step $LAB_STEP: \`$1\` failed (exit $RC)"
}

run_fails() {
    lab_do "$1"
    echo "(exit $RC)"
    [ "$RC" != 0 ] || lab_unexpected "step $LAB_STEP: \`$1\` succeeded"
}

lab_do() {
    LAB_STEP=$((LAB_STEP + 1))
    show "$1"
    OUT=$(eval "$1" 2>&1 </dev/null)
    RC=$?
    [ -z "$OUT" ] || printf '%s\n' "$OUT"
    hook_stop
}

# look TEXT: what to look at in the output above.
look() {
    printf '  look: %s\n' "$*" | fold -s -w 72 | sed 's/ *$//; 2,$s/^/        /'
}

# expect DESCRIPTION TEST...: TEST (a command, e.g. `[ a = b ]`) holds.
expect() {
    local what=$1
    shift
    if "$@"; then
        echo "  ok: $what"
    else
        lab_unexpected "step $LAB_STEP: expected: $what"
    fi
}

# Check mode: the lab fails here. Lesson mode: it says so and goes on.
lab_unexpected() {
    if [ "$LAB_CHECK" = 1 ]; then
        lab_fail "$1"
    fi
    echo "  UNEXPECTED: $1"
    LAB_UNEXPECTED=$((LAB_UNEXPECTED + 1))
}

# expect_out DESCRIPTION REGEX: the last step's output matches (grep -E);
# expect_no_out: it does not.
expect_out() { expect "$1" grep -Eq -- "$2" <<<"$OUT"; }
expect_no_out() { expect "$1" lab_not grep -Eq -- "$2" <<<"$OUT"; }
lab_not() { ! "$@"; }

lab_fail() {
    echo "lab $LAB: FAILED: $*" >&2
    exit 1
}

lab_done() {
    echo
    if [ "$LAB_UNEXPECTED" = 0 ]; then
        echo "lab $LAB: done, every step as described; cleaning up."
    fi
}

# For the test suite: with BOXUTILS_LAB_STOP_AT=N the lab stops after step N
# and waits to be killed, so that a test interrupts it at a known point.
hook_stop() {
    [ "${BOXUTILS_LAB_STOP_AT:-}" = "$LAB_STEP" ] || return 0
    sleep 600 &
    undo "kill the stop hook's sleep" "kill_tree $! $(proc_start $!)"
    echo "lab $LAB: stopped after step $LAB_STEP (BOXUTILS_LAB_STOP_AT), waiting to be killed"
    wait $!
}

# make_rootfs DIR: a small root file system without any download: Debian's
# busybox-static (or any busybox, copied with its libraries) with a link per
# applet, else the host's sh, ls, ps, ... with their libraries; both through
# `rchroot --install`.
make_rootfs() {
    local dir=$1 bb
    mkdir -p "$dir"/{bin,dev,etc,proc,sys,tmp,root}
    if bb=$(command -v busybox); then
        rchroot --install "$dir" "$bb" >/dev/null || return 1
        [ -x "$dir/bin/busybox" ] || ln -s "$bb" "$dir/bin/busybox"
        local applet
        for applet in $("$bb" --list); do
            [ -e "$dir/bin/$applet" ] || ln -s busybox "$dir/bin/$applet"
        done
    else
        rchroot --install "$dir" sh ls ps cat id hostname mkdir rm sleep ping >/dev/null || return 1
    fi
    if [ "$(id -u)" = 0 ]; then
        mknod -m 666 "$dir/dev/null" c 1 3 && mknod -m 666 "$dir/dev/zero" c 1 5 || return 1
    fi
    echo "root:x:0:0:root:/root:/bin/sh" >"$dir/etc/passwd"
    echo "root:x:0:" >"$dir/etc/group"
}

# cg_files PID: the memory, CPU and task limit files of PID's cgroups, on
# cgroup v1 (a hierarchy per controller) or v2 (one tree with controllers).
cg_files() {
    local ctrls path root=/sys/fs/cgroup
    while IFS=: read -r _ ctrls path; do
        case ",$ctrls," in
        *,memory,*) echo "$root/memory$path/memory.limit_in_bytes" ;;
        *,pids,*) echo "$root/pids$path/pids.max" ;;
        *,cpu,*) echo "$root/cpu$path/cpu.cfs_quota_us" "$root/cpu$path/cpu.cfs_period_us" ;;
        ,,) [ -e "$root/cgroup.controllers" ] && echo "$root$path/"{memory.max,cpu.max,pids.max} ;;
        esac
    done <"/proc/$1/cgroup" | tr ' ' '\n' | sed 's|/\./|/|; s|//*|/|g'
}

# lab_child PID COMMAND: waits until PID's first child runs COMMAND (its
# argv joined by spaces, a glob pattern), and sets LAB_CHILD to its PID.
lab_child() {
    local child argv _
    for _ in $(seq 200); do
        child=$(cat "/proc/$1/task/$1/children" 2>/dev/null) child=${child%% *}
        argv=$(tr '\0' ' ' <"/proc/$child/cmdline" 2>/dev/null)
        # shellcheck disable=SC2053 # a pattern on purpose
        if [ -n "$child" ] && [[ ${argv% } == $2 ]]; then
            # shellcheck disable=SC2034 # for the lab
            LAB_CHILD=$child
            return 0
        fi
        sleep 0.05
    done
    lab_fail "no child of $1 runs $2"
}

# ns_other PID TYPE...: how many of PID's namespaces of these types are
# not the lab's own.
ns_other() {
    local pid=$1 t n=0
    shift
    for t; do
        [ "$(stat -Lc %i "/proc/$pid/ns/$t")" = "$(stat -Lc %i "/proc/$$/ns/$t")" ] || n=$((n + 1))
    done
    echo "$n"
}

# cg_remove NAME: removes every cgroup named NAME (in any hierarchy) after
# killing what runs in it; for the undo of a command that rcgexec (killed
# itself) could not clean up after.
cg_remove() {
    local dir pid
    while read -r dir; do
        for pid in $(cat "$dir/cgroup.procs" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        for _ in $(seq 100); do rmdir "$dir" 2>/dev/null && break; sleep 0.05; done
    done < <(find /sys/fs/cgroup -depth -type d -name "$1" 2>/dev/null)
}
