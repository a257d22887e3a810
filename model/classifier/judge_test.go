package classifier

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"stylegan-tui/checkpoints/safetensors"
	"stylegan-tui/model/kernels"
	"stylegan-tui/model/toyfaces"
)

// tinyDeep is a tiny net with two convolutions per stage and four stages
// (the last one pools to 4 px).
var tinyDeep = Config{Channels: []int{3, 4, 4, 6}, Features: 8, Convs: 2}

// v1Outputs computes what testdata/classifier-v1-golden.bin holds: for 16
// held-out faces (seeds −4001 … −4016) at 64 and 8 px, each image's
// probabilities and features as float32 bits, then the perceptual
// distance of image i to image i+1 (mod 16) as float64 bits.
func v1Outputs(t *testing.T, n *Net) []byte {
	t.Helper()
	pix, _ := RenderRGB(ClassifierSeeds.HeldoutSeeds(4000, 16))
	var out []byte
	for _, res := range []int{64, 8} {
		x := Images(pix, res)
		p, err := n.Predict(x, 16, res)
		if err != nil {
			t.Fatal(err)
		}
		for i := range p.Probs {
			for _, pf := range p.Probs[i] {
				for _, v := range pf {
					out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
				}
			}
			for _, v := range p.Features[i] {
				out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
			}
		}
		m := 3 * res * res
		next := make([]float32, len(x))
		for i := range 16 {
			j := (i + 1) % 16
			copy(next[i*m:(i+1)*m], x[j*m:(j+1)*m])
		}
		d, err := n.PerceptualDistance(x, next, 16, res)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range d {
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
		}
	}
	return out
}

// v1Reference is the forward pass of a one-convolution-per-stage net
// written out as the v1 architecture defines it (tensor conv<i>, a pool
// after every stage above 4 px), with the kernels Predict uses: Predict
// must give exactly its probabilities and features.
func v1Reference(n *Net, x []float32, b int) ([][][]float32, [][]float32) {
	h, cin, r := x, 3, Size
	for i, c := range n.cfg.Channels {
		out := make([]float32, b*c*r*r)
		kernels.Conv2dF32(out, h, n.p(fmt.Sprintf("conv%d.weight", i)), b, cin, r, r, c, 3, 1)
		kernels.AddBiasF32(out, out, n.p(fmt.Sprintf("conv%d.bias", i)), b, c, r, r)
		kernels.LeakyReLUF32(out, out, slope)
		h, cin = out, c
		if r > 4 {
			d := make([]float32, b*c*r*r/4)
			kernels.Downsample2xF32(d, h, b, c, r, r)
			h, r = d, r/2
		}
	}
	F := n.cfg.Features
	feat := make([]float32, b*F)
	dense(feat, h, n.p("fc.weight"), n.p("fc.bias"), b, len(h)/b, F)
	kernels.LeakyReLUF32(feat, feat, slope)
	probs := make([][][]float32, b)
	feats := make([][]float32, b)
	for i := range b {
		feats[i] = feat[i*F : (i+1)*F]
		var logits [][]float32
		for _, fac := range toyfaces.Factors {
			k := len(fac.Classes)
			z := make([]float32, k)
			dense(z, feats[i], n.p("head."+fac.Name+".weight"), n.p("head."+fac.Name+".bias"), 1, F, k)
			for j, v := range z {
				z[j] = float32(LogitCap * math.Tanh(float64(v)/LogitCap))
			}
			logits = append(logits, z)
		}
		_, probs[i] = softmaxes(logits)
	}
	return probs, feats
}

