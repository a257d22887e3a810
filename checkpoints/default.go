package checkpoints

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"stylegan-tui/model/classifier"
)

// defaultFS embeds the default model (checkpoints/default/model.safetensors)
// so the explorer runs with no download, and two toyfaces classifiers:
// classifier.safetensors, which the GAN trainer may use (its feature-space
// discriminator's frozen backbone), and judge.safetensors, another
// architecture trained on other images, which eval and ppl measure with
// because no training loss ever touched it.
//
//go:embed default
var defaultFS embed.FS

// DefaultPath is the embedded model's name inside the binary.
const DefaultPath = "default/model.safetensors"

// Default loads the embedded default model.
func Default() (*Checkpoint, error) {
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

// DefaultJudgePath is the embedded judge's name inside the binary.
const DefaultJudgePath = "default/judge.safetensors"

// DefaultClassifier loads the embedded toyfaces classifier (see
// checkpoints/default/README.md for how it was trained and its accuracy).
// The GAN trainer may use it, so it is not the instrument that measures
// GANs: that is DefaultJudge.
func DefaultClassifier() (*classifier.Net, error) { return embeddedNet(DefaultClassifierPath) }

// DefaultJudge loads the embedded judge: a toyfaces classifier of another
// architecture and other training images (classifier.JudgeTrainSeed) than
// DefaultClassifier, used only to measure (see
// checkpoints/default/README.md).
func DefaultJudge() (*classifier.Net, error) { return embeddedNet(DefaultJudgePath) }

func embeddedNet(path string) (*classifier.Net, error) {
	b, err := defaultFS.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("checkpoints: this build embeds no %s; run stylegan-tui train-classifier", path)
	}
	if err != nil {
		return nil, err
	}
	n, err := classifier.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("checkpoints: embedded %s: %w", path, err)
	}
	return n, nil
}
