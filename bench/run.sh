#!/usr/bin/env bash
# Runs every benchmark in bench/ against its anchor in one go and prints one
# table: measure, ours, anchor (medians), ratio, goal, met. As root, from
# anywhere:   bash bench/run.sh [SCRIPT...]      (default: every bench/*.sh)
# Each script's own output goes to a log, named at the end.
#
# The protocol, so that a new bench/<tool>.sh is picked up with no edit here:
# - a script times each pair with `hyperfine`, ours and the anchor in one
#   call (two commands, in either order); ours is the command whose name
#   (-n), else command, starts with a workspace binary (a page in man/: a
#   path or the bare name), the anchor the other;
# - run.sh puts a `hyperfine` of its own first on PATH. Before the real one
#   times anything it runs each command once (after its --prepare, with its
#   --shell or -N) and stops the script when either fails (unless the script
#   passed -i: then a failed run is tried again) or when their outputs
#   differ once digits, tool names and runs of blanks are made alike (up to
#   five tries: the host may change between the two runs). Then it adds
#   --export-json and the table is made from that;
# - the script's exit status counts: a failed script is a FAILED row;
# - the goal of a measure is a ratio (ours/anchor) of at most 1.00 unless
#   GOALS below says otherwise (README's claims).
# Timings are hyperfine's. A pair of 20 runs or more is timed in up to ten
# blocks, the two commands' order swapped each block, so that the load of
# a busy machine falls on both alike (see the wrapper); fewer runs: one
# call, all runs of one command then the other's. Medians either way.
# Every script runs in private mount, network, IPC and UTS namespaces
# (`unshare -mniu`), so what it leaves there dies with them; its temp files
# are its own to clean up (trap ... EXIT), as the tests do.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

# "script: measure" pattern (Python re) and its goal, first match wins; "-":
# no goal of its own (a phase shown to say where the time goes, or a build
# option measured to be seen).
GOALS=(
    'rlsns\.sh: rlsns -t net' 1.00
    'rlsns\.sh: .*\([0-9]+ processes\)' 0.20
    'rvethpair\.sh: rvethpair setup\+teardown$' 0.33
    'rvethpair\.sh: ' -
    'rcgexec\.sh: rcgexec \(vs libcgroup\)' 0.50
    # The multi-call binary is a build option whose start-up the issue asks
    # to measure; the goal of 1.00 is the separate binaries' (rchroot.sh,
    # runshare.sh), the ones the package installs.
    'multicall\.sh: ' -
    'rcgexec\.sh: rcgexec \(vs shell\)' 1.00
    '.' 1.00
)

