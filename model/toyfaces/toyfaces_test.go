package toyfaces

import (
	"bytes"
	"math"
	"slices"
	"testing"
)

// img is a rendered 64×64 image in [0, 1] with its layer maps.
type img struct {
	pix []float64 // 64·64·3 interleaved
	ids []uint8   // top layer
	any []uint32  // every layer touching the pixel
}

func renderImg(p params) img {
	r := getRenderer()
	defer putRenderer(r)
	m := &layerMaps{top: make([]uint8, Size*Size), any: make([]uint32, Size*Size)}
	out := r.render(&p, m)
	pix := make([]float64, len(out))
	for i, v := range out {
		pix[i] = float64(v) / 255
	}
	return img{pix, m.top, m.any}
}

// with returns a copy of p with factor i set to class c.
func with(p params, i, c int) params {
	p.labels = slices.Clone(p.labels)
	p.labels[i] = c
	return p
}

func base(seed int64) params { return newParams(seed) }

func meanAbsDiff(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += math.Abs(a[i] - b[i])
	}
	return s / float64(len(a))
}

// down averages a 64×64×3 image to n×n×3.
func down(pix []float64, n int) []float64 {
	f := Size / n
	out := make([]float64, n*n*3)
	for y := 0; y < Size; y++ {
		for x := 0; x < Size; x++ {
			for c := 0; c < 3; c++ {
				out[((y/f)*n+x/f)*3+c] += pix[(y*Size+x)*3+c] / float64(f*f)
			}
		}
	}
	return out
}

// luma returns the luminance plane of an interleaved RGB image.
func luma(pix []float64) []float64 {
	out := make([]float64, len(pix)/3)
	for i := range out {
		out[i] = 0.2126*pix[3*i] + 0.7152*pix[3*i+1] + 0.0722*pix[3*i+2]
	}
	return out
}

