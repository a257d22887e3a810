package train

import (
	"sync"
	"sync/atomic"

	"stylegan-tui/model/toyfaces"
)

// dataset serves toyfaces images by index: image k is the toyfaces image
// of seed StreamSeed(seed, k mod pool), so a batch depends only on its
// position (resume is exact) and not on timing. The pool (like FFHQ's 70k
// photos) is rendered lazily at 64 px and kept in memory, since rendering
// costs about as much as a training step at 8 px; a goroutine renders
// ahead of the consumer.
type dataset struct {
	seed int64
	pool int64
	pix  []atomic.Pointer[[]uint8] // 64x64 interleaved RGB

	mu    sync.Mutex
	ahead int64 // the prefetcher renders indices < ahead
	wake  chan struct{}
	quit  chan struct{}
	wg    sync.WaitGroup
}

// prefetch is how many images the background renderer runs ahead.
const prefetch = 2048

func newDataset(seed int64, pool int) *dataset {
	d := &dataset{seed: seed, pool: int64(pool), pix: make([]atomic.Pointer[[]uint8], pool),
		wake: make(chan struct{}, 1), quit: make(chan struct{})}
	d.wg.Add(1)
	go d.run()
	return d
}

func (d *dataset) close() {
	close(d.quit)
	d.wg.Wait()
}

func (d *dataset) run() {
	defer d.wg.Done()
	next := int64(0)
	for {
		d.mu.Lock()
		ahead := d.ahead
		d.mu.Unlock()
		if next < ahead-prefetch {
			next = ahead - prefetch
		}
		if next >= ahead {
			select {
			case <-d.wake:
				continue
			case <-d.quit:
				return
			}
		}
		select {
		case <-d.quit:
			return
		default:
		}
		d.image(next)
		next++
	}
}

// image returns the 64 px pixels of image k, rendering it if needed.
func (d *dataset) image(k int64) []uint8 {
	slot := k % d.pool
	if p := d.pix[slot].Load(); p != nil {
		return *p
	}
	img, _ := toyfaces.Sample(toyfaces.StreamSeed(d.seed, uint64(slot)))
	pix := make([]uint8, toyfaces.Size*toyfaces.Size*3)
	for i := 0; i < toyfaces.Size*toyfaces.Size; i++ {
		copy(pix[3*i:3*i+3], img.Pix[4*i:4*i+3])
	}
	d.pix[slot].Store(&pix)
	return pix
}

// fill writes images first..first+B−1 at size×size into dst as NCHW in
// [−1,1] (the area average of the 8-bit 64 px image, as toyfaces.FillBatch).
func (d *dataset) fill(dst []float32, first int64, B, size int) {
	d.mu.Lock()
	d.ahead = max(d.ahead, first+int64(B)+prefetch)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	n := 3 * size * size
	for i := 0; i < B; i++ {
		toyfaces.DownsampleCHW(dst[i*n:(i+1)*n], d.image(first+int64(i)), size)
	}
}

// fadeReals blends NCHW reals at res toward their half-resolution version,
// as the fakes are during a fade-in: lerp(up2(down2(x)), x, alpha), with the
// area average and nearest upsampling of the fade in G and D (progressive
// GAN's process_reals). Without it D tells the blocky fakes of a young
// block from sharp reals by their blockiness alone.
func fadeReals(x []float32, res int, alpha float64) {
	if alpha >= 1 {
		return
	}
	a := float32(alpha)
	for p := 0; p+res*res <= len(x); p += res * res {
		pl := x[p : p+res*res]
		for i := 0; i < res; i += 2 {
			for j := 0; j < res; j += 2 {
				k := i*res + j
				m := 0.25 * (pl[k] + pl[k+1] + pl[k+res] + pl[k+res+1])
				for _, q := range [4]int{k, k + 1, k + res, k + res + 1} {
					pl[q] = m + a*(pl[q]-m)
				}
			}
		}
	}
}
