package train

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the user plus system time of the process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStep times training iterations of the default architecture at
// each resolution (stable phase, default batch sizes) and reports images/s.
// Run with -tags openblas (CGO_LDFLAGS=-lopenblas) to measure what the
// trainer gets; model/bench/train_compare.sh runs it next to the same step in
// PyTorch (model/bench/torch_train_step.py). Data rendering is not timed.
func BenchmarkStep(b *testing.B) {
	for _, c := range []struct{ res, batch int }{{8, 32}, {16, 32}, {32, 16}, {64, 16}} {
		b.Run(fmt.Sprintf("%dpx", c.res), func(b *testing.B) {
			opt := DefaultOptions()
			opt.DataPool = 256
			sched := ""
			for r := 8; r <= c.res; r *= 2 {
				if sched != "" {
					sched += ","
				}
				stable := "1"
				if r == c.res {
					stable = "inf"
				}
				sched += fmt.Sprintf("%d:0+%s@%d", r, stable, c.batch)
			}
			opt.Schedule = sched
			tr, err := New(opt)
			if err != nil {
				b.Fatal(err)
			}
			defer tr.Close()
			tr.Images = int64(c.batch) * int64(stepOf(c.res)) // past the 1-image phases
			for i := 0; i < 8; i++ {                          // build graphs, warm up
				if err := tr.Step(); err != nil {
					b.Fatal(err)
				}
			}
			// Render the whole pool before timing: the timed steps then only
			// downsample reals from memory (model/bench/torch_train_step.py's
			// reals cost the same), and no renderer competes for the cores.
			for k := int64(0); k < int64(opt.DataPool); k++ {
				tr.data.image(k)
			}
			n0 := tr.Images
			cpu0 := cpuTime()
			for b.Loop() {
				if err := tr.Step(); err != nil {
					b.Fatal(err)
				}
			}
			n := float64(tr.Images - n0)
			b.ReportMetric(n/b.Elapsed().Seconds(), "images/s")
			// CPU time of the whole process (OpenBLAS threads included) per
			// image: steadier than images/s on a machine shared with other jobs.
			b.ReportMetric((cpuTime()-cpu0).Seconds()*1e3/n, "cpu-ms/image")
		})
	}
}
