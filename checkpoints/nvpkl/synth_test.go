package nvpkl

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"stylegan-tui/checkpoints/pickleguard/pickletest"
)

// Synthetic NVlabs pickles, written opcode by opcode the way Python's
// pickler writes (G, D, Gs): for spellings the fixtures lack (Fortran
// order, float64, big-endian), for hostile variants, and for the
// full-size benchmark.

// synthVar is one variable of a synthetic network.
type synthVar struct {
	name       string
	shape      []int
	data       []float32 // C order; nil means seeded random values
	dtype      string    // "f4" (default), "f2" or "f8"
	big        bool      // big-endian data
	fortran    bool      // data stored column-major
	frombuffer bool      // protocol 5 spelling _frombuffer(buf, dtype, shape, order)
	scalar     bool      // numpy scalar (0-d), like the lod variables
	raw        []byte    // written instead of the encoded data (hostile tests)
	stream     bool      // random float32 values made while writing and not kept (benchmark)
	put, get   uint32    // if set, memoize the array as / write memo entry instead (hostile tests)
}

// synthNet is a dnnlib Network state.
type synthNet struct {
	name, buildFunc string
	version         int
	kwargs          [][2]any // static_kwargs in order; a func(*pickletest.Writer) value writes itself
	put             uint32   // if set, memoize the Network object as this entry
	vars            []synthVar
	components      []synthComponent
}

type synthComponent struct {
	key string
	net *synthNet
	get uint32 // if set, the memo entry to write instead of net
}

func (v *synthVar) numel() int {
	n := 1
	for _, d := range v.shape {
		n *= d
	}
	return n
}

// values returns the variable's C-order values, drawing random ones (and
// remembering them) if none were given.
func (v *synthVar) values(rng *rand.Rand) []float32 {
	if v.data == nil {
		v.data = make([]float32, v.numel())
		for i := range v.data {
			v.data[i] = float32(rng.NormFloat64())
		}
	}
	return v.data
}

