// Package lpips implements LPIPS, the learned perceptual image patch similarity of Zhang et al.,
// "The Unreasonable Effectiveness of Deep Features as a Perceptual Metric" (CVPR 2018,
// arXiv:1801.03924), version 0.1 on a VGG16 trunk: the distance of StyleGAN's perceptual path
// length (Karras et al. 2019, section 4.1). It follows the reference implementation,
// richzhang/PerceptualSimilarity lpips/lpips.py (net='vgg', spatial=False):
//
//	x  -> (x - shift) / scale                      per RGB channel, x in [-1, 1]
//	f_l = VGG16 features at relu1_2, relu2_2, relu3_3, relu4_3, relu5_3   (l = 0..4)
//	f̂_l = f_l / (sqrt(Σ_c f_l²) + 1e-10)           unit length over channels, per position
//	d_l = mean over positions of Σ_c w_l[c]·(f̂_l(x0) − f̂_l(x1))²
//	d   = Σ_l d_l
//
// The trunk is torchvision's vgg16().features (the 13 3×3 convolutions with ReLU and the
// 2×2 max-pools between the five blocks), read from a state dict such as torchvision's
// vgg16-397923af.pth; the linear weights w_l are LPIPS's own, by default the v0.1 file embedded
// here (lpips_v0.1_vgg.pth, BSD-2-Clause, LICENSE-lpips beside it). Widths are taken from the
// files, so smaller VGG16-shaped trunks work too.
//
// The forward pass runs on the project's float32 kernels (model/ops: im2col + GEMM for the
// first convolution, Winograd F(2×2,3×3) with cached weight transforms for the others), pairs
// in batches, every kernel split over the cores.
package lpips

import (
	"bytes"
	_ "embed"
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"strings"
	"sync"

	"gorgonia.org/tensor"

	"stylegan-tui/checkpoints/safetensors"
	"stylegan-tui/checkpoints/torchpt"
	"stylegan-tui/model/kernels"
	"stylegan-tui/model/ops"
)

//go:embed lpips_v0.1_vgg.pth
var linV01 []byte

// Taps is the number of VGG16 layers LPIPS compares.
const Taps = 5

// TapNames are the taps in the names of the LPIPS paper.
var TapNames = [Taps]string{"relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3"}

// features lists torchvision's vgg16().features indices of the 13 convolutions. Each is
// followed by a ReLU; the taps are the ReLUs after convolutions 1, 3, 6, 9 and 12 (features
// 3, 8, 15, 22, 29), and a 2×2 max-pool follows taps 0-3 (features 4, 9, 16, 23).
var features = [13]int{0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28}

// tapAfter[i] is the tap read after convolution i's ReLU, or -1.
var tapAfter = [13]int{-1, 0, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4}

// shift and scale are lpips.py's ScalingLayer: ImageNet's mean and standard deviation in
// [-1, 1] units.
var (
	shift = [3]float32{-.030, -.088, -.188}
	scale = [3]float32{.458, .448, .450}
)

// MinSize is the smallest image side: after four max-pools relu5_3 still has one position.
const MinSize = 16

// Net is LPIPS with a VGG16 trunk. Its methods may be called from several goroutines.
type Net struct {
	convs  [13]conv
	lin    [Taps][]float32
	widths [Taps]int
}

// conv is one 3×3, pad-1 convolution of the trunk and its bias.
type conv struct {
	cin, cout int
	w         *tensor.Dense // [cout, cin, 3, 3], frozen: the kernels keep its Winograd transform
	b         []float32
}

// Widths returns the channel counts of the five taps (64, 128, 256, 512, 512 for VGG16).
func (n *Net) Widths() [Taps]int { return n.widths }

// VGGKeep reports whether a state dict entry is one LPIPS reads from a VGG16 file: the
// convolutions under features.*, not the classifier.
func VGGKeep(name string) bool { return strings.HasPrefix(name, "features.") }

// LoadVGG16 reads the trunk's tensors from a torchvision VGG16 state dict (legacy or zip
// torch.save file); classifier.* entries are skipped without being read.
func LoadVGG16(path string) (map[string]*safetensors.Tensor, error) {
	t, _, err := torchpt.LoadStateDict(path, VGGKeep)
	if err != nil {
		return nil, fmt.Errorf("lpips: VGG16 trunk: %w", err)
	}
	return t, nil
}

