// Package classifier is the measuring instrument of the StyleGAN evaluation:
// a small CNN trained on the labels of the procedural toyfaces dataset, the
// counterpart of the paper's "VGG16 trained on the original data" (Karras et
// al. 2019, arXiv:1812.04948, sections 4.1 and 4.2), used to label generated
// images and to embed them for a Fréchet distance.
//
// The net sees 64×64 NCHW images in [-1, 1], the generator's range and
// layout. Images of a progressive-growing phase (8, 16 or 32 px) are first
// nearest-neighbour upsampled to 64 px (Upsample), so one net measures
// models from every phase; it is trained with the same resolution
// augmentation (Images gives real images at any resolution exactly as the
// GAN trainer shows them to its discriminator).
//
// Architecture (Config): per stage one 3×3 convolution, bias and leaky ReLU
// (or Config.Convs of them, VGG-style), each stage followed by a 2×2 average
// pool while the maps are larger than 4 px; then a dense layer to the feature vector (leaky ReLU; Features in
// Prediction) and one linear head per toyfaces factor. Each head's logits
// are soft-capped at ±LogitCap (LogitCap·tanh(z/LogitCap)), which keeps the
// softmax cross-entropy finite in float32 without a max subtraction.
//
// Training (Train) builds a gorgonia graph from the project's custom ops
// (model/ops); inference (Predict) runs the same functions with the ops'
// plain float32 kernels, in chunks.
package classifier

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"stylegan-tui/checkpoints/safetensors"
	"stylegan-tui/model/kernels"
	"stylegan-tui/model/ops"
	"stylegan-tui/model/toyfaces"
)

// Size is the input resolution of the net.
const Size = toyfaces.Size

// LogitCap bounds every logit: logit = LogitCap·tanh(z/LogitCap).
const LogitCap = 16

// slope is the leaky ReLU slope of every activation.
const slope = 0.2

// format is the "format" metadata value of a classifier file with one
// convolution per stage; formatConvs that of a file with several (it adds
// the "convs" metadata and names its tensors conv<stage>.<k>), so that an
// older reader refuses it by its format instead of a missing tensor.
const (
	format      = "stylegan-tui toyfaces classifier v1"
	formatConvs = "stylegan-tui toyfaces classifier v2"
)

// Config is the architecture of a classifier.
type Config struct {
	// Channels are the widths of the convolution stages, from 64 px down.
	// A 2×2 average pool follows every stage while the maps are larger
	// than 4 px, so five stages end at 4×4.
	Channels []int
	// Features is the width of the dense layer before the heads (the
	// feature vector of Prediction).
	Features int
	// Convs is the number of 3×3 convolutions per stage (0 means 1), each
	// with its bias and leaky ReLU; the first changes the width.
	Convs int
}

// DefaultConfig is the committed classifier's architecture: 64→32→16→8→4 px
// with 16, 32, 64, 128 channels, a fifth stage of 64 channels at 4 px, and
// 128 features (about 300k parameters, 1.2 MB).
func DefaultConfig() Config {
	return Config{Channels: []int{16, 32, 64, 128, 64}, Features: 128}
}

// depth is the number of convolutions per stage.
func (c Config) depth() int { return max(c.Convs, 1) }

// convName is the tensor name prefix of convolution k of stage i: conv<i>
// for a one-convolution net (the v1 file names), conv<i>.<k> otherwise.
func (c Config) convName(i, k int) string {
	if c.depth() == 1 {
		return fmt.Sprintf("conv%d", i)
	}
	return fmt.Sprintf("conv%d.%d", i, k)
}

// finalRes is the side of the last stage's maps.
func (c Config) finalRes() int {
	r := Size
	for i := range c.Channels {
		if c.pools(i) {
			r /= 2
		}
	}
	return r
}

// pools reports whether stage i is followed by a 2×2 average pool.
func (c Config) pools(i int) bool {
	r := Size
	for range i {
		if r > 4 {
			r /= 2
		}
	}
	return r > 4
}

// flatDim is the length of the flattened last-stage maps.
func (c Config) flatDim() int {
	r := c.finalRes()
	return c.Channels[len(c.Channels)-1] * r * r
}

// MaxWidth bounds a stage's channels and the feature vector's length.
const MaxWidth = 8192

