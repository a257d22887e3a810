package classifier

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"stylegan-tui/checkpoints/safetensors"
	"stylegan-tui/model/toyfaces"
)

// tiny is a configuration small enough for tests in seconds.
var tiny = Config{Channels: []int{4, 8, 8, 8, 8}, Features: 16}

// heldout renders held-out images first..first+n-1 at 64 px.
func heldout(first, n int) ([]float32, []toyfaces.Labels) {
	seeds := make([]int64, n)
	for i := range seeds {
		seeds[i] = HeldoutSeed(first + i)
	}
	pix, labels := RenderRGB(seeds)
	return Images(pix, Size), labels
}

// crossEntropy is the mean over images of the summed per-factor softmax
// cross-entropy, from Predict's probabilities.
func crossEntropy(p *Prediction, labels []toyfaces.Labels) float64 {
	var s float64
	for i, l := range labels {
		for f := range toyfaces.Factors {
			s -= math.Log(float64(p.Probs[i][f][l[f]]))
		}
	}
	return s / float64(len(labels))
}

func TestTrainLowersLoss(t *testing.T) {
	x, labels := heldout(0, 64)
	init, err := initNet(tiny, 5)
	if err != nil {
		t.Fatal(err)
	}
	p0, err := init.Predict(x, len(labels), Size)
	if err != nil {
		t.Fatal(err)
	}
	var losses []float64
	n, err := Train(TrainOptions{Config: tiny, Images: 512, Batch: 16, Seed: 5, LR: 5e-3,
		Progress: func(_ int, l float64) { losses = append(losses, l) }})
	if err != nil {
		t.Fatal(err)
	}
	p1, err := n.Predict(x, len(labels), Size)
	if err != nil {
		t.Fatal(err)
	}
	l0, l1 := crossEntropy(p0, labels), crossEntropy(p1, labels)
	t.Logf("held-out loss %.3f -> %.3f; training loss first %.3f last %.3f", l0, l1, losses[0], losses[len(losses)-1])
	if len(losses) != 32 {
		t.Errorf("%d progress calls, want 32", len(losses))
	}
	if !(l1 < l0-0.5) {
		t.Errorf("held-out loss %.3f -> %.3f after training, want a drop of at least 0.5", l0, l1)
	}
	// The graph's loss on the first batch equals the inference path's.
	b := makeBatch(&TrainOptions{Batch: 16, Seed: 5, Res: DefaultRes, ResWeight: DefaultResWeight}, 0)
	pb, err := init.Predict(b.x, 16, Size)
	if err != nil {
		t.Fatal(err)
	}
	if want := crossEntropy(pb, b.labels); math.Abs(losses[0]-want) > 1e-3*want {
		t.Errorf("graph loss %.6f on batch 0, Predict's cross-entropy %.6f", losses[0], want)
	}
}

// TestGradient checks the training graph's gradient against central
// differences in float64.
func TestGradient(t *testing.T) {
	cfg := Config{Channels: []int{2, 3, 2, 2, 2}, Features: 4}
	n, err := initNet(cfg, 9)
	if err != nil {
		t.Fatal(err)
	}
	checkGradient(t, n, TrainOptions{Batch: 2, Seed: 9, Res: []int{64, 16}, ResWeight: []float64{1, 1}}, 1e-5)
}

