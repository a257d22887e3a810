package checkpoints

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"stylegan-tui/model/classifier"
)

// defaultFS embeds the default model (checkpoints/default/model.safetensors)
// so the explorer runs with no download, and the toyfaces classifier the
// evaluation measures with (checkpoints/default/classifier.safetensors).
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

// DefaultClassifierPath is the embedded classifier's name inside the binary.
const DefaultClassifierPath = "default/classifier.safetensors"

// DefaultClassifier loads the embedded toyfaces classifier (see
// checkpoints/default/README.md for how it was trained and its accuracy).
func DefaultClassifier() (*classifier.Net, error) {
	b, err := defaultFS.ReadFile(DefaultClassifierPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errors.New("checkpoints: this build embeds no classifier; run stylegan-tui train-classifier")
	}
	if err != nil {
		return nil, err
	}
	n, err := classifier.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("checkpoints: embedded %s: %w", DefaultClassifierPath, err)
	}
	return n, nil
}