func (c Config) validate() error {
	// The upper bounds keep a mistyped width (or a crafted file) from
	// asking for more memory than any machine has.
	if len(c.Channels) == 0 || c.Features < 1 || c.Features > MaxWidth || c.Convs < 0 || c.Convs > 8 {
		return fmt.Errorf("classifier: config %v: want at least one stage, 1..%d features and 0..8 convolutions per stage", c, MaxWidth)
	}
	for _, ch := range c.Channels {
		if ch < 1 || ch > MaxWidth {
			return fmt.Errorf("classifier: config %v: channels must be 1..%d", c, MaxWidth)
		}
	}
	return nil
}

// param is one named weight tensor.
type param struct {
	name  string
	shape []int
	data  []float32
}

// paramShapes lists the parameters of cfg in their fixed order.
func paramShapes(cfg Config) []param {
	var ps []param
	in := 3
	for i, c := range cfg.Channels {
		for k := range cfg.depth() {
			ps = append(ps,
				param{name: cfg.convName(i, k) + ".weight", shape: []int{c, in, 3, 3}},
				param{name: cfg.convName(i, k) + ".bias", shape: []int{c}})
			in = c
		}
	}
	ps = append(ps,
		param{name: "fc.weight", shape: []int{cfg.flatDim(), cfg.Features}},
		param{name: "fc.bias", shape: []int{cfg.Features}})
	for _, f := range toyfaces.Factors {
		ps = append(ps,
			param{name: "head." + f.Name + ".weight", shape: []int{cfg.Features, len(f.Classes)}},
			param{name: "head." + f.Name + ".bias", shape: []int{len(f.Classes)}})
	}
	return ps
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Net is a trained toyfaces classifier.
type Net struct {
	cfg    Config
	params []param // paramShapes order
	meta   map[string]string
}

// Config returns the net's architecture.
func (n *Net) Config() Config {
	return Config{Channels: slices.Clone(n.cfg.Channels), Features: n.cfg.Features, Convs: n.cfg.Convs}
}

// FeatureDim is the length of Prediction.Features[i].
func (n *Net) FeatureDim() int { return n.cfg.Features }

// NumParams is the number of weights.
func (n *Net) NumParams() int {
	s := 0
	for _, p := range n.params {
		s += len(p.data)
	}
	return s
}

// Metadata returns the free-form metadata saved with the net (training
// command, images seen, held-out accuracy); the caller may add entries
// before Save.
func (n *Net) Metadata() map[string]string { return n.meta }

// newNet allocates a net of cfg with zero weights.
func newNet(cfg Config) (*Net, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	n := &Net{cfg: cfg, params: paramShapes(cfg), meta: map[string]string{}}
	for i := range n.params {
		n.params[i].data = make([]float32, numel(n.params[i].shape))
	}
	return n, nil
}

func (n *Net) p(name string) []float32 {
	for _, p := range n.params {
		if p.name == name {
			return p.data
		}
	}
	panic("classifier: no parameter " + name)
}

// factorList is the "factors" metadata: name:classes for each factor.
func factorList() string {
	s := make([]string, len(toyfaces.Factors))
	for i, f := range toyfaces.Factors {
		s[i] = f.Name + ":" + strconv.Itoa(len(f.Classes))
	}
	return strings.Join(s, ",")
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// Parse decodes a classifier from safetensors bytes. Errors start with
// "classifier:" and name the tensor or metadata field at fault.
func Parse(b []byte) (*Net, error) {
	f, err := safetensors.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("classifier: %w", err)
	}
	md := f.Metadata
	if md["format"] != format && md["format"] != formatConvs {
		return nil, fmt.Errorf("classifier: metadata format %q, want %q or %q (not a toyfaces classifier file?)", md["format"], format, formatConvs)
	}
	if md["factors"] != factorList() {
		return nil, fmt.Errorf("classifier: metadata factors %q, want %q (trained on another toyfaces version)", md["factors"], factorList())
	}
	var cfg Config
	for _, s := range strings.Split(md["channels"], ",") {
		c, err := strconv.Atoi(s)
		if err != nil || c < 1 || c > 4096 {
			return nil, fmt.Errorf("classifier: metadata channels %q: want comma-separated positive integers", md["channels"])
		}
		cfg.Channels = append(cfg.Channels, c)
	}
	if cfg.Features, err = strconv.Atoi(md["features"]); err != nil || cfg.Features < 1 || cfg.Features > 1<<16 {
		return nil, fmt.Errorf("classifier: metadata features %q: want a positive integer", md["features"])
	}
	if md["format"] == formatConvs {
		if cfg.Convs, err = strconv.Atoi(md["convs"]); err != nil || cfg.Convs < 2 || cfg.Convs > 8 {
			return nil, fmt.Errorf("classifier: metadata convs %q: want 2..8 convolutions per stage", md["convs"])
		}
	}
	n, err := newNet(cfg)
	if err != nil {
		return nil, err
	}
	for i := range n.params {
		p := &n.params[i]
		t, err := f.Get(p.name, p.shape...)
		if err != nil {
			return nil, fmt.Errorf("classifier: %w", err)
		}
		for j, v := range t.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("classifier: %s: non-finite value %v at element %d", p.name, v, j)
			}
		}
		p.data = t.Data
	}
	if len(f.Tensors) != len(n.params) {
		for _, name := range f.Names() {
			if !slices.ContainsFunc(n.params, func(p param) bool { return p.name == name }) {
				return nil, fmt.Errorf("classifier: unexpected tensor %q", name)
			}
		}
	}
	for k, v := range md {
		n.meta[k] = v
	}
	return n, nil
}

