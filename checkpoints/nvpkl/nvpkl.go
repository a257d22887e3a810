// Package nvpkl reads the generator Gs out of an NVlabs StyleGAN v1
// TensorFlow pickle (karras2019stylegan-ffhq-1024x1024.pkl and its
// siblings). Such a file is a pickle of the tuple (G, D, Gs) of
// dnnlib.tflib.network.Network objects, each stored as the state dict of
// Network.__getstate__ in NVlabs/stylegan dnnlib/tflib/network.py.
//
// Nothing in the file is executed: the unpickler knows a short allow-list
// of globals (the Network class, the numpy array and dtype reconstructors,
// _codecs.encode) as inert Go types and refuses every other global, and the
// network's build_module_src is kept as data. Large array payloads are not
// even read while unpickling; only Gs's are read afterwards, so G and D
// never occupy memory.
package nvpkl

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/nlpodyssey/gopickle/types"

	"stylegan-tui/checkpoints/pickleguard"
	"stylegan-tui/checkpoints/safetensors"
)

// lazyMin is the payload size from which array data stays in the file
// until Gs is known (smaller payloads are read inline; that is cheaper
// than a second read for biases and scalars).
const lazyMin = 1024

// Load reads the Gs network of the StyleGAN v1 pickle at path.
//
// tensors holds Gs's variables by their TensorFlow names, as float32 in the
// layouts TensorFlow used (dense [in,out], conv [kh,kw,in,out]): Gs's own
// variables unprefixed (dlatent_avg), each component's prefixed with the
// component's name (G_mapping/Dense0/weight, G_synthesis/4x4/Const/const,
// G_synthesis/noise3). The progressive-growing level variables "lod" and
// "G_synthesis/lod" are not tensors: they must be 0 (a finished network),
// and the latter is reported as meta["lod"].
//
// meta holds the static_kwargs of Gs and of its synthesis component (the
// latter wins on a clash; they are the same kwargs in NVlabs' code), e.g.
// "resolution", "fmap_base", "truncation_psi". A str value is stored as it
// is; any other value as JSON ("1024", "0.7", "true", "null", "[1, 2]").
// Values that are neither (numpy objects) are left out.
//
// Only pickles of NVlabs/stylegan's G_style with Network state version 3 are
// accepted; StyleGAN2 pickles (build_func_name "G_main") are refused.
func Load(path string) (tensors map[string]*safetensors.Tensor, meta map[string]string, err error) {
	err = pickleguard.LoadFile("nvpkl", path, func(ra io.ReaderAt, size int64) (err error) {
		tensors, meta, err = load(ra, size)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return tensors, meta, nil
}

func load(ra io.ReaderAt, size int64) (tensors map[string]*safetensors.Tensor, meta map[string]string, err error) {
	defer func() {
		if p := recover(); p != nil {
			tensors, meta, err = nil, nil, fmt.Errorf("malformed file (panic: %v)", p)
		}
		if err != nil {
			err = pickleguard.OneLine(err)
		}
	}()
	if size == 0 {
		return nil, nil, errors.New("empty file")
	}
	g := pickleguard.New(ra, 0, size, pickleguard.Options{LazyMin: lazyMin})
	u := g.Unpickler()
	u.FindClass = findClass
	top, err := pickleguard.Load(u, g)
	if err != nil {
		return nil, nil, err
	}
	gs, err := pickGs(top)
	if err != nil {
		return nil, nil, err
	}
	c := &collector{ra: ra, tensors: map[string]*safetensors.Tensor{}, meta: map[string]string{},
		seen: map[*network]bool{}, limit: outputBudget(size), budget: outputBudget(size)}
	if err := c.network(gs); err != nil {
		return nil, nil, err
	}
	return c.tensors, c.meta, nil
}

// findClass is the allow-list of globals. gopickle resolves
// collections.OrderedDict, __builtin__.object and copy_reg._reconstructor
// itself (inert Go types) before asking.
func findClass(module, name string) (any, error) {
	switch module + "." + name {
	case "dnnlib.tflib.network.Network":
		return networkClass{}, nil
	case "numpy.ndarray":
		return ndarrayClass{}, nil
	case "numpy.dtype":
		return dtypeClass{}, nil
	case "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct":
		return reconstructFunc{}, nil
	case "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar":
		return scalarFunc{}, nil
	case "numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer":
		return frombufferFunc{}, nil
	case "_codecs.encode":
		return encodeFunc{}, nil
	}
	hint := ""
	if module == "torch" || strings.HasPrefix(module, "torch.") || strings.HasPrefix(module, "torch_utils") {
		hint = " (a PyTorch pickle, e.g. StyleGAN2-ADA/StyleGAN3? this reader takes NVlabs StyleGAN v1 TensorFlow pickles)"
	}
	return nil, fmt.Errorf("pickle wants global %q, which is not allowed%s", module+"."+name, hint)
}

// pickGs takes Gs out of (G, D, Gs); a pickle of Gs alone is accepted too.
func pickGs(top any) (*network, error) {
	var gs *network
	switch t := top.(type) {
	case *types.Tuple:
		if t.Len() != 3 {
			return nil, fmt.Errorf("top level is a %d-tuple, want (G, D, Gs)", t.Len())
		}
		n, ok := t.Get(2).(*network)
		if !ok {
			return nil, fmt.Errorf("third element of (G, D, Gs) is %s, want a dnnlib Network", pyType(t.Get(2)))
		}
		gs = n
	case *network:
		gs = t
	case *big.Int:
		return nil, errors.New("top level is a big int, like the magic number of a torch legacy .pt file; want the tuple (G, D, Gs) of dnnlib Networks")
	default:
		return nil, fmt.Errorf("top level is %s, want the tuple (G, D, Gs) of dnnlib Networks", pyType(top))
	}
	if !gs.ok {
		return nil, errors.New("Gs has no state")
	}
	if gs.buildFuncName != "G_style" {
		return nil, fmt.Errorf("not a StyleGAN v1 pickle (build_func_name %q)", gs.buildFuncName)
	}
	if gs.version != 3 {
		return nil, fmt.Errorf("unsupported dnnlib Network state version %d (want 3)", gs.version)
	}
	return gs, nil
}

// outputBudget bounds the bytes of float32 tensors a file of the given size
// may produce: float16 data doubles in size, and no more is legitimate. It
// stops a small file from naming one large array many times over.
func outputBudget(size int64) int64 { return 4*size + 16<<20 }

// collector gathers Gs's variables and settings.
type collector struct {
	ra      io.ReaderAt
	tensors map[string]*safetensors.Tensor
	meta    map[string]string
	seen    map[*network]bool
	limit   int64 // outputBudget of the file
	budget  int64 // bytes of tensors still allowed
}

func (c *collector) network(gs *network) error {
	if err := c.variables(gs, "", 0); err != nil {
		return err
	}
	c.kwargs(gs)
	if gs.components == nil {
		return nil
	}
	if v, ok := gs.components.Get("synthesis"); ok {
		if s, ok := v.(*network); ok && s.ok {
			c.kwargs(s)
		}
	}
	return nil
}

// variables collects n's own variables under prefix, then its components'
// under prefix + component name + "/".
func (c *collector) variables(n *network, prefix string, depth int) error {
	if depth > 4 {
		return errors.New("network components nested too deeply")
	}
	if !n.ok {
		return fmt.Errorf("network %q has no state", prefix)
	}
	if c.seen[n] {
		return fmt.Errorf("network %q appears twice among the components", prefix)
	}
	c.seen[n] = true
	if n.variables != nil {
		for i, item := range *n.variables {
			t, ok := item.(*types.Tuple)
			if !ok || t.Len() != 2 {
				return fmt.Errorf("%svariables[%d] is %s, want a (name, array) pair", prefix, i, pyType(item))
			}
			name, ok := t.Get(0).(string)
			if !ok || name == "" {
				return fmt.Errorf("%svariables[%d] has a name of type %s", prefix, i, pyType(t.Get(0)))
			}
			name = prefix + name
			a, ok := t.Get(1).(*ndarray)
			if !ok {
				return fmt.Errorf("%s is %s, want a numpy array", name, pyType(t.Get(1)))
			}
			if err := c.variable(name, a); err != nil {
				return err
			}
		}
	}
	if n.components == nil {
		return nil
	}
	for _, e := range *n.components {
		comp, ok := e.Value.(*network)
		if !ok {
			return fmt.Errorf("%scomponent %s is %s, want a dnnlib Network", prefix, keyName(e.Key), pyType(e.Value))
		}
		if !comp.ok || comp.name == "" {
			return fmt.Errorf("%scomponent %s has no state or name", prefix, keyName(e.Key))
		}
		if err := c.variables(comp, prefix+comp.name+"/", depth+1); err != nil {
			return err
		}
	}
	return nil
}

func (c *collector) variable(name string, a *ndarray) error {
	if _, dup := c.tensors[name]; dup {
		return fmt.Errorf("variable %s appears twice", name)
	}
	t, err := a.tensor(name, c.ra, &c.budget)
	if errors.Is(err, errBudget) {
		return fmt.Errorf("%s: Gs's tensors would exceed %d bytes, 4 times the file size plus 16 MiB (arrays referenced repeatedly?)", name, c.limit)
	}
	if err != nil {
		return err
	}
	if len(t.Shape) == 0 && (name == "lod" || len(name) > 4 && name[len(name)-4:] == "/lod") {
		// Progressive-growing level: a finished network sits at lod 0.
		if v := t.Data[0]; v != 0 {
			return fmt.Errorf("%s = %g, want 0 (a progressive-growing snapshot, not a finished network)", name, v)
		}
		if name == "G_synthesis/lod" {
			c.meta["lod"] = "0"
		}
		return nil
	}
	c.tensors[name] = t
	return nil
}

// kwargs copies n's static_kwargs into meta.
func (c *collector) kwargs(n *network) {
	if n.staticKwargs == nil {
		return
	}
	for _, e := range *n.staticKwargs {
		k, ok := e.Key.(string)
		if !ok {
			continue
		}
		if s, ok := e.Value.(string); ok {
			c.meta[k] = s
			continue
		}
		nodes := 10000
		v, ok := jsonValue(e.Value, 0, &nodes)
		if !ok {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			continue
		}
		c.meta[k] = string(b)
	}
}

// jsonValue converts a plain unpickled value for encoding/json. Values
// nested deeper than 16 or with more than *nodes parts (shared references
// can make a small pickle an exponentially large tree) are not converted.
func jsonValue(v any, depth int, nodes *int) (any, bool) {
	if *nodes--; depth > 16 || *nodes < 0 {
		return nil, false
	}
	switch x := v.(type) {
	case nil, bool, int, string:
		return x, true
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case *big.Int:
		return json.Number(x.String()), true
	case *types.Tuple:
		return jsonList(*x, depth, nodes)
	case *types.List:
		return jsonList(*x, depth, nodes)
	case *types.Dict:
		m := make(map[string]any, len(*x))
		for _, e := range *x {
			k, ok := e.Key.(string)
			if !ok {
				return nil, false
			}
			ev, ok := jsonValue(e.Value, depth+1, nodes)
			if !ok {
				return nil, false
			}
			m[k] = ev
		}
		return m, true
	}
	return nil, false
}

func jsonList(items []any, depth int, nodes *int) (any, bool) {
	out := make([]any, len(items))
	for i, it := range items {
		v, ok := jsonValue(it, depth+1, nodes)
		if !ok {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

// networkClass is dnnlib.tflib.network.Network: instances only record the
// state that Network.__setstate__ would have applied.
type networkClass struct{}

func (networkClass) PyNew(args ...any) (any, error) { return &network{}, nil }

// network is the __getstate__ dict of a dnnlib Network (version 3).
type network struct {
	ok            bool
	version       int
	name          string
	staticKwargs  *types.Dict
	components    *types.Dict
	buildFuncName string
	variables     *types.List
	// buildModuleSrc is the Python source the network was built from: a
	// str, or a *pickleguard.Lazy when long. It is data; never executed.
	buildModuleSrc any
}

func (n *network) PySetState(state any) error {
	d, ok := state.(*types.Dict)
	if !ok {
		return fmt.Errorf("Network state is %s, want a dict", pyType(state))
	}
	for _, e := range *d {
		key, _ := e.Key.(string)
		var ok bool
		switch key {
		case "version":
			n.version, ok = e.Value.(int)
		case "name":
			n.name, ok = e.Value.(string)
		case "static_kwargs":
			n.staticKwargs, ok = e.Value.(*types.Dict)
		case "components":
			n.components, ok = e.Value.(*types.Dict)
		case "build_module_src":
			n.buildModuleSrc, ok = e.Value, true
		case "build_func_name":
			n.buildFuncName, ok = e.Value.(string)
		case "variables":
			n.variables, ok = e.Value.(*types.List)
		default:
			ok = true
		}
		if !ok {
			return fmt.Errorf("Network state %q is %s", key, pyType(e.Value))
		}
	}
	n.ok = true
	return nil
}

// keyName shows a dict key: quoted if a str, else its type.
func keyName(k any) string {
	if s, ok := k.(string); ok {
		return strconv.Quote(s)
	}
	return pyType(k)
}

// pyType names a value's Python type for error messages (never its value:
// hostile values can be huge or cyclic).
func pyType(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case bool:
		return "a bool"
	case int, *big.Int:
		return "an int"
	case float64:
		return "a float"
	case string:
		return "a str"
	case []byte:
		return "bytes"
	case *types.ByteArray:
		return "a bytearray"
	case *types.Tuple:
		return "a tuple"
	case *types.List:
		return "a list"
	case *types.Dict, *types.OrderedDict:
		return "a dict"
	case *network:
		return "a dnnlib Network"
	case *ndarray:
		return "a numpy array"
	case *dtype:
		return "a numpy dtype"
	case *pickleguard.Lazy:
		return "a long str or bytes"
	}
	return fmt.Sprintf("a %T", v)
}
