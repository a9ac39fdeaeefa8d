#!/usr/bin/env bash
# Measures ccsetup's start-up, memory, size and (via `cargo bench`) the
# `token` and full-flow figures, and prints them against the targets.
#
#   scripts/measure-startup.sh [--runs N] [--no-bench] [--variants "3 z"]
#
#   --runs N        runs per start-up figure (default 21; medians reported)
#   --no-bench      skip `cargo bench` (token / full-flow rows show "-")
#   --variants L    also build and measure release variants with these
#                   opt-levels (each a full release build, ~3 min on 2
#                   cores), all else as in Cargo.toml's [profile.release]
#
# Wall time: bash's $EPOCHREALTIME around each run (no fork in between).
# CPU time: `perf stat -e task-clock` per run when perf works, else bash's
# `time` (ms resolution). Peak RSS: `/usr/bin/time -v`, from outside.
# "Cold-ish": the binary's pages are evicted from the page cache first
# (`dd iflag=nocache`); shared libraries stay cached.
# Instructions: `valgrind --tool=callgrind` (deterministic, unlike time).
# The machine may be shared: every figure is a median, and still noisy (a
# parallel build more than triples the full-flow wall times); measure when
# `uptime` shows a low load, or as root under `nice -n -10`.
set -euo pipefail

RUNS=21
BENCH=1
VARIANTS=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        --no-bench) BENCH=0; shift ;;
        --variants) VARIANTS="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || apt-get install -y time >/dev/null \
    || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }
HAVE_PERF=0
if command -v perf >/dev/null && perf stat -x, -e task-clock true >/dev/null 2>&1; then
    HAVE_PERF=1
fi
HAVE_CALLGRIND=0
command -v valgrind >/dev/null && HAVE_CALLGRIND=1

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "-"; exit} m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f\n", m}'; }

# Wall time of one run in ms.
wall_ms() {
    local t0 t1
    t0=$EPOCHREALTIME
    "$@" >/dev/null 2>&1 || true
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", (b-a)*1000}'
}

# CPU time (user+sys, all threads) of one run in ms.
cpu_ms() {
    if [[ $HAVE_PERF == 1 ]]; then
        perf stat -x, -e task-clock -o "$WORK/perf.csv" -- "$@" >/dev/null 2>&1 || true
        awk -F, '$3 ~ /task-clock/ {printf "%.3f\n", $1}' "$WORK/perf.csv"
    else
        local TIMEFORMAT='%3U %3S'
        { time "$@" >/dev/null 2>&1 || true; } 2>&1 | awk '{printf "%.3f\n", ($1+$2)*1000}'
    fi
}

# Peak RSS of one run in MiB.
rss_mib() {
    /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident/ {printf "%.2f\n", $2/1024}'
}

evict() { dd if="$1" iflag=nocache count=0 status=none 2>/dev/null || true; }

instructions() {
    [[ $HAVE_CALLGRIND == 1 ]] || { echo "-"; return; }
    valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" "$@" >/dev/null 2>"$WORK/cg.err" || true
    awk '/Collected :/ {printf "%.2f\n", $NF/1e6}' "$WORK/cg.err"
}

# measure <bin> <args...>: prints "cold_wall warm_wall warm_cpu rss_mib minstr"
measure() {
    local bin="$1"; shift
    local cold=() wall=() cpu=() rss=() i
    for ((i = 0; i < 5; i++)); do evict "$bin"; cold+=("$(wall_ms "$bin" "$@")"); done
    "$bin" "$@" >/dev/null 2>&1 || true  # warm the cache again
    for ((i = 0; i < RUNS; i++)); do wall+=("$(wall_ms "$bin" "$@")"); done
    for ((i = 0; i < RUNS; i++)); do cpu+=("$(cpu_ms "$bin" "$@")"); done
    for ((i = 0; i < 5; i++)); do rss+=("$(rss_mib "$bin" "$@")"); done
    printf '%s %s %s %s %s\n' \
        "$(printf '%s\n' "${cold[@]}" | median)" \
        "$(printf '%s\n' "${wall[@]}" | median)" \
        "$(printf '%s\n' "${cpu[@]}" | median)" \
        "$(printf '%s\n' "${rss[@]}" | median)" \
        "$(instructions "$bin" "$@")"
}