// LoadLin reads LPIPS linear layers (lin0.model.1.weight ... lin4.model.1.weight) from a torch
// file, or the embedded v0.1 weights when path is "".
func LoadLin(path string) (map[string]*safetensors.Tensor, error) {
	var t map[string]*safetensors.Tensor
	var err error
	if path == "" {
		t, _, err = torchpt.ReadStateDict("embedded lpips_v0.1_vgg.pth", bytes.NewReader(linV01), int64(len(linV01)), nil)
	} else {
		t, _, err = torchpt.LoadStateDict(path, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("lpips: linear layers: %w", err)
	}
	return t, nil
}

// Load reads the trunk from vgg16Path and the linear layers from linPath ("" for the embedded
// v0.1 weights) and builds the Net.
func Load(vgg16Path, linPath string) (*Net, error) {
	trunk, err := LoadVGG16(vgg16Path)
	if err != nil {
		return nil, err
	}
	lin, err := LoadLin(linPath)
	if err != nil {
		return nil, err
	}
	n, err := New(trunk, lin)
	if err != nil {
		where := "the embedded v0.1 file"
		if linPath != "" {
			where = linPath
		}
		return nil, fmt.Errorf("%w (trunk %s, linear layers %s)", err, vgg16Path, where)
	}
	return n, nil
}

// New builds the Net from a VGG16 state dict's features.* tensors and the LPIPS linear layers,
// checking every shape: convolution i is [Cout, Cin, 3, 3] with Cin the previous Cout (3 for
// the first) and a bias [Cout]; linear layer l is [1, C, 1, 1] with C the width of tap l.
// Call Close when done.
func New(trunk, lin map[string]*safetensors.Tensor) (*Net, error) {
	n := &Net{}
	cin := 3
	for i, f := range features {
		wn, bn := fmt.Sprintf("features.%d.weight", f), fmt.Sprintf("features.%d.bias", f)
		w, b := trunk[wn], trunk[bn]
		if w == nil {
			return nil, fmt.Errorf("lpips: VGG16 trunk: no %s (convolution %d of vgg16().features)%s", wn, i+1, tapNote(i))
		}
		if b == nil {
			return nil, fmt.Errorf("lpips: VGG16 trunk: no %s%s", bn, tapNote(i))
		}
		s := w.Shape
		if len(s) != 4 || s[1] != cin || s[2] != 3 || s[3] != 3 || s[0] < 1 {
			return nil, fmt.Errorf("lpips: VGG16 trunk: %s: shape %v, want [Cout %d 3 3]%s", wn, s, cin, tapNote(i))
		}
		cout := s[0]
		if len(b.Shape) != 1 || b.Shape[0] != cout {
			return nil, fmt.Errorf("lpips: VGG16 trunk: %s: shape %v, want [%d]", bn, b.Shape, cout)
		}
		if err := finite(wn, w.Data); err != nil {
			return nil, err
		}
		if err := finite(bn, b.Data); err != nil {
			return nil, err
		}
		n.convs[i] = conv{cin: cin, cout: cout, b: b.Data,
			w: tensor.New(tensor.WithShape(cout, cin, 3, 3), tensor.WithBacking(w.Data))}
		if t := tapAfter[i]; t >= 0 {
			n.widths[t] = cout
		}
		cin = cout
	}
	for l := range Taps {
		name := fmt.Sprintf("lin%d.model.1.weight", l)
		w := lin[name]
		if w == nil {
			return nil, fmt.Errorf("lpips: linear layers: no %s (the %s layer)", name, TapNames[l])
		}
		c := n.widths[l]
		if s := w.Shape; len(s) != 4 || s[0] != 1 || s[1] != c || s[2] != 1 || s[3] != 1 {
			return nil, fmt.Errorf("lpips: linear layers: %s: shape %v, want [1 %d 1 1] (the trunk's %s width)", name, s, c, TapNames[l])
		}
		if err := finite(name, w.Data); err != nil {
			return nil, err
		}
		n.lin[l] = w.Data
	}
	// The weights never change under a Net: let the 3×3 convolutions keep their Winograd
	// transforms (Close releases them).
	for _, c := range n.convs {
		ops.FreezeWeights(c.w)
	}
	return n, nil
}

// tapNote names the tap a convolution feeds, for errors.
func tapNote(i int) string {
	for j := i; j < len(tapAfter); j++ {
		if t := tapAfter[j]; t >= 0 {
			return fmt.Sprintf(", needed for the %s tap", TapNames[t])
		}
	}
	return ""
}

func finite(name string, v []float32) error {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("lpips: %s holds %g", name, x)
		}
	}
	return nil
}

// Close releases the cached weight transforms; the Net must not be used afterwards.
func (n *Net) Close() {
	for _, c := range n.convs {
		ops.ThawWeights(c.w)
	}
}

// actBudget bounds the floats of one activation buffer (two are used): the number of pairs per
// batch is the largest that fits, so that a 256 px pair of the full-width trunk (16 MB for the
// 64 channels of relu1_2, per image) takes a few pairs at a time and 16 px pairs hundreds.
var actBudget = 1 << 24

