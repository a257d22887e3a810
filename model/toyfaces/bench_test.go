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

// TestSpeed checks the throughput the trainer relies on: at least 100
// images/s on one core (it is several times that; see BenchmarkSample).
func TestSpeed(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	res := testing.Benchmark(BenchmarkSample)
	rate := float64(res.N) / res.T.Seconds()
	t.Logf("Sample: %.0f images/s on one goroutine", rate)
	if rate < 100 {
		t.Errorf("Sample renders %.0f images/s, want ≥ 100", rate)
	}
}
