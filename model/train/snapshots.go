package train

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
)

// SnapshotFile names the EMA snapshot a run writes at images seen
// (RunConfig.SnapshotEvery): ema-NNNNNNk.safetensors, so that a directory
// listing sorts as the learning curve does.
func SnapshotFile(images int64) string { return fmt.Sprintf("ema-%06dk.safetensors", images/1000) }

var snapshotName = regexp.MustCompile(`^ema-(\d+)k\.safetensors$`)

// Snapshot is one EMA snapshot of a run directory.
type Snapshot struct {
	Path   string
	Images int64 // from the file name, to the thousand
}

// Snapshots lists a run directory's EMA snapshots in order of images seen.
func Snapshots(dir string) ([]Snapshot, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Snapshot
	for _, e := range entries {
		m := snapshotName.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			continue
		}
		k, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			continue // digits beyond int64: not a name this package writes
		}
		out = append(out, Snapshot{filepath.Join(dir, e.Name()), 1000 * k})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no ema-NNNNNNk.safetensors snapshots", dir)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Images < out[j].Images })
	return out, nil
}

var provenanceImages = regexp.MustCompile(`at (\d+) images`)

// ImagesSeen reads the images seen from a checkpoint's provenance (Export
// writes "EMA generator at N images"), else returns fallback.
func ImagesSeen(provenance string, fallback int64) int64 {
	if m := provenanceImages.FindStringSubmatch(provenance); m != nil {
		if v, err := strconv.ParseInt(m[1], 10, 64); err == nil {
			return v
		}
	}
	return fallback
}