// correlation is Pearson's correlation of a and b.
func correlation(a, b []float64) float64 {
	var ma, mb float64
	for i := range a {
		ma += a[i]
		mb += b[i]
	}
	ma /= float64(len(a))
	mb /= float64(len(b))
	var sab, saa, sbb float64
	for i := range a {
		sab += (a[i] - ma) * (b[i] - mb)
		saa += (a[i] - ma) * (a[i] - ma)
		sbb += (b[i] - mb) * (b[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}

// count returns how many pixels have one of the ids.
func (m img) count(ids ...uint8) int {
	n := 0
	for _, id := range m.ids {
		if slices.Contains(ids, id) {
			n++
		}
	}
	return n
}

// centroid returns the mean position of the pixels with one of the ids.
func (m img) centroid(ids ...uint8) (x, y float64, n int) {
	for i, id := range m.ids {
		if slices.Contains(ids, id) {
			x += float64(i % Size)
			y += float64(i / Size)
			n++
		}
	}
	return x / float64(n), y / float64(n), n
}

// changed lists the pixels whose colour differs by more than tol in some
// channel.
func changed(a, b img, tol float64) []int {
	var out []int
	for i := 0; i < Size*Size; i++ {
		for c := 0; c < 3; c++ {
			if math.Abs(a.pix[3*i+c]-b.pix[3*i+c]) > tol {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

// touched reports whether one of the layers ids touches pixel i.
func (m img) touched(i int, ids ...uint8) bool {
	for _, id := range ids {
		if m.any[i]&(1<<id) != 0 {
			return true
		}
	}
	return false
}

func TestDeterministic(t *testing.T) {
	for _, seed := range []int64{0, 1, -7, 1 << 40} {
		a, la := Sample(seed)
		b, lb := Sample(seed)
		if !bytes.Equal(a.Pix, b.Pix) || !slices.Equal(la, lb) {
			t.Errorf("seed %d: two renders differ", seed)
		}
	}
	a, _ := Sample(1)
	b, _ := Sample(2)
	if bytes.Equal(a.Pix, b.Pix) {
		t.Error("seeds 1 and 2 render the same image")
	}
}

func TestSizesAgree(t *testing.T) {
	seeds := []int64{3, 4, 5}
	for _, size := range []int{8, 16, 32, 64} {
		n := 3 * size * size
		dst := make([]float32, len(seeds)*n)
		labels := FillBatch(dst, seeds, size)
		for k, seed := range seeds {
			im, l := SampleSize(seed, size)
			if !slices.Equal(l, labels[k]) {
				t.Errorf("size %d seed %d: FillBatch labels %v, SampleSize %v", size, seed, labels[k], l)
			}
			if im.Bounds().Dx() != size || im.Bounds().Dy() != size {
				t.Fatalf("SampleSize(%d, %d) is %v", seed, size, im.Bounds())
			}
			// FillBatch is the unrounded area average, SampleSize rounds it.
			tol := 0.5/127.5 + 1e-5
			if size == Size {
				tol = 1e-6
			}
			for c := 0; c < 3; c++ {
				for y := 0; y < size; y++ {
					for x := 0; x < size; x++ {
						got := dst[k*n+c*size*size+y*size+x]
						want := float32(im.Pix[im.PixOffset(x, y)+c])/127.5 - 1
						if got < -1 || got > 1 || math.Abs(float64(got-want)) > tol {
							t.Fatalf("size %d seed %d (%d,%d,%d): FillBatch %v, SampleSize %v", size, seed, c, y, x, got, want)
						}
					}
				}
			}
		}
	}
}

func TestStream(t *testing.T) {
	const seed = 42
	// The reference: FillBatch of the stream's seeds.
	const n = 40
	seeds := make([]int64, n)
	for i := range seeds {
		seeds[i] = StreamSeed(seed, uint64(i))
	}
	want := make([]float32, n*3*16*16)
	wantL := FillBatch(want, seeds, 16)

	for _, workers := range []int{1, 3} {
		s := NewStream(seed, workers)
		got := make([]float32, 0, len(want))
		var gotL []Labels
		for _, b := range []int{1, 7, 16, 16} { // crosses chunk boundaries
			dst := make([]float32, b*3*16*16)
			gotL = append(gotL, s.Next(dst, 16)...)
			got = append(got, dst...)
		}
		s.Close()
		if !slices.Equal(got, want) {
			t.Errorf("workers %d: stream pixels differ from FillBatch of StreamSeed", workers)
		}
		for i := range wantL {
			if !slices.Equal(gotL[i], wantL[i]) {
				t.Errorf("workers %d: image %d labels %v, want %v", workers, i, gotL[i], wantL[i])
			}
		}
	}
	// Sizes can change between calls without skipping images.
	s := NewStream(seed, 2)
	defer s.Close()
	a := make([]float32, 3*8*8)
	b := make([]float32, 3*64*64)
	la := s.Next(a, 8)
	lb := s.Next(b, 64)
	if !slices.Equal(la[0], wantL[0]) || !slices.Equal(lb[0], wantL[1]) {
		t.Errorf("mixed sizes: labels %v %v, want %v %v", la[0], lb[0], wantL[0], wantL[1])
	}
}

func TestLabelDistribution(t *testing.T) {
	const n = 5000
	counts := make([][]int, len(Factors))
	for i, f := range Factors {
		counts[i] = make([]int, len(f.Classes))
	}
	for seed := int64(0); seed < n; seed++ {
		l := newParams(seed).labels
		if len(l) != len(Factors) {
			t.Fatalf("seed %d: %d labels, want %d", seed, len(l), len(Factors))
		}
		for i, c := range l {
			if c < 0 || c >= len(Factors[i].Classes) {
				t.Fatalf("seed %d: %s = %d out of range", seed, Factors[i].Name, c)
			}
			counts[i][c]++
		}
		if l[FHair] == hairLong && l[FBeard] == beardFull {
			t.Fatalf("seed %d: long hair with a full beard (the hole)", seed)
		}
	}
	// Every class within 15% (relative) of uniform: at least 6 standard
	// deviations for n = 5000.
	for i, f := range Factors {
		k := float64(len(f.Classes))
		for c, m := range counts[i] {
			p := float64(m) / n
			if math.Abs(p-1/k) > 0.15/k {
				t.Errorf("%s = %s: frequency %.3f, want %.3f ± %.3f", f.Name, f.Classes[c], p, 1/k, 0.15/k)
			}
		}
	}
	for _, f := range Factors {
		if f.Group != "coarse" && f.Group != "middle" && f.Group != "fine" {
			t.Errorf("%s: group %q", f.Name, f.Group)
		}
	}
}

// ids of the layers drawn in the hair colour.
var hairIDs = []uint8{idHairBack, idHairFront, idBrow, idBeard}

// TestYawIsCoarse: turning the head moves the features by several pixels
// and changes the 8×8 image a lot — far more than any fine change does.
func TestYawIsCoarse(t *testing.T) {
	var d8yaw, d8hair, d8noise, corrYaw, corrHair float64
	const n = 40
	for seed := int64(0); seed < n; seed++ {
		p := with(base(seed), FRoll, 1)
		left, front, right := renderImg(with(p, FYaw, 0)), renderImg(with(p, FYaw, 1)), renderImg(with(p, FYaw, 2))
		xl, _, _ := left.centroid(idEye, idNose, idMouth)
		xf, _, _ := front.centroid(idEye, idNose, idMouth)
		xr, _, _ := right.centroid(idEye, idNose, idMouth)
		if xf-xl < 5 || xr-xf < 5 {
			t.Errorf("seed %d: feature centroid x left/frontal/right %.1f %.1f %.1f, want ≥ 5 px apart", seed, xl, xf, xr)
		}
		// The head outline moves too.
		sil := 0
		for i := range left.ids {
			if (left.ids[i] == idBg) != (right.ids[i] == idBg) {
				sil++
			}
		}
		if sil < 40 {
			t.Errorf("seed %d: silhouette changes in %d pixels from yaw left to right, want ≥ 40", seed, sil)
		}
		d8yaw += meanAbsDiff(down(left.pix, 8), down(right.pix, 8)) / n
		corrYaw += correlation(luma(left.pix), luma(right.pix)) / n

		q := with(p, FHairColor, 1)                             // brown
		a, b := renderImg(q), renderImg(with(q, FHairColor, 3)) // red
		d8hair += meanAbsDiff(down(a.pix, 8), down(b.pix, 8)) / n
		corrHair += correlation(luma(a.pix), luma(b.pix)) / n

		q.noise++
		d8noise += meanAbsDiff(down(a.pix, 8), down(renderImg(q).pix, 8)) / n
	}
	t.Logf("8×8 mean abs diff: yaw %.4f, hair colour %.4f, noise %.5f; luminance correlation: yaw %.3f, hair colour %.3f",
		d8yaw, d8hair, d8noise, corrYaw, corrHair)
	if d8yaw < 0.04 {
		t.Errorf("yaw changes the 8×8 image by %.4f, want ≥ 0.04", d8yaw)
	}
	if d8yaw < 30*d8noise {
		t.Errorf("yaw changes the 8×8 image by %.4f, not ≥ 30× the noise (%.5f)", d8yaw, d8noise)
	}
	if corrYaw > 0.8 || corrHair < 0.95 {
		t.Errorf("luminance layout correlation: yaw %.3f (want ≤ 0.8), hair colour %.3f (want ≥ 0.95)", corrYaw, corrHair)
	}
}

// TestColourFactorsKeepLayout: the fine factors recolour their own layers
// and leave the layout (the layer map) and every other pixel alone.
func TestColourFactorsKeepLayout(t *testing.T) {
	cases := []struct {
		factor int
		ids    []uint8 // the layers it may change
	}{
		{FHairColor, hairIDs},
		{FSkin, []uint8{idHead, idEar, idNeck, idFreckle, idNose, idMouth, idBeard}},
		// (Layers over the skin with partial cover, like a brow's edge or a
		// lens, let it show through: they touch the head layer too.)
		{FBackground, []uint8{idBg}},
	}
	for _, tc := range cases {
		name := Factors[tc.factor].Name
		var minDiff = math.Inf(1)
		for seed := int64(0); seed < 30; seed++ {
			p := base(seed)
			k := len(Factors[tc.factor].Classes)
			c0 := p.labels[tc.factor]
			a, b := renderImg(p), renderImg(with(p, tc.factor, (c0+1+int(seed)%(k-1))%k))
			if !bytes.Equal(a.ids, b.ids) {
				t.Errorf("%s, seed %d: layer map changed", name, seed)
			}
			var own, ownN float64
			for _, i := range changed(a, b, 1.5/255) {
				if !a.touched(i, tc.ids...) {
					t.Errorf("%s, seed %d: pixel (%d,%d) of layer %d changed", name, seed, i%Size, i/Size, a.ids[i])
					break
				}
			}
			for i, id := range a.ids {
				if slices.Contains(tc.ids[:1], id) {
					for c := 0; c < 3; c++ {
						own += math.Abs(a.pix[3*i+c] - b.pix[3*i+c])
					}
					ownN++
				}
			}
			if ownN > 0 {
				minDiff = min(minDiff, own/ownN)
			}
		}
		t.Logf("%s: smallest mean colour change (sum over RGB) of its main layer: %.3f", name, minDiff)
		if minDiff < 0.12 {
			t.Errorf("%s: a class change moves the colour of its main layer by only %.3f", name, minDiff)
		}
	}
}

// checkRegion checks that every changed pixel lies in the rows [y0, y1)
// and that at least minN pixels changed by more than 0.1.
func checkRegion(t *testing.T, what string, a, b img, y0, y1, minN int) {
	t.Helper()
	ch := changed(a, b, 0.1)
	if len(ch) < minN {
		t.Errorf("%s: %d pixels changed by > 0.1, want ≥ %d", what, len(ch), minN)
	}
	for _, i := range changed(a, b, 1.5/255) {
		if y := i / Size; y < y0 || y >= y1 {
			t.Errorf("%s: pixel (%d,%d) outside rows [%d, %d) changed", what, i%Size, y, y0, y1)
			return
		}
	}
}

// TestMiddleFactorsVisible: each facial feature changes a clear patch of
// the face and nothing else.
func TestMiddleFactorsVisible(t *testing.T) {
	for seed := int64(0); seed < 30; seed++ {
		p := with(with(base(seed), FRoll, 1), FHair, hairShort) // short: no hole
		open, closed := renderImg(with(p, FEyes, 0)), renderImg(with(p, FEyes, 1))
		_, ey, _ := open.centroid(idEye)
		checkRegion(t, "eyes", open, closed, int(ey)-4, int(ey)+5, 6)

		m := [3]img{}
		for c := range m {
			m[c] = renderImg(with(p, FMouth, c))
		}
		for i := 0; i < 3; i++ {
			for j := i + 1; j < 3; j++ {
				checkRegion(t, "mouth", m[i], m[j], 32, 58, 5)
			}
		}

		g := [3]img{}
		for c := range g {
			g[c] = renderImg(with(p, FGlasses, c))
		}
		if n := g[0].count(idGlasses); n != 0 {
			t.Errorf("seed %d: %d glasses pixels without glasses", seed, n)
		}
		for c := 1; c < 3; c++ {
			if n := g[c].count(idGlasses); n < 20 {
				t.Errorf("seed %d: glasses %s cover %d pixels, want ≥ 20", seed, Factors[FGlasses].Classes[c], n)
			}
		}
		if n := len(changed(g[1], g[2], 0.1)); n < 4 {
			t.Errorf("seed %d: round and square glasses differ in %d pixels, want ≥ 4", seed, n)
		}

		b := [3]img{}
		for c := range b {
			b[c] = renderImg(with(p, FBeard, c))
		}
		n0, n1, n2 := b[0].count(idBeard), b[1].count(idBeard), b[2].count(idBeard)
		if n0 != 0 || n1 < 30 || n2 < n1+20 {
			t.Errorf("seed %d: beard pixels none/stubble/full %d %d %d, want 0, ≥ 30, ≥ stubble+20", seed, n0, n1, n2)
		}
	}
}

// TestCoarseFactorsVisible: hair style, face shape and roll each change
// the silhouette in their own way.
func TestCoarseFactorsVisible(t *testing.T) {
	hair := []uint8{idHairBack, idHairFront}
	for seed := int64(0); seed < 30; seed++ {
		p := with(with(base(seed), FRoll, 1), FBeard, beardNone)
		var h [4]img
		for c := range h {
			h[c] = renderImg(with(p, FHair, c))
		}
		if n := h[hairBald].count(hair...); n != 0 {
			t.Errorf("seed %d: bald head with %d hair pixels", seed, n)
		}
		below := func(m img, y0 int) int {
			n := 0
			for i, id := range m.ids {
				if i/Size >= y0 && slices.Contains(hair, id) {
					n++
				}
			}
			return n
		}
		top := func(m img) int {
			for i, id := range m.ids {
				if slices.Contains(hair, id) {
					return i / Size
				}
			}
			return Size
		}
		if n := h[hairShort].count(hair...); n < 100 || below(h[hairShort], 46) > 0 {
			t.Errorf("seed %d: short hair has %d pixels, %d below row 46", seed, n, below(h[hairShort], 46))
		}
		if n := below(h[hairLong], 46); n < 40 {
			t.Errorf("seed %d: long hair has %d pixels below row 46, want ≥ 40", seed, n)
		}
		if ts, tb := top(h[hairShort]), top(h[hairBun]); tb > ts-4 {
			t.Errorf("seed %d: bun reaches row %d, short hair row %d: want ≥ 4 rows higher", seed, tb, ts)
		}

		// Face shape: the aspect of the bald head.
		q := with(with(p, FHair, hairBald), FYaw, 1)
		var aspect [3]float64
		for c := range aspect {
			m := renderImg(with(q, FShape, c))
			x0, x1, y0, y1 := Size, 0, Size, 0
			for i, id := range m.ids {
				if id == idHead {
					x0, x1 = min(x0, i%Size), max(x1, i%Size)
					y0, y1 = min(y0, i/Size), max(y1, i/Size)
				}
			}
			aspect[c] = float64(y1-y0+1) / float64(x1-x0+1)
		}
		if aspect[0] > 1.1 || aspect[1] < aspect[0]+0.15 || aspect[2] < aspect[1]+0.2 {
			t.Errorf("seed %d: height/width round %.2f, oval %.2f, long %.2f", seed, aspect[0], aspect[1], aspect[2])
		}

		// Roll: the line through the eyes tilts.
		var tilt [3]float64
		for c := range tilt {
			m := renderImg(with(with(with(p, FYaw, 1), FRoll, c), FGlasses, 0))
			var sx, sy [2]float64
			var n [2]int
			for i, id := range m.ids {
				if id == idEye {
					s := 0
					if i%Size >= 32 {
						s = 1
					}
					sx[s] += float64(i % Size)
					sy[s] += float64(i / Size)
					n[s]++
				}
			}
			tilt[c] = math.Atan2(sy[1]/float64(n[1])-sy[0]/float64(n[0]), sx[1]/float64(n[1])-sx[0]/float64(n[0])) * 180 / math.Pi
		}
		if tilt[0] > -8 || math.Abs(tilt[1]) > 5 || tilt[2] < 8 {
			t.Errorf("seed %d: eye line tilt left/none/right %.1f° %.1f° %.1f°", seed, tilt[0], tilt[1], tilt[2])
		}
	}
}

// TestStochastic: the noise seed changes details (freckles, strands, grain)
// but not the layout, and only a little.
func TestStochastic(t *testing.T) {
	var sum float64
	const n = 40
	for seed := int64(0); seed < n; seed++ {
		p := base(seed)
		q := p
		q.noise = p.noise ^ 0x9e3779b9
		a, b := renderImg(p), renderImg(q)
		d := meanAbsDiff(a.pix, b.pix)
		sum += d / n
		if d == 0 {
			t.Errorf("seed %d: a different noise seed gives the same image", seed)
		}
		if d > 0.012 {
			t.Errorf("seed %d: noise changes the image by %.4f on average, want ≤ 0.012", seed, d)
		}
		for i := range a.ids {
			if a.ids[i] != b.ids[i] && a.ids[i] != idFreckle && b.ids[i] != idFreckle {
				t.Errorf("seed %d: noise changed the layer at (%d,%d) from %d to %d", seed, i%Size, i/Size, a.ids[i], b.ids[i])
				break
			}
		}
	}
	t.Logf("mean abs difference between two noise seeds: %.4f (in [0, 1])", sum)
}

// TestFillDraws: the draw with the image's own noise seed is FillBatch's
// image bit for bit; another draw changes only the stochastic details.
func TestFillDraws(t *testing.T) {
	const size = 32
	n := 3 * size * size
	for seed := int64(0); seed < 5; seed++ {
		own := newParams(seed).noise
		draws := make([]float32, 2*n)
		l := FillDraws(draws, seed, []uint64{own, own ^ 0x9e3779b9}, size)
		ref := make([]float32, n)
		want := FillBatch(ref, []int64{seed}, size)[0]
		if !slices.Equal(l, want) {
			t.Errorf("seed %d: labels %v, want %v", seed, l, want)
		}
		if !slices.Equal(draws[:n], ref) {
			t.Errorf("seed %d: the draw with the image's own noise seed differs from FillBatch", seed)
		}
		var d float64
		for i, v := range draws[n:] {
			d += math.Abs(float64(v-ref[i])) / 2 / float64(n) // [-1, 1] -> [0, 1] units
		}
		if d == 0 || d > 0.012 {
			t.Errorf("seed %d: another noise seed changes the image by %.4f on average, want in (0, 0.012]", seed, d)
		}
	}
}