// Load reads a classifier file.
func Load(path string) (*Net, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("classifier: %w", err)
	}
	n, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}

// Save writes the net to path as safetensors, through a temporary file and
// a rename: a failure never leaves a partial file or clobbers an old one.
func (n *Net) Save(path string) error {
	f := &safetensors.File{Tensors: map[string]*safetensors.Tensor{}, Metadata: map[string]string{}}
	for k, v := range n.meta {
		f.Metadata[k] = v
	}
	f.Metadata["format"] = format
	delete(f.Metadata, "convs")
	if n.cfg.depth() > 1 {
		f.Metadata["format"] = formatConvs
		f.Metadata["convs"] = strconv.Itoa(n.cfg.depth())
	}
	f.Metadata["factors"] = factorList()
	f.Metadata["channels"] = joinInts(n.cfg.Channels)
	f.Metadata["features"] = strconv.Itoa(n.cfg.Features)
	for _, p := range n.params {
		f.Tensors[p.name] = &safetensors.Tensor{Shape: slices.Clone(p.shape), Data: p.data}
	}
	if err := safetensors.WriteFile(path, f); err != nil {
		return fmt.Errorf("classifier: %w", err)
	}
	return nil
}

// Prediction is the classifier's output for a batch of images.
type Prediction struct {
	// Labels[i][f] is the most probable class of factor f (toyfaces.Factors order).
	Labels []toyfaces.Labels
	// Probs[i][f] is the softmax over the classes of factor f.
	Probs [][][]float32
	// Features[i] is the penultimate activation (after the dense layer's leaky ReLU).
	Features [][]float32
}

// chunk is the number of images Predict runs at once.
const chunk = 64

// Predict classifies a batch of images x, NCHW float32 in [-1,1] (the
// generator's output range and layout), at resolution res (8, 16, 32 or
// 64). Images below 64 px are upsampled to 64 internally as training
// augmentation does it (Upsample). Labels[i][f] is the argmax class of
// factor f; Probs[i][f] the softmax over that factor's classes; Features[i]
// the penultimate-layer activation (used for a Fréchet distance).
//
// Any batch size works: the images run in chunks of 64.
func (n *Net) Predict(x []float32, batch, res int) (*Prediction, error) {
	switch res {
	case 8, 16, 32, 64:
	default:
		return nil, fmt.Errorf("classifier: Predict: resolution %d, want 8, 16, 32 or 64", res)
	}
	if batch < 0 || len(x) != batch*3*res*res {
		return nil, fmt.Errorf("classifier: Predict: %d values for %d images of 3×%d×%d, want %d", len(x), batch, res, res, batch*3*res*res)
	}
	restore := ops.InferenceBLAS()
	defer restore()
	pr := &Prediction{
		Labels:   make([]toyfaces.Labels, batch),
		Probs:    make([][][]float32, batch),
		Features: make([][]float32, batch),
	}
	s := n.newScratch(min(batch, chunk))
	in := 3 * res * res
	for i0 := 0; i0 < batch; i0 += chunk {
		b := min(chunk, batch-i0)
		img := x[i0*in : (i0+b)*in]
		if res != Size {
			Upsample(s.up[:b*3*Size*Size], img, b, res)
			img = s.up[:b*3*Size*Size]
		}
		feat, logits := n.forward(s, img, b)
		F := n.cfg.Features
		for i := 0; i < b; i++ {
			pr.Features[i0+i] = slices.Clone(feat[i*F : (i+1)*F])
			pr.Labels[i0+i], pr.Probs[i0+i] = softmaxes(logits[i])
		}
	}
	return pr, nil
}

