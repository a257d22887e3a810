#!/usr/bin/env bash
# Times one training iteration of the default architecture per phase in
# PyTorch (model/bench/torch_train_step.py, Debian python3-torch) and in Go
# (model/train BenchmarkStep, -tags openblas), interleaved (PyTorch, Go,
# PyTorch, Go, ...) so that both see the same machine load, and prints the
# medians side by side with the ratio Go/PyTorch (> 1: Go is faster).
# Neither side times data rendering.
#
# On a machine shared with other jobs images/s swings with the load from one
# run to the next, so the ratio is taken per round (a PyTorch run and the Go
# run right after it) and the median of those is printed, next to the same
# ratio from CPU time per image (all threads), which the load moves less.
#
# Usage: model/bench/train_compare.sh [RES...]        (default: 8 16 32 64)
# Env:   ROUNDS=3      runs of each side per phase
#        ITERS=8       timed iterations per run (a multiple of 4: R1 every 4th)
#        GO_TEST=path  a prebuilt model/train test binary (default: built here)
#        GO_BASE=path  a second test binary, run in each round too, with the
#                      ratios GO_TEST/GO_BASE (A/B of a change) and
#                      GO_BASE/PyTorch (before and after in one run)
#        TORCH=0       skip PyTorch (with GO_BASE: a Go-only A/B)
# Needs: apt-get install python3-torch libopenblas-dev
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${ROUNDS:-3}
iters=${ITERS:-8}
torch=${TORCH:-1}
base=${GO_BASE:-}
phases=("$@")
[ ${#phases[@]} -gt 0 ] || phases=(8 16 32 64)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

gotest=${GO_TEST:-}
if [ -z "$gotest" ]; then
	gotest=$tmp/train.test
	CGO_LDFLAGS=-lopenblas go test -c -tags openblas -o "$gotest" ./model/train
fi
# Debian's OpenBLAS 0.3.21 takes this CPU for a Haswell.
# Its SkylakeX kernel needs AVX-512 BW/VL (SIGILL without them); a value
# set by the caller wins.
if grep -qw avx512bw /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo; then
	export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
fi
# PyTorch: OpenMP threads sleep when idle (on a shared machine its default
# spinning barriers made the step 10-20x slower), and OpenBLAS starts no
# threads of its own inside torch's two. Go runs as the trainer does (it
# makes OpenBLAS single-threaded itself).
export OMP_WAIT_POLICY=PASSIVE

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "cores $(nproc), load average at start: $(load)"

# one run: prints "images/s cpu-ms/image"
run_torch() {
	OPENBLAS_NUM_THREADS=1 /usr/bin/python3 model/bench/torch_train_step.py --res "$1" --iters "$iters" --threads 2 |
		sed -n 's/.*: \([0-9.]*\) images\/s \([0-9.]*\) cpu-ms\/image.*/\1 \2/p'
}
run_go() {
	(cd model/train && "$2" -test.run XXX -test.bench "^BenchmarkStep$/^${1}px$" -test.benchtime "${iters}x") |
		awk '/^BenchmarkStep/ {
			for (i = 1; i <= NF; i++) { if ($i == "images/s") ips = $(i-1); if ($i == "cpu-ms/image") cpu = $(i-1) }
			print ips, cpu }'
}

for r in $(seq "$rounds"); do
	for res in "${phases[@]}"; do
		echo "round $r ${res}px (load $(load))" >&2
		t="- -"
		[ "$torch" = 0 ] || t=$(run_torch "$res")
		g=$(run_go "$res" "$gotest")
		b="- -"
		[ -z "$base" ] || b=$(run_go "$res" "$base")
		echo "$t $g $b" >>"$tmp/$res"
	done
done

echo "load average at end: $(load)"
echo "images/s per run (PyTorch, Go$([ -z "$base" ] || echo ", Go base")), cpu-ms/image = CPU time of all threads per image:"
for res in "${phases[@]}"; do
	awk -v r="$res" '{ printf "%4spx  %s %s  %s %s  %s %s\n", r, $1, $2, $3, $4, $5, $6 }' "$tmp/$res"
done
# columns: 1 torch img/s, 2 torch cpu, 3 go img/s, 4 go cpu, 5 base img/s, 6 base cpu
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$2" '$c != "-" { print $c }' "$tmp/$1" | median; }
ratio() { awk -v a="$2" -v b="$3" '$a != "-" && $b != "-" { print $a / $b }' "$tmp/$1" | median; }
echo "medians of $rounds rounds; ratios are medians of the per-round ratios (> 1: Go faster)"
printf "%5s  %17s  %17s" res "PyTorch img/s cpu" "Go img/s cpu"
[ -z "$base" ] || printf "  %17s" "Go base img/s cpu"
[ "$torch" = 0 ] || printf "  %9s %9s" "Go/torch" "(cpu)"
[ -z "$base" ] || printf "  %9s %9s" "Go/base" "(cpu)"
[ -z "$base" ] || [ "$torch" = 0 ] || printf "  %9s %9s" "base/torch" "(cpu)"
echo
for res in "${phases[@]}"; do
	printf "%3spx  %8s %6sms  %8s %6sms" "$res" "$(col "$res" 1)" "$(col "$res" 2)" "$(col "$res" 3)" "$(col "$res" 4)"
	[ -z "$base" ] || printf "  %8s %6sms" "$(col "$res" 5)" "$(col "$res" 6)"
	[ "$torch" = 0 ] || printf "  %8.2fx %8.2fx" "$(ratio "$res" 3 1)" "$(ratio "$res" 2 4)"
	[ -z "$base" ] || printf "  %8.2fx %8.2fx" "$(ratio "$res" 3 5)" "$(ratio "$res" 6 4)"
	[ -z "$base" ] || [ "$torch" = 0 ] || printf "  %9.2fx %8.2fx" "$(ratio "$res" 5 1)" "$(ratio "$res" 2 6)"
	echo
done
