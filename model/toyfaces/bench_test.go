package toyfaces

import "testing"

func BenchmarkSample(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		Sample(int64(i))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

func BenchmarkFillBatch8(b *testing.B) {
	seeds := make([]int64, 32)
	dst := make([]float32, len(seeds)*3*8*8)
	for i := 0; b.Loop(); i++ {
		for j := range seeds {
			seeds[j] = int64(i*len(seeds) + j)
		}
		FillBatch(dst, seeds, 8)
	}
	b.ReportMetric(float64(b.N*len(seeds))/b.Elapsed().Seconds(), "images/s")
}
