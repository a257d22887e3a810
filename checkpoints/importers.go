package checkpoints

import "stylegan-tui/checkpoints/safetensors"

// importer reads a foreign checkpoint into tensors by their original names.
type importer func(path string) (map[string]*safetensors.Tensor, map[string]string, error)

// importerFor picks the importer for a file by its name and first bytes;
// nil means safetensors.
func importerFor(path string, head []byte) importer { return nil }