// checkGradient checks the training graph of n (its biases made non-zero
// first, so that their paths are tested too) on the first batch of opt
// against central differences with step eps, in float64, at three
// elements of every parameter. It returns the graph's loss and the batch.
func checkGradient(t *testing.T, n *Net, opt TrainOptions, eps float64) (float64, batchData) {
	t.Helper()
	for _, p := range n.params {
		if len(p.shape) == 1 {
			for i := range p.data {
				p.data[i] = 0.1 * float32(i%3-1)
			}
		}
	}
	b := makeBatch(&opt, 0)
	values := make([]*tensor.Dense, len(n.params))
	for i, p := range n.params {
		d := make([]float64, len(p.data))
		for j, v := range p.data {
			d[j] = float64(v)
		}
		values[i] = tensor.New(tensor.WithShape(p.shape...), tensor.WithBacking(d))
	}
	tg, err := buildGraph(n.cfg, values, opt.Batch, tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.m.Close()
	xd := tg.x.Data().([]float64)
	for i, v := range b.x {
		xd[i] = float64(v)
	}
	setOneHot(tg.y, b.labels)
	lossAt := func() float64 {
		l, err := tg.run()
		if err != nil {
			t.Fatal(err)
		}
		tg.m.Reset()
		return l
	}
	loss := lossAt()
	if _, err := tg.run(); err != nil {
		t.Fatal(err)
	}
	grads := make([][]float64, len(tg.grads))
	for i, g := range tg.grads {
		grads[i] = slices.Clone(g.Value().Data().([]float64))
	}
	tg.m.Reset()
	for i, p := range n.params {
		d := values[i].Data().([]float64)
		for _, j := range []int{0, len(d) / 2, len(d) - 1} {
			old := d[j]
			d[j] = old + eps
			lp := lossAt()
			d[j] = old - eps
			lm := lossAt()
			d[j] = old
			num := (lp - lm) / (2 * eps)
			if err := math.Abs(num - grads[i][j]); err > 1e-6+1e-4*math.Abs(num) {
				t.Errorf("%s[%d]: gradient %.9g, central difference %.9g", p.name, j, grads[i][j], num)
			}
		}
	}
	return loss, b
}

func TestSaveParseRoundTrip(t *testing.T) {
	n, err := Train(TrainOptions{Config: tiny, Images: 32, Batch: 16, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	n.Metadata()["note"] = "round trip"
	path := filepath.Join(t.TempDir(), "c.safetensors")
	if err := n.Save(path); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Metadata()["note"] != "round trip" || !slices.Equal(m.Config().Channels, tiny.Channels) || m.FeatureDim() != tiny.Features {
		t.Errorf("loaded config %v, metadata %v", m.Config(), m.Metadata())
	}
	// 70 images: two chunks, the second partial; 16 px exercises Upsample.
	for _, res := range []int{64, 16} {
		x, _ := heldout(0, 70)
		if res != Size {
			seeds := make([]int64, 70)
			for i := range seeds {
				seeds[i] = HeldoutSeed(i)
			}
			pix, _ := RenderRGB(seeds)
			x = Images(pix, res)
		}
		a, err := n.Predict(x, 70, res)
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.Predict(x, 70, res)
		if err != nil {
			t.Fatal(err)
		}
		for i := range a.Labels {
			if !slices.Equal(a.Labels[i], b.Labels[i]) || !slices.Equal(a.Features[i], b.Features[i]) {
				t.Fatalf("%d px image %d: predictions differ after a round trip", res, i)
			}
			for f := range a.Probs[i] {
				if !slices.Equal(a.Probs[i][f], b.Probs[i][f]) {
					t.Fatalf("%d px image %d factor %d: probabilities differ after a round trip", res, i, f)
				}
			}
		}
		// Chunking does not change the result (up to the conv kernels' batch-size-dependent rounding).
		c, err := n.Predict(x[3*res*res*65:], 5, res)
		if err != nil {
			t.Fatal(err)
		}
		for i := range c.Features {
			for j, v := range c.Features[i] {
				if w := a.Features[65+i][j]; math.Abs(float64(v-w)) > 1e-4*(1+math.Abs(float64(w))) {
					t.Fatalf("%d px image %d feature %d: %g alone, %g in a batch of 70", res, 65+i, j, v, w)
				}
			}
		}
	}
}

// TestUpsample checks the nearest-neighbour upsampling against its definition.
func TestUpsample(t *testing.T) {
	x := make([]float32, 2*3*8*8)
	for i := range x {
		x[i] = float32(i)
	}
	dst := make([]float32, 2*3*Size*Size)
	Upsample(dst, x, 2, 8)
	for p := 0; p < 6; p++ {
		for y := 0; y < Size; y++ {
			for xx := 0; xx < Size; xx++ {
				if got, want := dst[p*Size*Size+y*Size+xx], x[p*64+(y/8)*8+xx/8]; got != want {
					t.Fatalf("plane %d (%d,%d): %g, want %g", p, xx, y, got, want)
				}
			}
		}
	}
}

func TestPredictErrors(t *testing.T) {
	n, err := initNet(tiny, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Predict(make([]float32, 3*12*12), 1, 12); err == nil || !strings.Contains(err.Error(), "resolution 12") {
		t.Errorf("res 12: %v", err)
	}
	if _, err := n.Predict(make([]float32, 3*16*16+1), 1, 16); err == nil || !strings.Contains(err.Error(), "values") {
		t.Errorf("wrong length: %v", err)
	}
	p, err := n.Predict(nil, 0, 64)
	if err != nil || len(p.Labels) != 0 {
		t.Errorf("empty batch: %v, %v", p, err)
	}
}

func TestCorrupt(t *testing.T) {
	n, err := initNet(tiny, 1)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "c.safetensors")
	if err := n.Save(path); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(good); err != nil {
		t.Fatal(err)
	}
	edit := func(f func(*safetensors.File)) []byte {
		file, err := safetensors.Parse(good)
		if err != nil {
			t.Fatal(err)
		}
		f(file)
		b, err := file.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "classifier: safetensors"},
		{"truncated data", good[:len(good)-10], "classifier: safetensors"},
		{"truncated header", good[:20], "classifier: safetensors"},
		{"bad shape", edit(func(f *safetensors.File) {
			f.Tensors["conv2.weight"] = &safetensors.Tensor{Shape: []int{8, 8, 3, 1}, Data: make([]float32, 8*8*3)}
		}), `"conv2.weight": shape [8 8 3 1], want [8 8 3 3]`},
		{"missing tensor", edit(func(f *safetensors.File) { delete(f.Tensors, "head.mouth.bias") }), `no tensor "head.mouth.bias"`},
		{"extra tensor", edit(func(f *safetensors.File) {
			f.Tensors["conv9.weight"] = &safetensors.Tensor{Shape: []int{1}, Data: []float32{0}}
		}), `unexpected tensor "conv9.weight"`},
		{"NaN", edit(func(f *safetensors.File) { f.Tensors["fc.weight"].Data[7] = float32(math.NaN()) }), "fc.weight: non-finite value NaN at element 7"},
		{"channels", edit(func(f *safetensors.File) { f.Metadata["channels"] = "4,x" }), "metadata channels"},
		{"features", edit(func(f *safetensors.File) { f.Metadata["features"] = "" }), "metadata features"},
		{"format", edit(func(f *safetensors.File) { delete(f.Metadata, "format") }), "metadata format"},
		{"factors", edit(func(f *safetensors.File) { f.Metadata["factors"] = "yaw:3" }), "metadata factors"},
		{"wrong features", edit(func(f *safetensors.File) { f.Metadata["features"] = "17" }), `"fc.weight": shape [128 16], want [128 17]`},
	}
	for _, c := range cases {
		_, err := Parse(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "classifier: ") {
			t.Errorf("%s: error %v, want one starting with classifier: and containing %q", c.name, err, c.want)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.safetensors")
	if err := os.WriteFile(bad, good[:len(good)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.HasPrefix(err.Error(), bad+": classifier: ") {
		t.Errorf("Load of a truncated file: %v, want an error naming the path", err)
	}
	// A failed Save leaves the existing file alone.
	if err := n.Save(filepath.Join(path, "sub", "x.safetensors")); err == nil {
		t.Error("Save into a missing directory succeeded")
	}
	if b, _ := os.ReadFile(path); !slices.Equal(b, good) {
		t.Error("existing file changed")
	}
}

// TestCommittedClassifier measures the committed classifier on held-out
// toyfaces: labels come from the renderer, not from the net. It uses held-out
// images from 2000 on: the first 2000 decided when fine-tuning stopped.
func TestCommittedClassifier(t *testing.T) {
	n, err := Load("../../checkpoints/default/classifier.safetensors")
	if err != nil {
		t.Fatalf("the committed classifier: %v", err)
	}
	const count = 400
	x, labels := heldout(2000, count)
	p, err := n.Predict(x, count, Size)
	if err != nil {
		t.Fatal(err)
	}
	for f, a := range Accuracy(p.Labels, labels) {
		t.Logf("%-10s %.2f%%", toyfaces.Factors[f].Name, 100*a)
		if a < 0.97 {
			t.Errorf("%s: held-out accuracy %.2f%% at 64 px, want ≥ 97%%", toyfaces.Factors[f].Name, 100*a)
		}
	}
	if n.FeatureDim() != len(p.Features[0]) {
		t.Errorf("FeatureDim %d, features of length %d", n.FeatureDim(), len(p.Features[0]))
	}
}

// TestTrainInit checks that fine-tuning starts from the given net and
// leaves it unchanged.
func TestTrainInit(t *testing.T) {
	n0, err := initNet(tiny, 4)
	if err != nil {
		t.Fatal(err)
	}
	n0.Metadata()["command"] = "first"
	before := slices.Clone(n0.p("fc.weight"))
	var first float64
	n1, err := Train(TrainOptions{Config: DefaultConfig(), Init: n0, Images: 16, Batch: 16, Seed: 5,
		Progress: func(_ int, l float64) { first = l }})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before, n0.p("fc.weight")) {
		t.Error("Train changed its Init net")
	}
	if !slices.Equal(n1.Config().Channels, tiny.Channels) || n1.Metadata()["init.command"] != "first" {
		t.Errorf("fine-tuned config %v, metadata %v", n1.Config(), n1.Metadata())
	}
	b := makeBatch(&TrainOptions{Batch: 16, Seed: 5, Res: DefaultRes, ResWeight: DefaultResWeight}, 0)
	p, err := n0.Predict(b.x, 16, Size)
	if err != nil {
		t.Fatal(err)
	}
	if want := crossEntropy(p, b.labels); math.Abs(first-want) > 1e-3*want {
		t.Errorf("first loss %.6f, the Init net's %.6f", first, want)
	}
}
