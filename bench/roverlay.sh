#!/usr/bin/env bash
# bench/roverlay.sh: roverlay against the tools it stands beside, paired in
# one hyperfine run each, inside a private mount namespace of its own:
#  1. 100 x (roverlay mount + roverlay umount) vs 100 x (mount -t overlay +
#     umount), with 1 and with 20 lower layers and an upper dir (goal: <= 1.0x);
#  2. 500 lower layers with 100-byte paths: mount(8) fails, roverlay mounts;
#  3. commit and apply of a tree of mixed file sizes (SIZE_MB, default 200)
#     vs tar -c / tar -x (goal: <= 1.0x), and, gzip-compressed, vs tar -cz /
#     tar -xz and umoci repack / umoci unpack of the same change.
# Everything lives on a tmpfs of the benchmark's own (the tools' cost, not
# a shared disk's writeback; ON_DISK=1 uses /tmp itself). Needs root,
# hyperfine, python3, umoci (the umoci pairs are skipped without it).
# RUNS=N sets hyperfine's runs of the slow pairs (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${ROVERLAY_BENCH_INSIDE:-}" ]; then
    command -v hyperfine >/dev/null || { echo "hyperfine is not installed" >&2; exit 1; }
    cargo build --release --quiet --workspace --exclude xtask --bins
    exec env ROVERLAY_BENCH_INSIDE=1 unshare -m --propagation private bash "$0" "$@"
fi

bin=$PWD/target/release/roverlay
runs=${RUNS:-3}
size_mb=${SIZE_MB:-200}
d=$(mktemp -d /tmp/boxutils-bench-roverlay.XXXXXX)
json=$(mktemp)
trap 'umount -l "$d"/m 2>/dev/null || true; umount -l "$d" 2>/dev/null || true; rm -rf "$d" "$json"' EXIT
[ -n "${ON_DISK:-}" ] || mount -t tmpfs -o size=4g tmpfs "$d"
cd "$d"

# Mean and the ratio of the second command to the first, from hyperfine's JSON.
ratio() {
    python3 - "$json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
for x in r:
    print(f"  {x['command']}: mean {x['mean']:.3f} s, stddev {x.get('stddev') or 0:.3f} s")
for x in r[1:]:
    print(f"  ratio {x['command']} / {r[0]['command']}: {x['mean'] / r[0]['mean']:.3f}")
PY
}

pair() {
    local label=$1
    shift
    echo "== $label"
    hyperfine -N --style none --export-json "$json" "$@" >/dev/null
    ratio
}

# 1. mount + umount, 100 times.
mkdir m
for n in 1 20; do
    lowers=()
    for i in $(seq "$n"); do mkdir -p "l$n/$i"; echo "$i" >"l$n/$i/file"; lowers+=("$d/l$n/$i"); done
    list=$(IFS=:; echo "${lowers[*]}")
    mkdir -p "u$n" "w$n"
    if [ "$n" = 1 ]; then lowers_said="1 lower"; else lowers_said="$n lowers"; fi
    pair "100 x mount + umount, $n lower layer(s) and an upper" --warmup 1 --runs 10 \
        --command-name "mount -t overlay" \
        "bash -c 'for i in {1..100}; do mount -t overlay overlay -o lowerdir=$list,upperdir=$d/u$n,workdir=$d/w$n $d/m; umount $d/m; done'" \
        --command-name "roverlay mount ($lowers_said)" \
        "bash -c 'for i in {1..100}; do $bin mount --lower $list --upper $d/u$n --work $d/w$n $d/m; $bin umount $d/m; done'"
done

# 2. 500 layers with long paths.
pad=$(printf 'p%.0s' {1..100})
lowers=()
for i in $(seq 500); do mkdir -p "long/$pad-$i"; lowers+=("$d/long/$pad-$i"); done
echo "top" >"${lowers[0]}/file"
list=$(IFS=:; echo "${lowers[*]}")
echo "== 500 lower layers, ${#list} bytes of lowerdir"
if mount -t overlay overlay -o "lowerdir=$list" m 2>/dev/null; then
    echo "  mount(8): mounted"; umount m