// scratch holds Predict's activations for one chunk.
type scratch struct {
	up     []float32
	a, b   []float32
	feat   []float32
	logits [][]float32
}

func (n *Net) newScratch(b int) *scratch {
	maxAct := 0
	r := Size
	for i, c := range n.cfg.Channels {
		maxAct = max(maxAct, b*c*r*r)
		if n.cfg.pools(i) {
			r /= 2
		}
	}
	s := &scratch{up: make([]float32, b*3*Size*Size), a: make([]float32, maxAct), b: make([]float32, maxAct),
		feat: make([]float32, b*n.cfg.Features)}
	return s
}

// stageFunc receives the activation of convolution stage i after its last
// convolution's leaky ReLU (before the pool): act holds b images of c×r×r. act is scratch
// memory, overwritten by the next stages.
type stageFunc func(i int, act []float32, c, r int)

// convs runs b images of 64 px through the convolution stages, calling
// visit (when not nil) with each stage's activation, and returns the last
// stage's pooled maps [b·flatDim].
func (n *Net) convs(s *scratch, x []float32, b int, visit stageFunc) []float32 {
	cur, other := s.a, s.b
	h, cin, r := x, 3, Size
	for i, c := range n.cfg.Channels {
		var out []float32
		for k := range n.cfg.depth() {
			out = cur[:b*c*r*r]
			name := n.cfg.convName(i, k)
			kernels.Conv2dF32(out, h, n.p(name+".weight"), b, cin, r, r, c, 3, 1)
			kernels.AddBiasF32(out, out, n.p(name+".bias"), b, c, r, r)
			kernels.LeakyReLUF32(out, out, slope)
			h, cin = out, c
			cur, other = other, cur
		}
		if visit != nil {
			visit(i, out, c, r)
		}
		if n.cfg.pools(i) {
			d := cur[:b*c*r*r/4]
			kernels.Downsample2xF32(d, h, b, c, r, r)
			h = d
			r /= 2
			cur, other = other, cur
		}
		cin = c
	}
	return h
}

// forward runs b images of 64 px through the net and returns the features
// [b·Features] and the capped logits of each image, per factor.
func (n *Net) forward(s *scratch, x []float32, b int) ([]float32, [][][]float32) {
	h := n.convs(s, x, b, nil)
	D, F := n.cfg.flatDim(), n.cfg.Features
	feat := s.feat[:b*F]
	dense(feat, h, n.p("fc.weight"), n.p("fc.bias"), b, D, F)
	kernels.LeakyReLUF32(feat, feat, slope)
	logits := make([][][]float32, b)
	for i := range logits {
		logits[i] = make([][]float32, len(toyfaces.Factors))
	}
	for f, fac := range toyfaces.Factors {
		k := len(fac.Classes)
		z := make([]float32, b*k)
		dense(z, feat, n.p("head."+fac.Name+".weight"), n.p("head."+fac.Name+".bias"), b, F, k)
		for i := 0; i < b; i++ {
			row := z[i*k : (i+1)*k]
			for j, v := range row {
				row[j] = float32(LogitCap * math.Tanh(float64(v)/LogitCap))
			}
			logits[i][f] = row
		}
	}
	return feat, logits
}

// dense computes y = x·w + bias for x [b,in], w [in,out] in float64
// accumulation (the dense layers are small).
func dense(y, x, w, bias []float32, b, in, out int) {
	acc := make([]float64, out)
	for i := 0; i < b; i++ {
		for j := range acc {
			acc[j] = float64(bias[j])
		}
		xi := x[i*in : (i+1)*in]
		for k, v := range xi {
			if v == 0 {
				continue
			}
			wk := w[k*out : (k+1)*out]
			for j, wv := range wk {
				acc[j] += float64(v) * float64(wv)
			}
		}
		for j, a := range acc {
			y[i*out+j] = float32(a)
		}
	}
}

// softmaxes returns the argmax and softmax of each factor's logits.
func softmaxes(logits [][]float32) (toyfaces.Labels, [][]float32) {
	labels := make(toyfaces.Labels, len(logits))
	probs := make([][]float32, len(logits))
	for f, z := range logits {
		m := z[0]
		for j, v := range z {
			if v > m {
				m, labels[f] = v, j
			}
		}
		p := make([]float32, len(z))
		var sum float64
		for j, v := range z {
			e := math.Exp(float64(v - m))
			p[j] = float32(e)
			sum += e
		}
		for j := range p {
			p[j] = float32(float64(p[j]) / sum)
		}
		probs[f] = p
	}
	return labels, probs
}

