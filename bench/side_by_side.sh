#!/usr/bin/env bash
# Before/after, side by side in one run on one machine: each benchmark of bench/ in a checkout of an
# older commit (BEFORE, e.g. `git worktree add --detach ../before <commit>`) and then in this one,
# with the load average printed next to each figure. Run it with nothing else running (2 cores).
#
#   bash bench/side_by_side.sh ../before [runtime|serve|sandbox|suite ...]
set -uo pipefail
before="$(cd "$1" && pwd)"; shift
after="$(cd "$(dirname "$0")/.." && pwd)"
what=("${@:-runtime serve sandbox suite}")
# shellcheck disable=SC2206  # split the default list
what=(${what[@]})

run() {  # run <label> <dir> <command...>
    local label=$1 dir=$2; shift 2
    echo "=== $label: $* (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
    (cd "$dir" && PYTHONPATH="$dir:$dir/functions" "$@" 2>&1 | tail -15)
    echo "    (load average after: $(cut -d' ' -f1-3 /proc/loadavg))"
}

for w in "${what[@]}"; do
    for side in before after; do
        dir=$before; [ "$side" = after ] && dir=$after
        case $w in
            runtime) run "$side" "$dir" python bench/runtime_overhead.py ;;
            serve)   run "$side" "$dir" python bench/serve_latency.py --count 1000 ;;
            sandbox) run "$side" "$dir" python bench/sandbox_throughput.py --count 1000 --chaos-count 10000 ;;
            suite)   run "$side" "$dir" /usr/bin/time -f "%e s wall, %U s user" python -m pytest -p no:cacheprovider -n auto --durations=20 ;;
        esac
    done
done