# bench <bin>: runs benches/flow.rs against <bin>, prints its summary lines.
bench() {
    CCSETUP_BENCH_BIN="$1" cargo bench --locked --quiet --bench flow \
        | tee "$WORK/bench.txt" >&2
    grep '^summary ' "$WORK/bench.txt" || true
}
pick() { awk -v k="$2" '$2 == k {sub("median=", "", $3); v = $3} END {print (v == "") ? "-" : v}' <<<"$1"; }

# ---- the release binary as Cargo.toml configures it ----
echo "== cargo build --release" >&2
cargo build --release --locked --quiet
BIN="$WORK/ccsetup"
cp target/release/ccsetup "$BIN"  # `cargo bench` rebuilds target/release/ccsetup
SIZE=$(stat -c %s "$BIN")

echo "== start-up ($RUNS runs each)" >&2
read -r V_COLD V_WALL V_CPU V_RSS V_INS < <(measure "$BIN" --version)
read -r H_COLD H_WALL H_CPU H_RSS H_INS < <(measure "$BIN" --help)
read -r C_COLD C_WALL C_CPU C_RSS C_INS < <(measure "$BIN" completions bash)

SUMMARY=""
if [[ $BENCH == 1 ]]; then
    echo "== cargo bench --bench flow (against the release binary)" >&2
    SUMMARY="$(bench "$BIN")"
fi
T_WALL=$(pick "$SUMMARY" token-cache.wall); T_CPU=$(pick "$SUMMARY" token-cache.cpu)
T_RSS=$(pick "$SUMMARY" token-cache.peak_rss)
F_OVER=$(pick "$SUMMARY" init-stackone.cli_overhead)
F_OVER_SKIP=$(pick "$SUMMARY" init-skip-stackone.cli_overhead)
F_CPU=$(pick "$SUMMARY" init-stackone.cpu)

# ---- syscalls: what --help / --version / completions touch ----
STRACE=""
if command -v strace >/dev/null; then
    for args in "--version" "--help" "completions bash"; do
        # shellcheck disable=SC2086
        strace -f -qq -e trace=network,openat -o "$WORK/st.txt" "$BIN" $args >/dev/null 2>&1 || true
        net=$(grep -cE 'socket\(|connect\(' "$WORK/st.txt" || true)
        cfg=$(grep -cE 'ccsetup/|config\.toml|/etc/ssl|certs' "$WORK/st.txt" || true)
        opens=$(grep -c 'openat(' "$WORK/st.txt" || true)
        STRACE+=$(printf '%-18s openat=%-3s network=%-3s config/certs=%s' "$args" "$opens" "$net" "$cfg")$'\n'
    done
fi

ok() { # ok <value> <limit>
    [[ "$1" == "-" ]] && { echo "n/a"; return; }
    awk -v v="$1" -v l="$2" 'BEGIN {print (v <= l) ? "ok" : "MISSED"}'
}
SIZE_MB=$(awk -v s="$SIZE" 'BEGIN {printf "%.2f", s/1e6}')

