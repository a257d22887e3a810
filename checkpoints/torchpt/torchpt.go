// Package torchpt reads the generator out of a rosinality
// style-based-gan-pytorch checkpoint (the 2019 "-new" StyleGAN v1 .pt/.model
// files of github.com/rosinality/style-based-gan-pytorch), in either of
// torch.save's formats: the legacy one (torch < 1.6: pickles written back to
// back, then the raw storages; torch/serialization.py _legacy_save) and the
// zip one (ARCHIVE/data.pkl plus one ARCHIVE/data/KEY record per storage).
//
// Pickles go through gopickle's Unpickler behind pickleguard; only the
// globals a tensor state dict needs (torch storages and tensor rebuilders;
// collections.OrderedDict) are known, and nothing is executed. Storages are
// located, not read, while unpickling; afterwards only the chosen entry's
// tensors are read, each straight from the file into its float32 result.
package torchpt

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/nlpodyssey/gopickle/types"

	"stylegan-tui/checkpoints/pickleguard"
	"stylegan-tui/checkpoints/safetensors"
)

// Load reads the generator state dict of the rosinality checkpoint at path.
//
// tensors holds the state dict's tensors by their original names
// (style.1.linear.weight_orig, generator.progression.3.conv1.1.conv.weight_orig,
// ...), as contiguous float32 in torch's shapes, without the Blur modules'
// constant buffers (generator.progression.N.conv1.M.weight and .weight_flip).
// The entry used is the running-average generator "g_running" if present,
// else "generator", else the file itself if it is a bare state dict;
// meta["entry"] says which ("g_running", "generator" or "state_dict") and
// meta["serialization"] which format ("legacy" or "zip").
//
// State dicts of the pre-July-2019 rosinality model, and anything without
// the mapping network's style.1.linear.weight_orig, are refused.
func Load(path string) (tensors map[string]*safetensors.Tensor, meta map[string]string, err error) {
	err = pickleguard.LoadFile("torchpt", path, func(ra io.ReaderAt, size int64) (err error) {
		tensors, meta, err = load(ra, size)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return tensors, meta, nil
}

// LoadStateDict reads any bare state dict saved by torch.save(module.state_dict())
// (torchvision's vgg16-397923af.pth, LPIPS's linear layers, ...), in either format,
// with the same allow-list and checks as Load but no layout check. Only the tensors
// whose names keep accepts are read (keep nil: all), so a 528 MB VGG16 file costs
// the convolutions' bytes only. Storage locations (a CUDA device) are ignored.
// meta["serialization"] is "legacy" or "zip".
func LoadStateDict(path string, keep func(name string) bool) (tensors map[string]*safetensors.Tensor, meta map[string]string, err error) {
	err = pickleguard.LoadFile("torchpt", path, func(ra io.ReaderAt, size int64) (err error) {
		tensors, meta, err = loadEntry(ra, size, keepAll(keep))
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return tensors, meta, nil
}

// ReadStateDict is LoadStateDict for a file held in memory (an embedded one):
// size bytes of ra, called name in errors.
func ReadStateDict(name string, ra io.ReaderAt, size int64, keep func(name string) bool) (tensors map[string]*safetensors.Tensor, meta map[string]string, err error) {
	tensors, meta, err = loadEntry(ra, size, keepAll(keep))
	if err != nil {
		return nil, nil, fmt.Errorf("torchpt: %s: %w", name, err)
	}
	return tensors, meta, nil
}

func keepAll(keep func(string) bool) func(string) bool {
	if keep == nil {
		return func(string) bool { return true }
	}
	return keep
}

// load reads the rosinality generator.
func load(ra io.ReaderAt, size int64) (tensors map[string]*safetensors.Tensor, meta map[string]string, err error) {
	return loadEntry(ra, size, nil)
}

// loadEntry reads the rosinality generator (keep nil) or the bare state
// dict's tensors that keep accepts.
func loadEntry(ra io.ReaderAt, size int64, keep func(string) bool) (tensors map[string]*safetensors.Tensor, meta map[string]string, err error) {
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
	var head [4]byte
	if _, err := ra.ReadAt(head[:], 0); err != nil && size >= 4 {
		return nil, nil, err
	}
	c := &container{ra: ra, size: size, storages: map[string]*storage{}}
	var top any
	switch {
	case string(head[:]) == "PK\x03\x04":
		c.format = "zip"
		top, err = c.loadZip()
	case head[0] == 0x80: // pickle PROTO: the legacy format's magic-number pickle
		c.format = "legacy"
		top, err = c.loadLegacy()
	default:
		return nil, nil, errors.New("not a torch checkpoint (neither a zip archive nor a pickle)")
	}
	if err != nil {
		return nil, nil, err
	}
	var entry string
	var sd []namedTensor
	if keep != nil {
		entry = "state_dict"
		if sd, err = stateDict(entry, top); err != nil {
			return nil, nil, err
		}
		kept := sd[:0:0]
		for _, kv := range sd {
			if keep(kv.name) {
				kept = append(kept, kv)
			}
		}
		sd = kept
	} else {
		if entry, sd, err = pickEntry(top); err != nil {
			return nil, nil, err
		}
		if err := checkLayout(entry, sd); err != nil {
			return nil, nil, err
		}
	}
	names := make(map[string]bool, len(sd))
	for _, kv := range sd {
		names[kv.name] = true
	}
	// The tensors may take at most 4 bytes per file byte (float16 storages
	// double in size) plus slack: a small file cannot name one large
	// storage many times over.
	limit := 4*size + 16<<20
	budget := limit
	tensors = make(map[string]*safetensors.Tensor, len(sd))
	for _, kv := range sd {
		if keep == nil && isBlurBuffer(kv.name, names) {
			continue
		}
		n := 4 * kv.t.numelBound()
		if n > budget {
			return nil, nil, fmt.Errorf("%s: the tensors would exceed %d bytes, 4 times the file size plus 16 MiB (storages referenced repeatedly?)", kv.name, limit)
		}
		budget -= n
		if err := c.locate(kv.t.ref.st); err != nil {
			return nil, nil, err
		}
		t, err := kv.t.read(kv.name)
		if err != nil {
			return nil, nil, err
		}
		tensors[kv.name] = t
	}
	return tensors, map[string]string{"entry": entry, "serialization": c.format}, nil
}

// namedTensor is one state dict item, in file order.
type namedTensor struct {
	name string
	t    *tensor
}

// pickEntry chooses the generator state dict: g_running, else generator,
// else the top level itself.
func pickEntry(top any) (entry string, sd []namedTensor, err error) {
	if d, ok := top.(*types.Dict); ok {
		for _, key := range []string{"g_running", "generator"} {
			if v, ok := d.Get(key); ok {
				sd, err := stateDict(key, v)
				return key, sd, err
			}
		}
		if sd, err := stateDict("state_dict", top); err == nil {
			return "state_dict", sd, nil
		}
		var keys []string
		for _, e := range *d {
			if k, ok := e.Key.(string); ok && len(keys) < 8 {
				keys = append(keys, strconv.Quote(k))
			}
		}
		return "", nil, fmt.Errorf("checkpoint holds %s, neither g_running nor generator nor a state dict", strings.Join(keys, ", "))
	}
	if _, ok := top.(*types.OrderedDict); ok {
		sd, err := stateDict("state_dict", top)
		return "state_dict", sd, err
	}
	return "", nil, fmt.Errorf("checkpoint is %s, want a dict", pyType(top))
}

// stateDict lists a state dict's (name, tensor) items.
func stateDict(entry string, v any) ([]namedTensor, error) {
	var sd []namedTensor
	add := func(k, v any) error {
		name, ok := k.(string)
		if !ok {
			return fmt.Errorf("%s has a key of type %s", entry, pyType(k))
		}
		t, ok := v.(*tensor)
		if !ok {
			return fmt.Errorf("%s: %s is %s, want a tensor", entry, name, pyType(v))
		}
		sd = append(sd, namedTensor{name, t})
		return nil
	}
	switch d := v.(type) {
	case *types.OrderedDict:
		for e := d.List.Front(); e != nil; e = e.Next() {
			kv := e.Value.(*types.OrderedDictEntry)
			if err := add(kv.Key, kv.Value); err != nil {
				return nil, err
			}
		}
	case *types.Dict:
		for _, e := range *d {
			if err := add(e.Key, e.Value); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("%s is %s, want a state dict", entry, pyType(v))
	}
	seen := make(map[string]bool, len(sd))
	for _, kv := range sd {
		if seen[kv.name] {
			return nil, fmt.Errorf("%s: key %s appears twice", entry, kv.name)
		}
		seen[kv.name] = true
	}
	return sd, nil
}

// checkLayout accepts the rosinality StyledGenerator of July 2019 onwards.
func checkLayout(entry string, sd []namedTensor) error {
	found := false
	for _, kv := range sd {
		// The earlier model had no upsample/blur Sequential in conv1.
		if strings.HasPrefix(kv.name, "generator.progression.") && strings.HasSuffix(kv.name, ".conv1.conv.weight_orig") {
			return fmt.Errorf("%s is a rosinality state dict from before July 2019 (it has %s); only the later layout (\"-new\" checkpoints) is supported", entry, kv.name)
		}
		found = found || kv.name == "style.1.linear.weight_orig"
	}
	if !found {
		var some []string
		for _, kv := range sd[:min(len(sd), 3)] {
			some = append(some, kv.name)
		}
		return fmt.Errorf("%s is not a rosinality StyledGenerator state dict: no style.1.linear.weight_orig among its %d keys (%s...)", entry, len(sd), strings.Join(some, ", "))
	}
	return nil
}

// isBlurBuffer reports whether name is a constant buffer of a Blur module:
// generator.progression.N.conv1.M.weight_flip, or .weight of a conv1.M
// without a bias (the fused upsample at conv1.0 has weight and bias).
func isBlurBuffer(name string, names map[string]bool) bool {
	p := strings.Split(name, ".")
	if len(p) != 6 || p[0] != "generator" || p[1] != "progression" || p[3] != "conv1" || !digits(p[2]) || !digits(p[4]) {
		return false
	}
	switch p[5] {
	case "weight_flip":
		return true
	case "weight":
		return !names[strings.Join(p[:5], ".")+".bias"]
	}
	return false
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// container is one checkpoint file being read.
type container struct {
	ra       io.ReaderAt
	size     int64
	format   string
	storages map[string]*storage
	// zip only
	zipFiles  map[string]*zip.File
	zipPrefix string
}

// locate finds where st's bytes are (the legacy format has located all
// storages already) and checks that they hold the elements it claims.
func (c *container) locate(st *storage) error {
	if st.located {
		return nil
	}
	if c.format != "zip" {
		return fmt.Errorf("storage %q has no data", st.key)
	}
	name := c.zipPrefix + "data/" + st.key
	f := c.zipFiles[name]
	if f == nil {
		return fmt.Errorf("storage %q: no record %s in the zip", st.key, name)
	}
	off, n, err := c.stored(f)
	if err != nil {
		return err
	}
	if st.numel > n/int64(st.dt.size) {
		return fmt.Errorf("storage %q claims %d %s elements, record %s holds %d bytes", st.key, st.numel, st.dt.name, name, n)
	}
	st.ra, st.off, st.located = c.ra, off, true
	return nil
}