// Upsample writes the nearest-neighbour upsampling of b images x [b,3,res,res]
// to dst [b,3,64,64]: each pixel becomes a (64/res)² block. This is how
// Predict and the training augmentation bring low-resolution images to the
// net's input size.
func Upsample(dst, x []float32, b, res int) {
	f := Size / res
	for p := 0; p < b*3; p++ {
		src := x[p*res*res : (p+1)*res*res]
		out := dst[p*Size*Size : (p+1)*Size*Size]
		for y := 0; y < Size; y++ {
			row := src[(y/f)*res : (y/f+1)*res]
			o := out[y*Size : (y+1)*Size]
			for xx := range o {
				o[xx] = row[xx/f]
			}
		}
	}
}

// RenderRGB renders the 64 px interleaved 8-bit RGB pixels of each seed
// (what the GAN trainer's dataset keeps) and their labels, on GOMAXPROCS
// goroutines.
func RenderRGB(seeds []int64) ([][]uint8, []toyfaces.Labels) {
	pix := make([][]uint8, len(seeds))
	labels := make([]toyfaces.Labels, len(seeds))
	var wg sync.WaitGroup
	var next atomic.Int64
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(seeds) {
					return
				}
				pix[i], labels[i] = renderOne(seeds[i])
			}
		}()
	}
	wg.Wait()
	return pix, labels
}

func renderOne(seed int64) ([]uint8, toyfaces.Labels) {
	img, l := toyfaces.Sample(seed)
	p := make([]uint8, Size*Size*3)
	for j := 0; j < Size*Size; j++ {
		copy(p[3*j:3*j+3], img.Pix[4*j:4*j+3])
	}
	return p, l
}

// Images converts 64 px RGB images (RenderRGB) to an NCHW batch in [-1, 1]
// at res px, exactly as the GAN trainer feeds real images to its
// discriminator at that resolution (toyfaces.DownsampleCHW: the area
// average of the 8-bit 64 px image).
func Images(pix [][]uint8, res int) []float32 {
	n := 3 * res * res
	x := make([]float32, len(pix)*n)
	for i, p := range pix {
		toyfaces.DownsampleCHW(x[i*n:(i+1)*n], p, res)
	}
	return x
}

// Accuracy returns, per factor, the fraction of images whose predicted
// class equals its label.
func Accuracy(pred []toyfaces.Labels, labels []toyfaces.Labels) []float64 {
	acc := make([]float64, len(toyfaces.Factors))
	if len(pred) == 0 {
		return acc
	}
	for i := range pred {
		for f := range acc {
			if pred[i][f] == labels[i][f] {
				acc[f]++
			}
		}
	}
	for f := range acc {
		acc[f] /= float64(len(pred))
	}
	return acc
}

// errNoImages is returned by Evaluate for an empty seed list.
var errNoImages = errors.New("classifier: no images to evaluate")

// Evaluate renders the toyfaces images of seeds and returns the per-factor
// accuracy of n on them at each resolution of resList. It works through
// evalChunk images at a time, so that memory does not grow with the seeds
// (100k images at once were 5 GB of float pixels), and calls progress, if
// set, with the images done after each chunk. A done ctx stops it between
// chunks with ctx's error.
func Evaluate(ctx context.Context, n *Net, seeds []int64, resList []int, progress func(done int)) ([][]float64, error) {
	if len(seeds) == 0 {
		return nil, errNoImages
	}
	out := make([][]float64, len(resList))
	for k := range out {
		out[k] = make([]float64, len(toyfaces.Factors))
	}
	for i0 := 0; i0 < len(seeds); i0 += evalChunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pix, labels := RenderRGB(seeds[i0:min(i0+evalChunk, len(seeds))])
		for k, res := range resList {
			p, err := n.Predict(Images(pix, res), len(pix), res)
			if err != nil {
				return nil, err
			}
			// Counts of right answers (Accuracy's fractions times the
			// chunk), divided by the whole at the end: the same numbers as
			// one pass over every image.
			for f, a := range Accuracy(p.Labels, labels) {
				out[k][f] += math.Round(a * float64(len(pix)))
			}
		}
		if progress != nil {
			progress(i0 + len(pix))
		}
	}
	for _, acc := range out {
		for f := range acc {
			acc[f] /= float64(len(seeds))
		}
	}
	return out, nil
}

// evalChunk is how many images Evaluate renders and classifies at a time.
var evalChunk = 1024 // a var: tests cross its boundary with a few images
