package metrics

import (
	"context"
	"testing"

	"stylegan-tui/model"
	"stylegan-tui/model/lpips"
)

type lpipsDistance struct{ n *lpips.Net }

func (d lpipsDistance) Distance(a, b []float32, batch, res int) ([]float64, error) {
	v, _, err := d.n.Distance(a, b, batch, res, res)
	return v, err
}

// BenchmarkPPL1024 measures one PPL sample of a generator of the FFHQ model's size (NVlabs,
// 1024 px, random weights) with LPIPS on the full-width VGG16 (random weights): two 1024 px
// forwards, NVlabs' face crop and 2×2 box average to 256 px, one LPIPS pair. samples/s is what
// the paper's 100,000 samples per space divide by.
func BenchmarkPPL1024(b *testing.B) {
	cfg := model.NVlabs(1024)
	g, err := model.New(cfg, model.RandomWeights(cfg, 1))
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	trunk, lin := lpips.RandomWeights(lpips.VGG16Widths, 1)
	n, err := lpips.New(trunk, lin)
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	const samples = 2
	o := PPLOptions{Space: "w", Samples: samples, Batch: samples, Crop: true}
	if _, err := PPL(context.Background(), g, lpipsDistance{n}, o); err != nil { // warm-up: graphs, transforms
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		o.Seed = int64(i + 1)
		if _, err := PPL(context.Background(), g, lpipsDistance{n}, o); err != nil {
			b.Fatal(err)
		}
	}
	s := b.Elapsed().Seconds()
	rate := float64(samples*b.N) / s
	b.ReportMetric(rate, "samples/s")
	b.ReportMetric(100000/rate/3600, "h/100k")
}