echo
echo "ccsetup $(git describe --always --dirty 2>/dev/null || true), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "CPU via $([[ $HAVE_PERF == 1 ]] && echo 'perf task-clock' || echo 'bash time'); medians of $RUNS runs (cold-ish, RSS: 5)"
echo
printf '%-40s %12s %12s %s\n' "figure" "measured" "target" ""
row() { printf '%-40s %12s %12s %s\n' "$1" "$2" "$3" "${4:-}"; }
row "--version CPU (ms)" "$V_CPU" "<= 4" "$(ok "$V_CPU" 4)"
row "--version peak RSS (MiB)" "$V_RSS" "<= 12" "$(ok "$V_RSS" 12)"
row "token from cache, wall (ms)" "$T_WALL" "<= 10" "$(ok "$T_WALL" 10)"
row "CLI overhead, full init + StackOne (ms)" "$F_OVER" "<= 50" "$(ok "$F_OVER" 50)"
row "release binary (MB)" "$SIZE_MB" "<= 8" "$(ok "$SIZE_MB" 8)"
echo
printf '%-20s %10s %10s %10s %10s %12s\n' "command" "cold wall" "warm wall" "CPU" "peak RSS" "instructions"
printf '%-20s %10s %10s %10s %10s %12s\n' "" "ms" "ms" "ms" "MiB" "millions"
printf '%-20s %10s %10s %10s %10s %12s\n' "--version" "$V_COLD" "$V_WALL" "$V_CPU" "$V_RSS" "$V_INS"
printf '%-20s %10s %10s %10s %10s %12s\n' "--help" "$H_COLD" "$H_WALL" "$H_CPU" "$H_RSS" "$H_INS"
printf '%-20s %10s %10s %10s %10s %12s\n' "completions bash" "$C_COLD" "$C_WALL" "$C_CPU" "$C_RSS" "$C_INS"
printf '%-20s %10s %10s %10s %10s %12s\n' "token (cache)" "-" "$T_WALL" "$T_CPU" "$T_RSS" "-"
echo
echo "full flow (cargo bench): CLI overhead init+StackOne ${F_OVER} ms, init --skip-stackone ${F_OVER_SKIP} ms; CLI CPU init+StackOne ${F_CPU} ms"
if [[ -n $STRACE ]]; then
    echo
    echo "start-up syscalls (strace -f -e trace=network,openat):"
    printf '%s' "$STRACE"
fi

# ---- optional: release-profile variants ----
if [[ -n $VARIANTS ]]; then
    rows=("release|$BIN")
    for v in $VARIANTS; do
        echo "== release build with opt-level=$v" >&2
        CARGO_PROFILE_RELEASE_OPT_LEVEL="$v" cargo build --release --locked --quiet \
            --target-dir "target/variant-opt-$v"
        cp "target/variant-opt-$v/release/ccsetup" "$WORK/ccsetup-opt-$v"
        rows+=("opt-level=$v|$WORK/ccsetup-opt-$v")
    done
    echo
    echo "release-profile variants (\"release\" is Cargo.toml's profile; the others differ only in opt-level):"
    printf '%-14s %8s %8s %8s %8s %8s %8s %8s %8s\n' "" "size" "ver CPU" "help CPU" "ver RSS" "ver ins" \
        "token" "refresh" "init"
    printf '%-14s %8s %8s %8s %8s %8s %8s %8s %8s\n' "" "MB" "ms" "ms" "MiB" "M" \
        "wall ms" "CPU ms" "CPU ms"
    for row in "${rows[@]}"; do
        name="${row%%|*}"; vb="${row#*|}"
        echo "== measuring $name" >&2
        read -r _ _ vc vr vi < <(measure "$vb" --version)
        read -r _ _ hc _ _ < <(measure "$vb" --help)
        tw="-" rc="-" ic="-"
        if [[ $BENCH == 1 ]]; then
            sum="$(bench "$vb" 2>/dev/null)"
            tw=$(pick "$sum" token-cache.wall); rc=$(pick "$sum" token-force-refresh.cpu)
            ic=$(pick "$sum" init-stackone.cpu)
        fi
        printf '%-14s %8s %8s %8s %8s %8s %8s %8s %8s\n' "$name" \
            "$(awk -v s="$(stat -c %s "$vb")" 'BEGIN {printf "%.2f", s/1e6}')" \
            "$vc" "$hc" "$vr" "$vi" "$tw" "$rc" "$ic"
    done
fi