// encode returns the variable's raw numpy buffer.
func (v *synthVar) encode(rng *rand.Rand) []byte {
	if v.raw != nil {
		return v.raw
	}
	if v.stream {
		b := make([]byte, 4*v.numel())
		for i := 0; i < len(b); i += 4 {
			binary.LittleEndian.PutUint32(b[i:], rng.Uint32()&^0x4000_0000) // finite, |x| < 2
		}
		return b
	}
	vals := v.values(rng)
	if v.fortran { // store column-major: element (i0..ik) at Σ i_j·Π_{l<j} shape_l
		f := make([]float32, len(vals))
		fortranFromC(f, vals, v.shape)
		vals = f
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if v.big {
		bo = binary.BigEndian
	}
	switch v.dtype {
	case "", "f4":
		b := make([]byte, 4*len(vals))
		for i, x := range vals {
			bo.PutUint32(b[4*i:], math.Float32bits(x))
		}
		return b
	case "f8":
		b := make([]byte, 8*len(vals))
		for i, x := range vals {
			bo.PutUint64(b[8*i:], math.Float64bits(float64(x)))
		}
		return b
	case "f2": // values must be exactly representable; tests use small integers
		b := make([]byte, 2*len(vals))
		for i, x := range vals {
			bo.PutUint16(b[2*i:], half(x))
		}
		return b
	}
	panic("dtype " + v.dtype)
}

// half encodes small integers (|x| < 2048) as binary16.
func half(x float32) uint16 {
	if x == 0 {
		return 0
	}
	var sign uint16
	if x < 0 {
		sign, x = 0x8000, -x
	}
	bits := math.Float32bits(x)
	exp := int(bits>>23&0xff) - 127 + 15
	return sign | uint16(exp)<<10 | uint16(bits>>13&0x3ff)
}

func fortranFromC(dst, src []float32, shape []int) {
	nd := len(shape)
	fs := make([]int, nd)
	s := 1
	for i, d := range shape {
		fs[i] = s
		s *= d
	}
	idx := make([]int, nd)
	for c := range src {
		off := 0
		for d := range nd {
			off += idx[d] * fs[d]
		}
		dst[off] = src[c]
		for d := nd - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
}

type synthWriter struct {
	w   *pickletest.Writer
	rng *rand.Rand
}

// writeSynth writes the tuple (G, D, Gs) with pickle protocol 4 opcodes
// (no frames, no memo: both optional).
func writeSynth(out io.Writer, G, D, Gs *synthNet) error {
	s := &synthWriter{w: pickletest.New(out), rng: rand.New(rand.NewPCG(1, 2))}
	s.w.Proto(4)
	s.network(G)
	s.network(D)
	s.network(Gs)
	s.w.Tuple3().Stop()
	return s.w.Flush()
}

func (s *synthWriter) network(n *synthNet) {
	w := s.w
	w.Global("dnnlib.tflib.network", "Network").EmptyTuple().NewObj()
	if n.put != 0 {
		w.Put(n.put)
	}
	w.EmptyDict().Mark()
	w.Str("version").Int(n.version)
	w.Str("name").Str(n.name)
	w.Str("static_kwargs").EmptyDict()
	if len(n.kwargs) > 0 {
		w.Mark()
		for _, kv := range n.kwargs {
			w.Str(kv[0].(string))
			switch v := kv[1].(type) {
			case int:
				w.Int(v)
			case float64:
				w.Float(v)
			case string:
				w.Str(v)
			case bool:
				w.Bool(v)
			case nil:
				w.None()
			case func(*pickletest.Writer):
				v(w)
			default:
				panic(fmt.Sprintf("kwarg %T", v))
			}
		}
		w.SetItems()
	}
	w.Str("components").EmptyDict()
	if len(n.components) > 0 {
		w.Mark()
		for _, c := range n.components {
			w.Str(c.key)
			if c.get != 0 {
				w.Get(c.get)
			} else {
				s.network(c.net)
			}
		}
		w.SetItems()
	}
	w.Str("build_module_src").Str("import os\nos.system('echo never run')\n")
	w.Str("build_func_name").Str(n.buildFunc)
	w.Str("variables").EmptyList()
	if len(n.vars) > 0 {
		w.Mark()
		for i := range n.vars {
			v := &n.vars[i]
			w.Str(v.name)
			s.array(v)
			w.Tuple2()
		}
		w.Appends()
	}
	w.SetItems().Build()
}

func (s *synthWriter) dtype(v *synthVar) {
	w := s.w
	dt := v.dtype
	if dt == "" {
		dt = "f4"
	}
	bo := "<"
	if v.big {
		bo = ">"
	}
	w.Global("numpy", "dtype").Str(dt).Bool(false).Bool(true).Tuple3().Reduce()
	w.Mark().Int(3).Str(bo).None().None().None().Int(-1).Int(-1).Int(0).Tuple().Build()
}

func (s *synthWriter) array(v *synthVar) {
	w := s.w
	if v.get != 0 {
		w.Get(v.get)
		return
	}
	if v.put != 0 {
		defer w.Put(v.put)
	}
	data := v.encode(s.rng)
	switch {
	case v.scalar:
		w.Global("numpy.core.multiarray", "scalar")
		s.dtype(v)
		w.Bytes(data).Tuple2().Reduce()
	case v.frombuffer:
		order := "C"
		if v.fortran {
			order = "F"
		}
		w.Global("numpy.core.numeric", "_frombuffer").Mark().Bytes(data)
		s.dtype(v)
		w.IntTuple(v.shape...).Str(order).Tuple().Reduce()
	default:
		w.Global("numpy.core.multiarray", "_reconstruct").Global("numpy", "ndarray").IntTuple(0).Bytes([]byte("b")).Tuple3().Reduce()
		w.Mark().Int(1).IntTuple(v.shape...)
		s.dtype(v)
		w.Bool(v.fortran).Bytes(data).Tuple().Build()
	}
}

// smallGs returns the Network states (G, D, Gs) of a tiny StyleGAN v1
// generator whose Gs variables are vars (plus the lod scalars).
func smallGs(vars ...synthVar) (G, D, Gs *synthNet) {
	kw := [][2]any{{"resolution", 8}, {"truncation_psi", 0.7}, {"nonlinearity", "lrelu"}, {"use_noise", true}, {"label", nil}}
	mk := func(name string, vars []synthVar) *synthNet {
		synth := &synthNet{name: "G_synthesis", buildFunc: "G_synthesis", version: 3, kwargs: [][2]any{{"resolution", 8}, {"fmap_base", 16}},
			vars: []synthVar{{name: "lod", scalar: true, data: []float32{0}}}}
		mapping := &synthNet{name: "G_mapping", buildFunc: "G_mapping", version: 3, kwargs: kw,
			vars: []synthVar{{name: "Dense0/weight", shape: []int{2, 2}, data: []float32{1, 2, 3, 4}}}}
		synth.vars = append(synth.vars, vars...)
		return &synthNet{name: name, buildFunc: "G_style", version: 3, kwargs: kw,
			vars:       []synthVar{{name: "lod", scalar: true, data: []float32{0}}, {name: "dlatent_avg", shape: []int{2}, data: []float32{5, 6}}},
			components: []synthComponent{{key: "synthesis", net: synth}, {key: "mapping", net: mapping}}}
	}
	D = &synthNet{name: "D", buildFunc: "D_basic", version: 3, vars: []synthVar{{name: "4x4/Conv/weight", shape: []int{3}, data: []float32{7, 8, 9}}}}
	return mk("G", vars), D, mk("Gs", vars)
}

// writeTemp writes the pickle of (G, D, Gs) to a temporary file.
func writeTemp(tb testing.TB, G, D, Gs *synthNet) string {
	tb.Helper()
	f, err := os.CreateTemp(tb.TempDir(), "*.pkl")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := writeSynth(f, G, D, Gs); err != nil {
		tb.Fatal(err)
	}
	return f.Name()
}