// Distance returns the LPIPS distance d_i between x0 image i and x1 image i, and the five
// per-tap terms whose sum it is, for batch pairs of [3, h, w] float32 images (NCHW, values in
// [-1, 1]). h and w must be at least MinSize.
func (n *Net) Distance(x0, x1 []float32, batch, h, w int) (d []float64, layers [][Taps]float64, err error) {
	if h < MinSize || w < MinSize {
		return nil, nil, fmt.Errorf("lpips: images of %d×%d px, want at least %d×%d (relu5_3 is 1/16 of the size)", h, w, MinSize, MinSize)
	}
	if batch < 0 || len(x0) != batch*3*h*w || len(x1) != batch*3*h*w {
		return nil, nil, fmt.Errorf("lpips: %d and %d values for %d pairs of 3×%d×%d images, want %d each", len(x0), len(x1), batch, h, w, batch*3*h*w)
	}
	maxAct := 3 * h * w // the input shares the first buffer
	hh, ww := h, w
	for i, c := range n.convs {
		maxAct = max(maxAct, c.cout*hh*ww)
		if t := tapAfter[i]; t >= 0 && t < Taps-1 {
			hh, ww = hh/2, ww/2
		}
	}
	per := max(1, min(batch, actBudget/(2*maxAct)))
	restore := ops.InferenceBLAS()
	defer restore()
	bufA := make([]float32, 2*per*maxAct)
	bufB := make([]float32, 2*per*maxAct)
	d = make([]float64, batch)
	layers = make([][Taps]float64, batch)
	img := 3 * h * w
	for p0 := 0; p0 < batch; p0 += per {
		m := min(per, batch-p0)
		// The chunk's images: x0 of pairs p0..p0+m-1, then their x1, so that a tap sees
		// both images of pair k at k and m+k.
		in := bufA[:2*m*img]
		scaleInput(in[:m*img], x0[p0*img:(p0+m)*img], m, h*w)
		scaleInput(in[m*img:], x1[p0*img:(p0+m)*img], m, h*w)
		n.trunk(in, bufB, bufA, 2*m, h, w, func(t int, f []float32, c, hw int) {
			tapDistance(layers[p0:p0+m], t, f, n.lin[t], m, c, hw)
		})
	}
	for i := range d {
		for _, v := range layers[i] {
			d[i] += v
		}
	}
	return d, layers, nil
}

// scaleInput writes lpips.py's ScalingLayer of b images [3, hw] of x to dst.
func scaleInput(dst, x []float32, b, hw int) {
	for i := range b {
		for c := range 3 {
			o := (i*3 + c) * hw
			s, k := shift[c], scale[c]
			for j, v := range x[o : o+hw] {
				dst[o+j] = (v - s) / k
			}
		}
	}
}

// trunk runs b images x [b,3,h,w] (held in the buffer other, which it overwrites) through the
// thirteen convolutions with cur and other as ping-pong buffers, calling tap with each tap's
// activation [b, c, hw].
func (n *Net) trunk(x, cur, other []float32, b, h, w int, tap func(t int, f []float32, c, hw int)) {
	for i, c := range n.convs {
		out := cur[:b*c.cout*h*w]
		kernels.Conv2dF32(out, x, c.w.Data().([]float32), b, c.cin, h, w, c.cout, 3, 1)
		biasReLU(out, c.b, b, c.cout, h*w)
		x = out
		cur, other = other, cur
		t := tapAfter[i]
		if t < 0 {
			continue
		}
		tap(t, x, c.cout, h*w)
		if t == Taps-1 {
			return
		}
		p := cur[:b*c.cout*(h/2)*(w/2)]
		maxPool2(p, x, b*c.cout, h, w)
		x = p
		h, w = h/2, w/2
		cur, other = other, cur
	}
}

// parallel runs fn over [0, n) split into one range per core, when the work (in elements) is
// worth the goroutines.
func parallel(n, work int, fn func(lo, hi int)) {
	p := min(runtime.GOMAXPROCS(0), n)
	if p <= 1 || work < 1<<15 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for k := range p {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(k*n/p, (k+1)*n/p)
		}()
	}
	wg.Wait()
}

// biasReLU computes x = max(0, x + bias[c]) in place for x [b, c, hw].
func biasReLU(x, bias []float32, b, c, hw int) {
	parallel(b*c, b*c*hw, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			s := bias[p%c]
			row := x[p*hw : (p+1)*hw]
			for j, v := range row {
				row[j] = max(v+s, 0)
			}
		}
	})
}