// TestCommittedClassifierUnchanged: the committed classifier (a v1 file,
// one convolution per stage) loads as before Config gained Convs, predicts
// bit-identically to its v1 definition, measures as the code before Convs
// did, and saves back to the same bytes.
func TestCommittedClassifierUnchanged(t *testing.T) {
	raw, err := os.ReadFile("../../checkpoints/default/classifier.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	n, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if c := n.Config(); c.Convs != 0 || n.Seeds() != ClassifierSeeds || !slices.Equal(c.Channels, DefaultConfig().Channels) {
		t.Errorf("config %+v, seeds %v: want the v1 architecture and the classifier's images", c, n.Seeds())
	}

	// Bit-identical to the v1 definition, at 64 px and through Upsample.
	pix, _ := RenderRGB(ClassifierSeeds.HeldoutSeeds(4000, 16))
	for _, res := range []int{64, 8} {
		x := Images(pix, res)
		p, err := n.Predict(x, 16, res)
		if err != nil {
			t.Fatal(err)
		}
		up := x
		if res != Size {
			up = make([]float32, 16*3*Size*Size)
			Upsample(up, x, 16, res)
		}
		probs, feats := v1Reference(n, up, 16)
		for i := range 16 {
			if !slices.Equal(p.Features[i], feats[i]) {
				t.Fatalf("%d px image %d: features differ from the v1 forward pass", res, i)
			}
			for f := range probs[i] {
				if !slices.Equal(p.Probs[i][f], probs[i][f]) {
					t.Fatalf("%d px image %d factor %d: probabilities differ from the v1 forward pass", res, i, f)
				}
			}
		}
	}

	// The numbers of the code before Convs. testdata/classifier-v1-golden.bin
	// was written by commit ee360e2 (v1Outputs' layout); the kernels have
	// been rewritten since (SIMD element-wise loops), so up to rounding.
	want, err := os.ReadFile("testdata/classifier-v1-golden.bin")
	if err != nil {
		t.Fatal(err)
	}
	got := v1Outputs(t, n)
	if len(got) != len(want) {
		t.Fatalf("%d bytes of outputs, golden has %d", len(got), len(want))
	}
	k := 0
	for _, f := range toyfaces.Factors {
		k += len(f.Classes)
	}
	off := 0
	for _, res := range []int{64, 8} {
		for i := 0; i < 16*(k+n.cfg.Features); i++ {
			a := math.Float32frombits(binary.LittleEndian.Uint32(got[off:]))
			b := math.Float32frombits(binary.LittleEndian.Uint32(want[off:]))
			if !(math.Abs(float64(a-b)) <= 1e-5*(1+math.Abs(float64(b)))) {
				t.Fatalf("%d px value %d (probabilities, then features, per image): %g, golden %g", res, i, a, b)
			}
			off += 4
		}
		for i := range 16 {
			a := math.Float64frombits(binary.LittleEndian.Uint64(got[off:]))
			b := math.Float64frombits(binary.LittleEndian.Uint64(want[off:]))
			if !(math.Abs(a-b) <= 1e-6*b) {
				t.Fatalf("%d px distance %d: %g, golden %g", res, i, a, b)
			}
			off += 8
		}
	}

	// Saving it again writes the same bytes: the file format is unchanged.
	path := filepath.Join(t.TempDir(), "c.safetensors")
	if err := n.Save(path); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, raw) {
		t.Errorf("re-saving the committed classifier changes its bytes (%d → %d)", len(raw), len(b))
	}
}

