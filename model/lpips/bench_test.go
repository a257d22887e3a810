package lpips

import (
	"fmt"
	"math/rand"
	"testing"
)

// BenchmarkDistance measures LPIPS on the full-width VGG16 trunk (random weights: only the
// arithmetic matters) for pairs of 256 px images, the size NVIDIA's path length feeds it, and
// for 64 px pairs. model/bench/lpips_compare.sh runs the 256 px case next to PyTorch.
func BenchmarkDistance(b *testing.B) {
	trunk, lin := RandomWeights(VGG16Widths, 1)
	n, err := New(trunk, lin)
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	for _, c := range []struct{ size, pairs int }{{256, 2}, {64, 8}} {
		b.Run(fmt.Sprintf("%dpx", c.size), func(b *testing.B) {
			r := rand.New(rand.NewSource(2))
			x0 := make([]float32, c.pairs*3*c.size*c.size)
			x1 := make([]float32, len(x0))
			for i := range x0 {
				x0[i] = float32(r.Float64()*2 - 1)
				x1[i] = x0[i] + float32(r.NormFloat64()*0.05)
			}
			if _, _, err := n.Distance(x0, x1, c.pairs, c.size, c.size); err != nil { // warm-up
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if _, _, err := n.Distance(x0, x1, c.pairs, c.size, c.size); err != nil {
					b.Fatal(err)
				}
			}
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(2*c.pairs*b.N)/s, "images/s")
			b.ReportMetric(float64(c.pairs*b.N)/s, "pairs/s")
		})
	}
}
