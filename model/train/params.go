package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gorgonia.org/tensor"
)

// Param is one trainable tensor with the equalized learning rate of
// Karras et al. (2018): the optimizer sees Raw (initialised N(0,1), or
// N(0,1/lrmul²) for the mapping network), the network sees
// Eff = Raw·Gain, the He constant times the learning-rate multiplier.
//
// The graphs hold Eff as a leaf, so that inference and training share one
// builder; the gradient of Raw is Gain·∂L/∂Eff. This is the same function
// as a graph that multiplies Raw by Gain, without the extra graph nodes.
type Param struct {
	Name  string
	Shape []int
	Gain  float32
	Raw   []float32
	Eff   *tensor.Dense // float32 (or float64 in gradient checks); shared by every graph
	// Adam moments of Raw. M is unused (nil) when beta1 = 0, where it
	// always equals the last gradient.
	M, V []float32
}

// size is the number of elements of a shape.
func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// SyncEff recomputes Eff from Raw.
func (p *Param) SyncEff() {
	switch e := p.Eff.Data().(type) {
	case []float32:
		for i, r := range p.Raw {
			e[i] = r * p.Gain
		}
	case []float64:
		for i, r := range p.Raw {
			e[i] = float64(r) * float64(p.Gain)
		}
	}
}

// ParamSet is a network's parameters in a fixed order.
type ParamSet struct {
	List   []*Param
	byName map[string]*Param
	Dtype  tensor.Dtype
}

func newParamSet() *ParamSet {
	return &ParamSet{byName: map[string]*Param{}, Dtype: tensor.Float32}
}

// P returns the named parameter; it panics on an unknown name (a bug in
// the builders, not an input error).
func (s *ParamSet) P(name string) *Param {
	p, ok := s.byName[name]
	if !ok {
		panic("train: no parameter " + name)
	}
	return p
}

// Has reports whether the set holds the named parameter.
func (s *ParamSet) Has(name string) bool { _, ok := s.byName[name]; return ok }

// add creates a parameter: raw ~ N(0, std²) (std 0: all init, for
// biases), effective gain.
func (s *ParamSet) add(r *rand.Rand, name string, shape []int, std, init float64, gain float64) *Param {
	n := size(shape)
	p := &Param{Name: name, Shape: shape, Gain: float32(gain), Raw: make([]float32, n)}
	for i := range p.Raw {
		if std > 0 {
			p.Raw[i] = float32(r.NormFloat64() * std)
		} else {
			p.Raw[i] = float32(init)
		}
	}
	p.Eff = tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))
	p.SyncEff()
	s.List = append(s.List, p)
	s.byName[name] = p
	return p
}

// As64 returns a copy whose Eff tensors are float64 (for gradient checks).
func (s *ParamSet) As64() *ParamSet {
	c := newParamSet()
	c.Dtype = tensor.Float64
	for _, p := range s.List {
		q := *p
		q.Raw = append([]float32(nil), p.Raw...)
		q.Eff = tensor.New(tensor.WithShape(p.Shape...), tensor.Of(tensor.Float64))
		q.SyncEff()
		c.List = append(c.List, &q)
		c.byName[q.Name] = &q
	}
	return c
}

// he is the He-initialisation constant gain/sqrt(fan_in).
func he(gain float64, fanIn int) float64 { return gain / math.Sqrt(float64(fanIn)) }

// Arch is the architecture of the trained generator and discriminator.
type Arch struct {
	ZDim, WDim    int
	MappingLayers int
	LRMul         float64 // mapping learning-rate multiplier (0.01)
	Channels      []int   // G's feature maps per block from 4x4 up (and D's, unless DChannels)
	// DChannels are D's feature maps per block from 4x4 up, one per
	// block of Channels (G sets the resolution); empty: the same as
	// Channels. Omitted from the saved options when empty, so the states
	// saved before the field existed read the same.
	DChannels []int `json:",omitempty"`
}

// maxChannels bounds a block's feature maps (the model package's limit).
const maxChannels = 8192

// DiscChannels returns D's feature maps per block: DChannels, or
// Channels when DChannels is empty.
func (a *Arch) DiscChannels() []int {
	if len(a.DChannels) > 0 {
		return a.DChannels
	}
	return a.Channels
}

// validateD checks DChannels against Channels (G's are checked by the
// model config).
func (a *Arch) validateD() error {
	if len(a.DChannels) == 0 {
		return nil
	}
	if len(a.DChannels) != len(a.Channels) {
		return fmt.Errorf("train: %d D channel blocks %v for %d G blocks %v: want one per block (G sets the resolution)",
			len(a.DChannels), a.DChannels, len(a.Channels), a.Channels)
	}
	for b, c := range a.DChannels {
		if c <= 0 || c > maxChannels {
			return fmt.Errorf("train: D block %d (%dpx) has %d channels, want 1..%d", b, 4<<b, c, maxChannels)
		}
	}
	return nil
}

// Name of a generator parameter (the native checkpoint's names, with
// dense biases kept [1,out] and the constant as [1,C·16]).
func mappingW(i int) string            { return fmt.Sprintf("mapping.%d.weight", i) }
func mappingB(i int) string            { return fmt.Sprintf("mapping.%d.bias", i) }
func layerName(i int, s string) string { return fmt.Sprintf("synthesis.layer%d.%s", i, s) }
func torgbName(b int, s string) string { return fmt.Sprintf("synthesis.torgb%d.%s", b, s) }

const constName = "synthesis.const"