// maxPool2 writes the 2×2, stride-2 max-pool of planes [h, w] of x to dst [planes, h/2, w/2]
// (torch's MaxPool2d(2, 2): an odd last row or column is dropped).
func maxPool2(dst, x []float32, planes, h, w int) {
	ho, wo := h/2, w/2
	parallel(planes, planes*h*w, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			src, out := x[p*h*w:(p+1)*h*w], dst[p*ho*wo:(p+1)*ho*wo]
			for i := range ho {
				r0, r1 := src[2*i*w:], src[(2*i+1)*w:]
				o := out[i*wo : (i+1)*wo]
				for j := range o {
					o[j] = max(r0[2*j], r0[2*j+1], r1[2*j], r1[2*j+1])
				}
			}
		}
	})
}

// tapBlock is the number of positions per unit of tapDistance's work: partial sums are kept
// per block and added in block order, so the result does not depend on the number of cores.
const tapBlock = 256

// tapDistance adds tap t's term to layers[k][t] for the m pairs whose features are f images k
// (x0) and m+k (x1), each [c, hw]: the mean over positions of Σ_c lin[c]·(f̂0 − f̂1)², with
// f̂ = f / (‖f‖ + 1e-10) over channels. Sums run in float64.
func tapDistance(layers [][Taps]float64, t int, f, lin []float32, m, c, hw int) {
	img := c * hw
	nb := (hw + tapBlock - 1) / tapBlock
	part := make([]float64, m*nb)
	parallel(m*nb, 4*m*img, func(q0, q1 int) {
		var n0, n1, s [tapBlock]float64
		for q := q0; q < q1; q++ {
			k, j0 := q/nb, (q%nb)*tapBlock
			j1 := min(j0+tapBlock, hw)
			a, b := f[k*img:(k+1)*img], f[(m+k)*img:(m+k+1)*img]
			// Rows of one channel are contiguous: sum the squared norms channel by channel.
			clear(n0[:])
			clear(n1[:])
			for ch := range c {
				ra, rb := a[ch*hw+j0:ch*hw+j1], b[ch*hw+j0:ch*hw+j1]
				for j, v := range ra {
					n0[j] += float64(v) * float64(v)
					n1[j] += float64(rb[j]) * float64(rb[j])
				}
			}
			for j := range j1 - j0 {
				n0[j] = 1 / (math.Sqrt(n0[j]) + 1e-10)
				n1[j] = 1 / (math.Sqrt(n1[j]) + 1e-10)
			}
			clear(s[:])
			for ch := range c {
				ra, rb := a[ch*hw+j0:ch*hw+j1], b[ch*hw+j0:ch*hw+j1]
				wc := float64(lin[ch])
				for j, v := range ra {
					diff := float64(v)*n0[j] - float64(rb[j])*n1[j]
					s[j] += wc * diff * diff
				}
			}
			var sum float64
			for _, v := range s[:j1-j0] {
				sum += v
			}
			part[q] = sum
		}
	})
	for k := range m {
		var sum float64
		for _, v := range part[k*nb : (k+1)*nb] {
			sum += v
		}
		layers[k][t] += sum / float64(hw)
	}
}

// VGG16Widths are the tap widths of torchvision's VGG16.
var VGG16Widths = [Taps]int{64, 128, 256, 512, 512}

// RandomWeights returns a VGG16-shaped trunk (features.* tensors) with the given tap widths and
// He-initialised random weights, and linear layers of matching widths, deterministic in seed:
// for benchmarks and tests that need the real sizes without the real weights.
func RandomWeights(widths [Taps]int, seed int64) (trunk, lin map[string]*safetensors.Tensor) {
	r := rand.New(rand.NewSource(seed))
	trunk = map[string]*safetensors.Tensor{}
	cin, block := 3, 0
	for i, f := range features {
		cout := widths[block]
		std := math.Sqrt(2 / float64(9*cin))
		w := make([]float32, cout*cin*9)
		for j := range w {
			w[j] = float32(r.NormFloat64() * std)
		}
		b := make([]float32, cout)
		for j := range b {
			b[j] = float32(r.NormFloat64() * 0.01)
		}
		trunk[fmt.Sprintf("features.%d.weight", f)] = &safetensors.Tensor{Shape: []int{cout, cin, 3, 3}, Data: w}
		trunk[fmt.Sprintf("features.%d.bias", f)] = &safetensors.Tensor{Shape: []int{cout}, Data: b}
		if tapAfter[i] >= 0 {
			block++
		}
		cin = cout
	}
	lin = map[string]*safetensors.Tensor{}
	for l, c := range widths {
		w := make([]float32, c)
		for j := range w {
			w[j] = float32(r.Float64() / float64(c))
		}
		lin[fmt.Sprintf("lin%d.model.1.weight", l)] = &safetensors.Tensor{Shape: []int{1, c, 1, 1}, Data: w}
	}
	return trunk, lin
}
