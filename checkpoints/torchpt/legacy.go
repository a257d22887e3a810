package torchpt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/nlpodyssey/gopickle/types"

	"stylegan-tui/checkpoints/pickleguard"
)

// The legacy format (torch/serialization.py _legacy_save): five pickles
// back to back (magic number, protocol version 1001, sys_info, the object,
// the list of storage keys), then for each key in that order an 8-byte
// little-endian element count and the storage's raw bytes.

const legacyMagic = "1950a86a20f9469cfc6c"

// unpickle reads the pickle at *pos and advances *pos past it.
func (c *container) unpickle(pos *int64, persistent func(any) (any, error)) (any, error) {
	g := pickleguard.New(c.ra, *pos, c.size, pickleguard.Options{PersistentIDs: persistent != nil, Rename: renames})
	u := g.Unpickler()
	u.FindClass = findClass
	u.PersistentLoad = persistent
	v, err := pickleguard.Load(u, g)
	*pos = g.Offset()
	return v, err
}

func (c *container) loadLegacy() (any, error) {
	var pos int64
	magic, err := c.unpickle(&pos, nil)
	if n, ok := magic.(*big.Int); err != nil || !ok || n.Text(16) != legacyMagic {
		return nil, errors.New("not a torch checkpoint (no torch magic number; an NVlabs .pkl?)")
	}
	proto, err := c.unpickle(&pos, nil)
	if err != nil {
		return nil, fmt.Errorf("legacy header: %w", err)
	}
	if n, ok := proto.(int); !ok || n != 1001 {
		if ok {
			return nil, fmt.Errorf("legacy torch protocol %d, want 1001", n)
		}
		return nil, fmt.Errorf("legacy torch protocol is %s, want 1001", pyType(proto))
	}
	sysInfo, err := c.unpickle(&pos, nil)
	if err != nil {
		return nil, fmt.Errorf("legacy sys_info: %w", err)
	}
	if d, ok := sysInfo.(*types.Dict); ok {
		if le, ok := d.Get("little_endian"); ok && le != true {
			return nil, errors.New("big-endian legacy checkpoints are not supported")
		}
	}
	top, err := c.unpickle(&pos, c.legacyPersistentLoad)
	if err != nil {
		return nil, err
	}
	keysV, err := c.unpickle(&pos, nil)
	if err != nil {
		return nil, fmt.Errorf("storage key list: %w", err)
	}
	keys, ok := keysV.(*types.List)
	if !ok {
		return nil, fmt.Errorf("storage key list is %s", pyType(keysV))
	}
	for _, k := range *keys {
		key, _ := k.(string)
		st := c.storages[key]
		if st == nil {
			return nil, fmt.Errorf("storage %q is listed but no tensor uses it", key)
		}
		if st.located {
			return nil, fmt.Errorf("storage %q is listed twice", key)
		}
		var hdr [8]byte
		if c.size-pos < 8 {
			return nil, fmt.Errorf("truncated: storage %q has no header at offset %d", key, pos)
		}
		if _, err := c.ra.ReadAt(hdr[:], pos); err != nil {
			return nil, err
		}
		n := binary.LittleEndian.Uint64(hdr[:])
		if n != uint64(st.numel) {
			return nil, fmt.Errorf("storage %q: the file says %d elements, the pickle %d", key, n, st.numel)
		}
		pos += 8
		nbytes := st.numel * int64(st.dt.size) // declare bounded numel by the file size
		if nbytes > c.size-pos {
			return nil, fmt.Errorf("truncated: storage %q needs %d bytes at offset %d, the file has %d", key, nbytes, pos, c.size-pos)
		}
		st.ra, st.off, st.located = c.ra, pos, true
		pos += nbytes
	}
	return top, nil
}

// legacyPersistentLoad resolves ('storage', class, root_key, location,
// numel, view_metadata), view_metadata being None or (view_key, offset,
// view_numel).
func (c *container) legacyPersistentLoad(id any) (any, error) {
	f, err := persistentID(id)
	if err != nil {
		return nil, err
	}
	if len(f) != 6 {
		return nil, fmt.Errorf("legacy storage persistent id with %d fields, want 6", len(f))
	}
	st, err := c.declare(f[2].(string), f[1], f[4])
	if err != nil {
		return nil, err
	}
	if f[5] == nil {
		return &storageRef{st: st, numel: st.numel}, nil
	}
	v, ok := f[5].(*types.Tuple)
	if !ok || v.Len() != 3 {
		return nil, fmt.Errorf("storage %q: view metadata is %s, want a 3-tuple", st.key, pyType(f[5]))
	}
	off, ok1 := v.Get(1).(int)
	n, ok2 := v.Get(2).(int)
	if !ok1 || !ok2 || off < 0 || n < 0 || int64(off) > st.numel || int64(n) > st.numel-int64(off) {
		return nil, fmt.Errorf("storage %q: bad view", st.key)
	}
	return &storageRef{st: st, base: int64(off), numel: int64(n)}, nil
}
