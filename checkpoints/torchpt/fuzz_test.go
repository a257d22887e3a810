package torchpt

import (
	"bytes"
	"os"
	"runtime/metrics"
	"strings"
	"testing"

	"stylegan-tui/internal/testfix"
)

// heapAllocated is the cumulative number of bytes the program has
// allocated on the heap.
func heapAllocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// allocBudget is what one load of n input bytes may allocate in total:
// tensors (at most twice 4 bytes per storage byte, for views that are
// gathered from a span) plus gopickle's bookkeeping, which the guard
// bounds to a few hundred bytes per opcode byte.
func allocBudget(n int) uint64 { return 1<<20 + 1024*uint64(n) }

func FuzzTorchPT(f *testing.F) {
	for _, name := range []string{"tiny_fusedlow_s3_legacy.pt", "tiny_fusedlow_s3_zip.pt", "tiny_fusedlow_s3_grunning_only_legacy.pt"} {
		b, err := os.ReadFile(testfix.Path(f, "rosinality/"+name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, legacy := range []bool{false, true} {
		s, _ := synthFile(legacy)
		if legacy {
			f.Add(s.legacyBytes(f))
		} else {
			f.Add(s.zipBytes(f))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		before := heapAllocated()
		tensors, _, err := load(bytes.NewReader(in), int64(len(in)))
		if grew := heapAllocated() - before; grew > allocBudget(len(in)) {
			t.Fatalf("%d input bytes made the loader allocate %d bytes", len(in), grew)
		}
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		for name, x := range tensors {
			if x.Len() != len(x.Data) {
				t.Fatalf("%s: shape %v with %d values", name, x.Shape, len(x.Data))
			}
		}
	})
}
