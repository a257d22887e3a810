package nvpkl

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"
)

// ffhqNets returns (G, D, Gs) with the variable names and shapes of NVlabs'
// karras2019stylegan-ffhq-1024x1024.pkl: G_style with 8 mapping layers of
// 512 and G_synthesis with fmap_base 8192, fmap_max 512, i.e.
// nf(stage) = min(8192/2^stage, 512) channels at resolution 2^(stage+1):
// 512 up to 32 px, 256@64, 128@128, 64@256, 32@512, 16@1024 (26.2M
// parameters, the paper's count, plus 2.8M noise-map values), and D_basic
// to match. Values are seeded random floats generated while writing.
// gsBytes is the size of Gs's float32 tensors as Load returns them.
func ffhqNets() (G, D, Gs *synthNet, gsBytes int64) {
	const fmapBase, fmapMax, dlatent = 8192, 512, 512
	nf := func(stage int) int { return min(fmapBase>>stage, fmapMax) }
	v := func(name string, shape ...int) synthVar { return synthVar{name: name, shape: shape, stream: true} }
	lod := synthVar{name: "lod", scalar: true, data: []float32{0}}
	kw := [][2]any{{"num_channels", 3}, {"resolution", 1024}, {"label_size", 0}, {"fmap_base", fmapBase},
		{"fmap_max", fmapMax}, {"latent_size", 512}, {"dlatent_size", dlatent}, {"truncation_psi", 0.7}, {"truncation_cutoff", 8}}

	gen := func(name string) *synthNet {
		mapping := &synthNet{name: "G_mapping", buildFunc: "G_mapping", version: 3, kwargs: kw}
		for i := range 8 {
			mapping.vars = append(mapping.vars, v(fmt.Sprintf("Dense%d/weight", i), 512, 512), v(fmt.Sprintf("Dense%d/bias", i), 512))
		}
		synth := &synthNet{name: "G_synthesis", buildFunc: "G_synthesis", version: 3, kwargs: kw, vars: []synthVar{lod}}
		for i := range 18 {
			r := 4 << (i / 2)
			synth.vars = append(synth.vars, v(fmt.Sprintf("noise%d", i), 1, 1, r, r))
		}
		layer := func(scope string, in, out int) {
			if in > 0 {
				synth.vars = append(synth.vars, v(scope+"/weight", 3, 3, in, out))
			}
			synth.vars = append(synth.vars, v(scope+"/Noise/weight", out), v(scope+"/bias", out),
				v(scope+"/StyleMod/weight", dlatent, 2*out), v(scope+"/StyleMod/bias", 2*out))
		}
		for lg := 2; lg <= 10; lg++ { // resolution 2^lg
			r, c := 1<<lg, nf(lg-1)
			scope := fmt.Sprintf("%dx%d", r, r)
			if lg == 2 {
				synth.vars = append(synth.vars, v(scope+"/Const/const", 1, c, 4, 4))
				layer(scope+"/Const", 0, c)
				layer(scope+"/Conv", c, c)
			} else {
				layer(scope+"/Conv0_up", nf(lg-2), c)
				layer(scope+"/Conv1", c, c)
			}
			rgb := fmt.Sprintf("ToRGB_lod%d", 10-lg)
			synth.vars = append(synth.vars, v(rgb+"/weight", 1, 1, c, 3), v(rgb+"/bias", 3))
		}
		return &synthNet{name: name, buildFunc: "G_style", version: 3, kwargs: kw,
			vars:       []synthVar{lod, v("dlatent_avg", dlatent)},
			components: []synthComponent{{key: "synthesis", net: synth}, {key: "mapping", net: mapping}}}
	}
	G, Gs = gen("G"), gen("Gs")

	D = &synthNet{name: "D", buildFunc: "D_basic", version: 3, kwargs: kw, vars: []synthVar{lod}}
	for lg := 10; lg >= 3; lg-- {
		r := 1 << lg
		scope := fmt.Sprintf("%dx%d", r, r)
		D.vars = append(D.vars, v(fmt.Sprintf("FromRGB_lod%d/weight", 10-lg), 1, 1, 3, nf(lg-1)), v(fmt.Sprintf("FromRGB_lod%d/bias", 10-lg), nf(lg-1)),
			v(scope+"/Conv0/weight", 3, 3, nf(lg-1), nf(lg-1)), v(scope+"/Conv0/bias", nf(lg-1)),
			v(scope+"/Conv1_down/weight", 3, 3, nf(lg-1), nf(lg-2)), v(scope+"/Conv1_down/bias", nf(lg-2)))
	}
	D.vars = append(D.vars, v("4x4/Conv/weight", 3, 3, nf(1)+1, nf(1)), v("4x4/Conv/bias", nf(1)),
		v("4x4/Dense0/weight", nf(1)*16, nf(0)), v("4x4/Dense0/bias", nf(0)), v("4x4/Dense1/weight", nf(0), 1), v("4x4/Dense1/bias", 1))

	var count func(n *synthNet)
	count = func(n *synthNet) {
		for _, x := range n.vars {
			if !x.scalar {
				gsBytes += 4 * int64(x.numel())
			}
		}
		for _, c := range n.components {
			count(c.net)
		}
	}
	count(Gs)
	return G, D, Gs, gsBytes
}

// writeFFHQSize writes a full-size 1024 px (G, D, Gs) pickle into dir.
func writeFFHQSize(tb testing.TB, dir string) (path string, gsBytes int64) {
	tb.Helper()
	G, D, Gs, gsBytes := ffhqNets()
	path = filepath.Join(dir, "ffhq-1024-layout.pkl")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := writeSynth(f, G, D, Gs); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path, gsBytes
}

func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkLoadFFHQSize loads a synthetic pickle with the layout and size
// of the official 1024 px FFHQ (G, D, Gs) file. It reports the peak heap
// above the pre-load baseline (live and not yet swept objects, sampled
// every 100 µs and at the end), the bytes allocated in total, and the
// peak as a multiple of Gs's float32 weights.
func BenchmarkLoadFFHQSize(b *testing.B) {
	path, gsBytes := writeFFHQSize(b, b.TempDir())
	fi, _ := os.Stat(path)
	b.SetBytes(gsBytes)
	var peak, allocated uint64
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		base, start := heapObjects(), heapAllocated()
		var high atomic.Uint64
		done := make(chan struct{})
		go func() {
			for {
				select {
				case <-done:
					return
				case <-time.After(100 * time.Microsecond):
					if h := heapObjects(); h > high.Load() {
						high.Store(h)
					}
				}
			}
		}()
		b.StartTimer()
		tensors, _, err := Load(path)
		b.StopTimer()
		if h := heapObjects(); h > high.Load() {
			high.Store(h)
		}
		close(done)
		if err != nil {
			b.Fatal(err)
		}
		if len(tensors) == 0 {
			b.Fatal("no tensors")
		}
		peak = max(peak, high.Load()-base)
		allocated = max(allocated, heapAllocated()-start)
		runtime.KeepAlive(tensors)
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
	b.ReportMetric(float64(allocated)/1e6, "alloc-MB")
	b.ReportMetric(float64(gsBytes)/1e6, "Gs-weights-MB")
	b.ReportMetric(float64(fi.Size())/1e6, "file-MB")
	b.ReportMetric(float64(peak)/float64(gsBytes), "peak/weights")
}
