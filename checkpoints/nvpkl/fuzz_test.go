package nvpkl

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
// decoded tensors (at most 4 bytes per input byte, twice for column-major
// data) plus gopickle's bookkeeping, which the guard bounds to a few
// hundred bytes per opcode byte.
func allocBudget(n int) uint64 { return 1<<20 + 1024*uint64(n) }

func FuzzNVPkl(f *testing.F) {
	for _, name := range []string{"tf_stylegan1_32_p2.pkl", "tf_stylegan1_32_p4.pkl", "tf_stylegan1_32_p5.pkl"} {
		b, err := os.ReadFile(testfix.Path(f, "nvlabs/"+name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	var buf bytes.Buffer
	G, D, Gs := smallGs(
		synthVar{name: "f", shape: []int{2, 3, 4}, fortran: true},
		synthVar{name: "d", shape: []int{3}, dtype: "f8", big: true},
		synthVar{name: "h", shape: []int{2}, dtype: "f2", data: []float32{1, -2}},
		synthVar{name: "b", shape: []int{2, 2}, frombuffer: true, fortran: true},
	)
	if err := writeSynth(&buf, G, D, Gs); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R."))
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
