package torchpt

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"strings"

	"stylegan-tui/checkpoints/pickleguard"
)

// The zip format (torch >= 1.6, PyTorchStreamWriter): ARCHIVE/data.pkl is
// the object with persistent ids ('storage', class, key, location, numel),
// ARCHIVE/data/KEY the raw bytes of each storage, ARCHIVE/byteorder
// (newer torch) "little" or "big". torch stores every record uncompressed.

func (c *container) loadZip() (any, error) {
	zr, err := zip.NewReader(c.ra, c.size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // names are only looked up, never created
		// archive/zip's own "zip: not a valid zip file" says nothing of why.
		return nil, fmt.Errorf("a zip archive whose central directory cannot be read (truncated?): %w", err)
	}
	c.zipFiles = make(map[string]*zip.File, len(zr.File))
	var pkl *zip.File
	for _, f := range zr.File {
		c.zipFiles[f.Name] = f
		dir, base, ok := strings.Cut(f.Name, "/")
		if !ok {
			dir, base = "", f.Name
		}
		switch {
		case strings.Contains(base, "/"):
		case base == "constants.pkl":
			return nil, errors.New("a TorchScript archive, not a torch.save checkpoint")
		case base == "data.pkl":
			if pkl != nil {
				return nil, errors.New("zip holds more than one data.pkl")
			}
			pkl, c.zipPrefix = f, dir+"/"
			if dir == "" {
				c.zipPrefix = ""
			}
		}
	}
	if pkl == nil {
		return nil, errors.New("zip without data.pkl: not a torch checkpoint")
	}
	if f := c.zipFiles[c.zipPrefix+"byteorder"]; f != nil {
		off, n, err := c.stored(f)
		if err != nil {
			return nil, err
		}
		b := make([]byte, min(n, 16))
		if _, err := c.ra.ReadAt(b, off); err != nil {
			return nil, err
		}
		if string(b) != "little" {
			return nil, fmt.Errorf("byteorder %q: only little-endian checkpoints are supported", b)
		}
	}
	off, n, err := c.stored(pkl)
	if err != nil {
		return nil, err
	}
	g := pickleguard.New(c.ra, off, off+n, pickleguard.Options{PersistentIDs: true, Rename: renames})
	u := g.Unpickler()
	u.FindClass = findClass
	u.PersistentLoad = c.zipPersistentLoad
	top, err := pickleguard.Load(u, g)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pkl.Name, err)
	}
	return top, nil
}

// stored returns where an uncompressed record's bytes are in the file.
func (c *container) stored(f *zip.File) (off, n int64, err error) {
	if f.Method != zip.Store {
		return 0, 0, fmt.Errorf("zip record %s is compressed (method %d); torch writes stored records", f.Name, f.Method)
	}
	off, err = f.DataOffset()
	if err != nil {
		return 0, 0, fmt.Errorf("zip record %s: %w", f.Name, err)
	}
	if f.CompressedSize64 != f.UncompressedSize64 || off < 0 || f.UncompressedSize64 > uint64(c.size-off) {
		return 0, 0, fmt.Errorf("zip record %s: %w", f.Name, io.ErrUnexpectedEOF)
	}
	return off, int64(f.UncompressedSize64), nil
}

// zipPersistentLoad resolves ('storage', class, key, location, numel).
func (c *container) zipPersistentLoad(id any) (any, error) {
	f, err := persistentID(id)
	if err != nil {
		return nil, err
	}
	st, err := c.declare(f[2].(string), f[1], f[4])
	if err != nil {
		return nil, err
	}
	return &storageRef{st: st, numel: st.numel}, nil
}
