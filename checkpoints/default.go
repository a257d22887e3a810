package checkpoints

import (
	"embed"
	"errors"
	"io/fs"
)

// defaultFS embeds the default model (checkpoints/default/model.safetensors)
// so the explorer runs with no download.
//
//go:embed default
var defaultFS embed.FS

// DefaultPath is the embedded model's name inside the binary.
const DefaultPath = "default/model.safetensors"

// Default loads the embedded default model.
func Default() (*Model, error) {
	b, err := defaultFS.ReadFile(DefaultPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errors.New("checkpoints: this build embeds no default model yet; pass --checkpoint FILE")
	}
	if err != nil {
		return nil, err
	}
	return Parse(b, "embedded "+DefaultPath)
}