[ "$(id -u)" = 0 ] || { echo "bench/run.sh: run as root" >&2; exit 1; }
missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
[ -x /usr/bin/time ] || missing+=(time)
command -v python3 >/dev/null || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ $# -gt 0 ]; then scripts=("$@"); else
    scripts=()
    for s in bench/*.sh; do [ "$s" = bench/run.sh ] || scripts+=("$s"); done
fi
# The same build as every script's: one feature set, no rebuild between them.
cargo build --release --quiet --workspace --exclude xtask --bins
export BOXUTILS_BIN_DIR=$top/target/release

work=$(mktemp -d /tmp/boxutils-bench-run.XXXXXX)
logs=$top/target/bench-logs
mkdir -p "$work/bin" "$logs"
trap 'rm -rf "$work"' EXIT
tools=$(cd man && ls | sed 's/\.[18]$//' | paste -sd'|')

cat >"$work/bin/hyperfine" <<'PY'
#!/usr/bin/env python3
"""hyperfine for bench/run.sh: checks a pair, then times it with --export-json."""
import json, os, re, shlex, subprocess, sys

args = sys.argv[1:]
VALUED = {"-w", "--warmup", "-m", "--min-runs", "-M", "--max-runs", "-r", "--runs",
          "-s", "--setup", "-p", "--prepare", "-c", "--cleanup", "-D",
          "--parameter-step-size", "--style", "-S", "--shell", "-u", "--time-unit",
          "--export-asciidoc", "--export-csv", "--export-json", "--export-markdown",
          "--export-orgmode", "--output", "-n", "--command-name", "--sort"}
# Options that stay as given in every block (see below): `common`.
PER_COMMAND = {"-n", "--command-name", "-p", "--prepare"}
RUNS = {"-r", "--runs", "-m", "--min-runs", "-M", "--max-runs"}
commands, names, prepares, opts, common, i = [], [], [], {}, [], 0
while i < len(args):
    a = args[i]
    if a in ("-P", "--parameter-scan"):
        common += args[i:i + 4]; i += 4; continue
    if a in ("-L", "--parameter-list"):
        common += args[i:i + 3]; i += 3; continue
    if a in VALUED and i + 1 < len(args):
        v = args[i + 1]
        {"-n": names, "--command-name": names, "-p": prepares, "--prepare": prepares}.get(
            a, []).append(v)
        opts[a] = v
        if a not in PER_COMMAND | RUNS and not a.startswith("--export"):
            common += [a, v]
        i += 2; continue
    if a.startswith("-"):
        opts[a] = True
        common.append(a)
    else:
        commands.append(a)
    i += 1
real = os.environ["BENCH_REAL_HYPERFINE"]
tools = re.compile(r"\b(" + os.environ["BENCH_TOOLS"] + r")\b")
label = lambda k: names[k] if k < len(names) else commands[k]
program = lambda k: os.path.basename((label(k).split() or [""])[0])
ours = [k for k in range(len(commands)) if tools.fullmatch(program(k))]
if len(commands) != 2 or len(ours) != 1:
    os.execv(real, [real] + args)  # not a pair of ours and an anchor: time it, no row
anchor = 1 - ours[0]
shell = opts.get("-S") or opts.get("--shell") or "sh"
raw = "-N" in opts or shell == "none"
ignore = "-i" in opts or "--ignore-failure" in opts

def once(k):
    if prepares:
        subprocess.run([shell, "-c", prepares[k] if len(prepares) > 1 else prepares[0]],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    argv = shlex.split(commands[k]) if raw else [shell, "-c", commands[k]]
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True)
    if r.returncode:
        why = (f"bench: `{label(k)}` failed before timing (exit {r.returncode}): "
               f"{r.stderr.decode(errors='replace').strip()[:300]}")
        if not ignore:
            sys.exit(why)
        return why  # -i: the script expects failures at times; try again
    text = r.stdout.decode(errors="replace")
    first = os.path.basename(shlex.split(commands[k])[0]) if commands[k].strip() else ""
    for name in {first, *tools.findall(text)}:
        if name:
            text = re.sub(r"\b" + re.escape(name) + r"\b", "TOOL", text)
    return re.sub(r"[ \t]+", " ", re.sub(r"\d+", "N", text))

for attempt in range(5):
    a, b = once(ours[0]), once(anchor)
    if a == b:
        break
else:
    diff = [f"  ours:   {x}\n  anchor: {y}" for x, y in zip(a.splitlines() + ["<end>"],
            b.splitlines() + ["<end>"]) if x != y][:3]
    sys.exit(f"bench: `{label(ours[0])}` and `{label(anchor)}` give different results:\n"
             + "\n".join(diff))

given = opts.get("--export-json")
n = len(os.listdir(os.environ["BENCH_RESULTS"]))
out = given or os.path.join(os.environ["BENCH_RESULTS"], f"{n:03}.json")

# Paired in blocks: a pair of R runs each (R >= 20) is timed as up to ten
# hyperfine calls of R/10 runs, the two commands' order swapped from one
# call to the next, so that a drift of the machine's load falls on both
# alike; the times are merged into one export, as one call would write it.
runs = next((int(opts[o]) for o in ("-r", "--runs", "-m", "--min-runs") if o in opts), 0)
blocks = min(10, runs // 10)
if blocks < 2:
    r = subprocess.run([real] + args + ([] if given else ["--export-json", out]))
else:
    times = [[], []]
    exit_codes = [[], []]
    for b in range(blocks):
        order = [0, 1] if b % 2 == 0 else [1, 0]
        call = [real] + common + ["--runs", str(-(-runs // blocks))]
        for k in order:
            if k < len(names):
                call += ["-n", names[k]]
            if len(prepares) > 1:
                call += ["-p", prepares[k]]
        if len(prepares) == 1:
            call += ["-p", prepares[0]]
        part = out + f".{b}"
        r = subprocess.run(call + [commands[k] for k in order] + ["--export-json", part])
        if r.returncode:
            break
        for k, res in zip(order, json.load(open(part))["results"]):
            times[k] += res["times"]
            exit_codes[k] += res.get("exit_codes", [])
        os.unlink(part)
    if r.returncode == 0:
        def summary(k):
            t = sorted(times[k])
            mid = len(t) // 2
            mean = sum(t) / len(t)
            return {"command": label(k), "mean": mean,
                    "stddev": (sum((x - mean) ** 2 for x in t) / max(len(t) - 1, 1)) ** 0.5,
                    "median": t[mid] if len(t) % 2 else (t[mid - 1] + t[mid]) / 2,
                    "min": t[0], "max": t[-1], "times": times[k], "exit_codes": exit_codes[k]}
        json.dump({"results": [summary(0), summary(1)]}, open(out, "w"))
if r.returncode == 0:
    procs = sum(1 for p in os.listdir("/proc") if p.isdigit())
    # The name when it says more than the program, else the command.
    said = [label(k) if len(label(k).split()) > 1 else commands[k] for k in (0, 1)]
    record = {"script": os.environ["BENCH_SCRIPT"], "ours": ours[0], "said": said,
              "results": json.load(open(out))["results"], "procs": procs}
    json.dump(record, open(os.path.join(os.environ["BENCH_RESULTS"], f"{n:03}.rec"), "w"))
sys.exit(r.returncode)
PY
chmod +x "$work/bin/hyperfine"

export BENCH_REAL_HYPERFINE BENCH_TOOLS=$tools BENCH_RESULTS=$work/results
BENCH_REAL_HYPERFINE=$(command -v hyperfine)
mkdir -p "$BENCH_RESULTS"
failed=()
for script in "${scripts[@]}"; do
    name=$(basename "$script")
    echo "bench/run.sh: $script (log: $logs/${name%.sh}.log)" >&2
    if ! BENCH_SCRIPT=$name PATH="$work/bin:$PATH" \
        unshare -mniu --propagation private bash "$script" >"$logs/${name%.sh}.log" 2>&1; then
        failed+=("$name")
        tail -n 3 "$logs/${name%.sh}.log" | sed 's/^/    /' >&2
    fi
done

python3 - "$BENCH_RESULTS" "${#failed[@]}" "${failed[@]}" "${GOALS[@]}" <<'PY'
import glob, json, os, re, sys
results, nfailed = sys.argv[1], int(sys.argv[2])
failed = sys.argv[3:3 + nfailed]
goals = sys.argv[3 + nfailed:]
goals = [(p, None if g == "-" else float(g)) for p, g in zip(goals[0::2], goals[1::2])]
def short(command):
    """The program and other paths by their last part, temp paths in arguments as DIR."""
    words = command.split()
    args = ["DIR" if w.startswith("/tmp/") else os.path.basename(w) if "/" in w else w
            for w in words[1:]]
    return " ".join([os.path.basename(words[0])] + args) if words else ""
rows = []
for path in sorted(glob.glob(f"{results}/*.rec")):
    rec = json.load(open(path))
    ours, anchor = rec["results"][rec["ours"]], rec["results"][1 - rec["ours"]]
    measure = f"{rec['script']}: {short(rec['said'][rec['ours']])}"
    if rec["procs"] >= 1000:
        measure += f" ({rec['procs']} processes)"
    ratio = ours["median"] / anchor["median"]
    goal = next(g for pattern, g in goals if re.search(pattern, measure))
    rows.append((measure, ours["median"], anchor["median"], ratio, goal))
unit = lambda s: f"{s * 1e3:.2f} ms" if s >= 1e-3 else f"{s * 1e6:.0f} us"
print(f"{'measure':<58} {'ours':>10} {'anchor':>10} {'ratio':>6} {'goal':>6}  met")
for m, o, a, r, g in rows:
    met = "-" if g is None else "yes" if r <= g else "NO"
    goal = "-" if g is None else f"{g:.2f}"
    print(f"{m[:58]:<58} {unit(o):>10} {unit(a):>10} {r:6.3f} {goal:>6}  {met}")
for name in failed:
    print(f"{name + ': FAILED (see its log)':<58} {'-':>10} {'-':>10} {'-':>6} {'-':>6}  NO")
goaled = [(r, g) for *_, r, g in rows if g is not None]
print(f"\n{sum(r <= g for r, g in goaled)} of {len(goaled) + len(failed)} goals met; "
      "medians of hyperfine runs, ours and the anchor in alternating blocks")
PY

# Sizes: issue 15's goals are all tools together under runc, and each tool
# that speaks no netlink (all but rvethpair) under 700 KB.
echo
echo "stripped size of each binary (target/release), bytes:"
total=0
for tool in ${tools//|/ }; do
    size=$(stat -c %s "target/release/$tool")
    total=$((total + size))
    printf '  %-10s %9d\n' "$tool" "$size"
done
printf '  %-10s %9d\n' total "$total"
# The multi-call binary (multicall/, all of them in one), when built.
if [ -f target/release/boxutils ]; then
    printf '  %-10s %9d  (multi-call)\n' boxutils "$(stat -c %s target/release/boxutils)"
fi
if runc=$(command -v runc); then
    printf '  %-10s %9d  (%s)\n' runc "$(stat -L -c %s "$runc")" "$runc"
fi
[ ${#failed[@]} = 0 ]
