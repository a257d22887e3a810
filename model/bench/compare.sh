#!/usr/bin/env bash
# Times the 256 px forward of PyTorch (peer baseline, Debian python3-torch)
# and of stylegan-tui (pure Go and -tags openblas) in one script, back to
# back, and prints each as a ratio of PyTorch's time.
# Needs: apt-get install python3-torch libopenblas-dev
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-5}
go build -o /tmp/sg-purego .
CGO_LDFLAGS=-lopenblas go build -tags openblas -o /tmp/sg-openblas .
ms() { sed -n 's/.*forward 256px: median \([0-9.]*\) ms.*/\1/p'; }
t=$(/usr/bin/python3 model/bench/torch_forward.py "$runs" | tee /dev/stderr | ms)
p=$(/tmp/sg-purego bench --config rosinality-256 --runs "$runs" | tee /dev/stderr | ms)
# The AVX-512 kernel only where the CPU has it (elsewhere it dies with SIGILL).
grep -qw avx512bw /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo && export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
o=$(/tmp/sg-openblas bench --config rosinality-256 --runs "$runs" | tee /dev/stderr | ms)
awk -v t="$t" -v p="$p" -v o="$o" 'BEGIN { printf "ratio to PyTorch: pure Go %.2fx, OpenBLAS %.2fx\n", p/t, o/t }'
