#!/usr/bin/env bash
# LPIPS on 256 px pairs at full VGG16 width (random weights): PyTorch (peer baseline, Debian
# python3-torch, oneDNN) and model/lpips (pure Go build) in one script, back to back, each on
# all cores and then on one, and each Go rate as a ratio of PyTorch's.
# Needs: apt-get install python3-torch. RUNS (default 3) timed calls of 2 pairs each
# (BenchmarkDistance/256px's batch).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-3}
rate() { sed -n 's/.*lpips 256px: \([0-9.]*\) images\/s.*/\1/p'; }
gorate() { sed -n 's/.* \([0-9.]*\) images\/s.*/\1/p'; }
go test -c -o /tmp/lpips.test ./model/lpips
for threads in "$(nproc)" 1; do
	out=$(OMP_NUM_THREADS=$threads /usr/bin/python3 model/bench/lpips_torch.py "$runs" 2 "$threads")
	echo "$out" >&2
	t=$(echo "$out" | rate)
	out=$(GOMAXPROCS=$threads /tmp/lpips.test -test.run '^$' -test.bench 'Distance/256px' -test.benchtime "${runs}x")
	echo "$out" | grep images/s >&2
	g=$(echo "$out" | gorate)
	awk -v t="$t" -v g="$g" -v n="$threads" 'BEGIN { printf "%s thread(s): PyTorch %.3f images/s, Go %.3f images/s: Go/PyTorch %.2fx\n", n, t, g, g/t }'
done
