package checkpoints

import (
	"bytes"
	"path/filepath"
	"strings"

	"stylegan-tui/checkpoints/nvpkl"
	"stylegan-tui/checkpoints/safetensors"
	"stylegan-tui/checkpoints/torchpt"
)

// importer reads a foreign checkpoint into tensors by their original names.
type importer func(path string) (map[string]*safetensors.Tensor, map[string]string, error)

// importerFor picks the importer for a file by its first bytes (a zip is a
// torch zip archive; a pickle is an NVlabs .pkl unless the name says torch)
// and falls back to the extension; nil means safetensors.
func importerFor(path string, head []byte) importer {
	ext := strings.ToLower(filepath.Ext(path))
	torchName := ext == ".pt" || ext == ".pth" || ext == ".model" || ext == ".ckpt"
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return torchpt.Load
	case len(head) >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5:
		// Both formats start with a pickle: torch's legacy format with the
		// magic number's pickle, NVlabs with the network tuple.
		if torchName {
			return torchpt.Load
		}
		return nvpkl.Load
	case ext == ".pkl":
		return nvpkl.Load
	case torchName:
		return torchpt.Load
	}
	return nil
}