// TestConvsGradient checks the training graph of a two-convolution net
// against central differences in float64 (as TestGradient for one).
func TestConvsGradient(t *testing.T) {
	n, err := initNet(tinyDeep, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(n.params) != 2*2*len(tinyDeep.Channels)+2+2*len(toyfaces.Factors) {
		t.Fatalf("%d parameters tensors", len(n.params))
	}
	const B = 2
	// A smaller step than TestGradient's: the deeper net has more
	// pre-activations near a leaky ReLU kink for a step to cross.
	loss, b := checkGradient(t, n, TrainOptions{Batch: B, Seed: 3, Seeds: JudgeSeeds, Res: []int{64, 32}, ResWeight: []float64{1, 1}}, 1e-7)
	// The graph's loss is the cross-entropy of Predict's forward pass.
	p, err := n.Predict(b.x, B, Size)
	if err != nil {
		t.Fatal(err)
	}
	if ce := crossEntropy(p, b.labels); math.Abs(ce-loss) > 1e-4*ce {
		t.Errorf("graph loss %.7f, Predict's cross-entropy %.7f", loss, ce)
	}
}

// TestConvsFile: a two-convolution judge saves as format v2 with its
// depth and image family, loads back identical, and its metadata is checked.
func TestConvsFile(t *testing.T) {
	n, err := Train(TrainOptions{Config: tinyDeep, Images: 32, Batch: 16, Seed: 2, Seeds: JudgeSeeds})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "j.safetensors")
	if err := n.Save(path); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata["format"] != formatConvs || f.Metadata["convs"] != "2" || f.Metadata["seeds"] != "judge" || f.Tensors["conv3.1.weight"] == nil {
		t.Errorf("metadata %v, tensors %v", f.Metadata, f.Names())
	}
	m, err := Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Config(); c.Convs != 2 || !slices.Equal(c.Channels, tinyDeep.Channels) || m.Seeds() != JudgeSeeds {
		t.Errorf("loaded config %+v, seeds %v", c, m.Seeds())
	}
	x, _ := heldout(0, 8)
	a, _ := n.Predict(x, 8, Size)
	b, _ := m.Predict(x, 8, Size)
	for i := range a.Features {
		if !slices.Equal(a.Features[i], b.Features[i]) {
			t.Fatalf("image %d: features differ after a round trip", i)
		}
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
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"convs missing", edit(func(f *safetensors.File) { delete(f.Metadata, "convs") }), `metadata convs ""`},
		{"convs 1 in v2", edit(func(f *safetensors.File) { f.Metadata["convs"] = "1" }), `metadata convs "1"`},
		{"convs 3", edit(func(f *safetensors.File) { f.Metadata["convs"] = "3" }), `no tensor "conv0.2.weight"`},
		{"v1 format", edit(func(f *safetensors.File) { f.Metadata["format"] = format }), `no tensor "conv0.weight"`},
	} {
		if _, err := Parse(c.b); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

// TestTrainSeeds: a run draws its images from its family, and Train
// refuses run seeds and init nets outside it.
func TestTrainSeeds(t *testing.T) {
	for _, s := range []Seeds{ClassifierSeeds, JudgeSeeds} {
		opt := TrainOptions{Batch: 4, Seed: 7, Seeds: s, Res: []int{64}, ResWeight: []float64{1}}
		b := makeBatch(&opt, 1)
		for i := range 4 {
			img, l := toyfaces.Sample(s.Train(7, 4+i))
			x := make([]float32, 3*Size*Size)
			toyfaces.DownsampleCHW(x, rgb(img.Pix), Size)
			if !slices.Equal(b.labels[i], l) || !slices.Equal(b.x[i*len(x):(i+1)*len(x)], x) {
				t.Errorf("%v: batch 1 image %d is not the toyface of seed %d", s, i, s.Train(7, 4+i))
			}
		}
	}
	if JudgeTrainSeed(7, 4) != -(1<<62)-7<<32-4 || TrainSeed(7, 4) < 0 {
		t.Errorf("JudgeTrainSeed(7, 4) %d, TrainSeed(7, 4) %d", JudgeTrainSeed(7, 4), TrainSeed(7, 4))
	}
	for _, c := range []struct {
		opt  TrainOptions
		want string
	}{
		{TrainOptions{Config: tiny, Images: 16, Batch: 16, Seed: 256, Seeds: JudgeSeeds}, "judge run seed 256"},
		{TrainOptions{Config: tiny, Images: 16, Batch: 16, Seed: -1, Seeds: JudgeSeeds}, "judge run seed -1"},
		{TrainOptions{Config: tiny, Images: 1<<32 + 16, Batch: 16, Seed: 1, Seeds: JudgeSeeds}, "at most 4294967296"},
	} {
		if _, err := Train(c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.opt, err, c.want)
		}
	}
	n0, err := initNet(tiny, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Train(TrainOptions{Init: n0, Images: 16, Batch: 16, Seed: 1, Seeds: JudgeSeeds}); err == nil || !strings.Contains(err.Error(), "one image family") {
		t.Errorf("a classifier init in a judge run: %v", err)
	}
	n1, err := Train(TrainOptions{Config: tiny, Images: 16, Batch: 16, Seed: 1, Seeds: JudgeSeeds})
	if err != nil {
		t.Fatal(err)
	}
	n2, err := Train(TrainOptions{Init: n1, Images: 16, Batch: 16, Seed: 2, Seeds: JudgeSeeds})
	if err != nil || n2.Seeds() != JudgeSeeds || n2.Metadata()["init.seeds"] != "judge" {
		t.Errorf("fine-tuning a judge: %v, seeds %v, metadata %v", err, n2.Seeds(), n2.Metadata())
	}
}

// rgb drops the alpha of RGBA pixels.
func rgb(rgba []uint8) []uint8 {
	out := make([]uint8, 0, len(rgba)/4*3)
	for i := 0; i < len(rgba); i += 4 {
		out = append(out, rgba[i:i+3]...)
	}
	return out
}

// TestCommittedJudge measures the committed judge on its own held-out
// faces at 64 px, from 2000 on (the first 2000 decided when its training
// stopped).
func TestCommittedJudge(t *testing.T) {
	n, err := Load("../../checkpoints/default/judge.safetensors")
	if err != nil {
		t.Fatalf("the committed judge: %v", err)
	}
	if n.Seeds() != JudgeSeeds {
		t.Fatalf("the committed judge was trained on the %s's images", n.Seeds())
	}
	if c := n.Config(); c.Convs < 2 || slices.Equal(c.Channels, DefaultConfig().Channels) {
		t.Errorf("the judge's architecture %+v is the classifier's", c)
	}
	const count = 400
	pix, labels := RenderRGB(JudgeSeeds.HeldoutSeeds(2000, count))
	p, err := n.Predict(Images(pix, Size), count, Size)
	if err != nil {
		t.Fatal(err)
	}
	for f, a := range Accuracy(p.Labels, labels) {
		t.Logf("%-10s %.2f%%", toyfaces.Factors[f].Name, 100*a)
		if a < 0.97 {
			t.Errorf("%s: held-out accuracy %.2f%% at 64 px, want ≥ 97%%", toyfaces.Factors[f].Name, 100*a)
		}
	}
}