else
    echo "  mount(8): fails"
fi
hyperfine -N --style none --export-json "$json" --warmup 1 --runs 10 \
    --command-name "roverlay mount+umount 500 layers" \
    "bash -c '$bin mount --lower $list $d/m && $bin umount $d/m'" >/dev/null
ratio

# 3. A tree of mixed sizes: many small files, some medium, a few large.
echo "== a ${size_mb} MB tree"
mkdir -p tree
python3 - tree "$size_mb" <<'PY'
import os, random, sys
root, total = sys.argv[1], int(sys.argv[2]) << 20
rnd = random.Random(7)
sizes = [4 << 10] * 4000 + [64 << 10] * 600 + [1 << 20] * 40
used = sum(sizes)
if used < total:
    sizes += [(total - used) // 2] * 2
for i, size in enumerate(sizes):
    d = os.path.join(root, f"d{i % 50}", f"s{i % 7}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i}"), "wb") as f:
        half = size // 2
        f.write(rnd.randbytes(half) + bytes(size - half))
PY
du -sm tree | awk '{print "  " $1 " MB, " }' | tr -d '\n'; find tree -type f | wc -l | awk '{print $1 " files"}'

pair "commit vs tar -c" --warmup 1 --runs "$runs" \
    --prepare "bash -c 'rm -f $d/out.tar'" \
    --command-name "tar -c" "tar -C $d/tree -cf $d/out.tar ." \
    --command-name "roverlay commit" "$bin commit $d/tree $d/out.tar"
pair "apply vs tar -x" --warmup 1 --runs "$runs" \
    --prepare "bash -c 'rm -rf $d/x; mkdir $d/x'" \
    --command-name "tar -x" "tar -C $d/x -xf $d/out.tar" \
    --command-name "roverlay apply" "$bin apply $d/out.tar $d/x"

# Gzip, and umoci on the same change (a bundle whose rootfs is the tree).
umoci_ok=0
if command -v umoci >/dev/null; then
    umoci_ok=1
    umoci init --layout img >/dev/null
    umoci new --image img:base >/dev/null
    prep_repack="rm -rf $d/b && umoci unpack --image $d/img:base $d/b >/dev/null && cp -a $d/tree/. $d/b/rootfs/"
fi
args=(--warmup 0 --runs "$runs" --prepare "bash -c 'rm -f $d/out.tar.gz'"
    --command-name "tar -cz" "tar -C $d/tree -czf $d/out.tar.gz ."
    --command-name "roverlay commit .tar.gz (vs tar -cz)" "$bin commit $d/tree $d/out.tar.gz")
pair "gzip: commit vs tar -cz" "${args[@]}"
if [ "$umoci_ok" = 1 ]; then
    pair "gzip: commit vs umoci repack" --warmup 0 --runs "$runs" \
        --prepare "bash -c 'rm -f $d/out.tar.gz; $prep_repack'" \
        --command-name "umoci repack" "umoci repack --image $d/img:t $d/b" \
        --command-name "roverlay commit .tar.gz (vs umoci repack)" "$bin commit $d/tree $d/out.tar.gz"
fi
pair "gzip: apply vs tar -xz" --warmup 0 --runs "$runs" \
    --prepare "bash -c 'rm -rf $d/x; mkdir $d/x'" \
    --command-name "tar -xz" "tar -C $d/x -xzf $d/out.tar.gz" \
    --command-name "roverlay apply .tar.gz (vs tar -xz)" "$bin apply $d/out.tar.gz $d/x"
if [ "$umoci_ok" = 1 ]; then
    pair "gzip: apply vs umoci unpack" --warmup 0 --runs "$runs" \
        --prepare "bash -c 'rm -rf $d/x $d/u'" \
        --command-name "umoci unpack" "umoci unpack --image $d/img:t $d/u" \
        --command-name "roverlay apply .tar.gz (vs umoci unpack)" "$bin apply $d/out.tar.gz $d/x"
fi