// newG initialises the generator (NVlabs networks_stylegan.py).
func newG(a *Arch, r *rand.Rand) *ParamSet {
	s := newParamSet()
	sq2 := math.Sqrt2
	for i := 0; i < a.MappingLayers; i++ {
		in := a.WDim
		if i == 0 {
			in = a.ZDim
		}
		s.add(r, mappingW(i), []int{in, a.WDim}, 1/a.LRMul, 0, he(sq2, in)*a.LRMul)
		s.add(r, mappingB(i), []int{1, a.WDim}, 0, 0, a.LRMul)
	}
	for _, l := range a.ModelConfig().Layers() {
		i, c := l.Index, l.Out
		if l.Const {
			s.add(r, constName, l.ConvShape(), 1, 0, 1)
		} else {
			s.add(r, layerName(i, "conv"), l.ConvShape(), 1, 0, he(sq2, l.In*9))
		}
		s.add(r, layerName(i, "bias"), []int{c}, 0, 0, 1)
		s.add(r, layerName(i, "noise_strength"), []int{c}, 0, 0, 1)
		s.add(r, layerName(i, "style.weight"), []int{a.WDim, 2 * c}, 1, 0, he(1, a.WDim))
		sb := s.add(r, layerName(i, "style.bias"), []int{1, 2 * c}, 0, 0, 1)
		for k := 0; k < c; k++ { // AdaIN scale starts at 1: x·(1+s)
			sb.Raw[k] = 1
		}
		sb.SyncEff()
	}
	for b, c := range a.Channels {
		s.add(r, torgbName(b, "weight"), []int{3, c, 1, 1}, 1, 0, he(1, c))
		s.add(r, torgbName(b, "bias"), []int{3}, 0, 0, 1)
	}
	return s
}

func dName(f string, a ...any) string { return "d." + fmt.Sprintf(f, a...) }

// newD initialises the discriminator (NVlabs D_basic) with
// a.DiscChannels().
func newD(a *Arch, r *rand.Rand) *ParamSet {
	s := newParamSet()
	sq2 := math.Sqrt2
	ch := a.DiscChannels()
	for b, c := range ch {
		s.add(r, dName("fromrgb%d.weight", b), []int{c, 3, 1, 1}, 1, 0, he(sq2, 3))
		s.add(r, dName("fromrgb%d.bias", b), []int{c}, 0, 0, 1)
		if b == 0 {
			continue
		}
		s.add(r, dName("block%d.conv0.weight", b), []int{c, c, 3, 3}, 1, 0, he(sq2, c*9))
		s.add(r, dName("block%d.conv0.bias", b), []int{c}, 0, 0, 1)
		s.add(r, dName("block%d.conv1.weight", b), []int{ch[b-1], c, 3, 3}, 1, 0, he(sq2, c*9))
		s.add(r, dName("block%d.conv1.bias", b), []int{ch[b-1]}, 0, 0, 1)
	}
	c := ch[0]
	s.add(r, dName("final.conv.weight"), []int{c, c + 1, 3, 3}, 1, 0, he(sq2, (c+1)*9))
	s.add(r, dName("final.conv.bias"), []int{c}, 0, 0, 1)
	s.add(r, dName("final.dense0.weight"), []int{c * 16, c}, 1, 0, he(sq2, c*16))
	s.add(r, dName("final.dense0.bias"), []int{1, c}, 0, 0, 1)
	s.add(r, dName("final.dense1.weight"), []int{c, 1}, 1, 0, he(1, c))
	s.add(r, dName("final.dense1.bias"), []int{1, 1}, 0, 0, 1)
	return s
}

// Adam is Kingma & Ba's optimizer over the Raw tensors of a ParamSet,
// with bias correction. Its state is the moments in each Param and T.
type Adam struct {
	LR, Beta1, Beta2, Eps float64
	T                     int // steps taken since the last Reset
}

// Reset zeroes the moments (at each new resolution, as in TRAINING.md).
func (o *Adam) Reset(s *ParamSet) {
	o.T = 0
	for _, p := range s.List {
		p.V = make([]float32, len(p.Raw))
		p.M = nil
		if o.Beta1 != 0 {
			p.M = make([]float32, len(p.Raw))
		}
	}
}

// Step applies one update to the parameters with gradients; grads[i] is
// ∂L/∂Eff of params[i] (Raw's gradient is Gain times it).
func (o *Adam) Step(params []*Param, grads [][]float32) {
	o.T++
	c1 := 1 - math.Pow(o.Beta1, float64(o.T))
	c2 := 1 - math.Pow(o.Beta2, float64(o.T))
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	lr := float32(o.LR / c1)
	inv2 := float32(1 / c2)
	eps := float32(o.Eps)
	for k, p := range params {
		g := grads[k]
		gain := p.Gain
		if p.M == nil {
			for i := range p.Raw {
				gi := g[i] * gain
				v := b2*p.V[i] + (1-b2)*gi*gi
				p.V[i] = v
				p.Raw[i] -= lr * gi / (float32(math.Sqrt(float64(v*inv2))) + eps)
			}
		} else {
			for i := range p.Raw {
				gi := g[i] * gain
				m := b1*p.M[i] + (1-b1)*gi
				v := b2*p.V[i] + (1-b2)*gi*gi
				p.M[i], p.V[i] = m, v
				p.Raw[i] -= lr * m / (float32(math.Sqrt(float64(v*inv2))) + eps)
			}
		}
		p.SyncEff()
	}
}
