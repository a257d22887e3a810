package train

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestSnapshots: the names SnapshotFile writes are found again, in order of
// images seen (not of the name's digits as text), other files ignored; the
// provenance Export writes gives the exact count.
func TestSnapshots(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{SnapshotFile(1_350_112), SnapshotFile(50_000), "ema-99999999999999999999k.safetensors", "ema.safetensors", "state.safetensors", "ema-7k.safetensors"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "ema-000001k.safetensors"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := Snapshots(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Snapshot{{filepath.Join(dir, "ema-7k.safetensors"), 7000}, {filepath.Join(dir, "ema-000050k.safetensors"), 50_000},
		{filepath.Join(dir, "ema-001350k.safetensors"), 1_350_000}}
	if !slices.Equal(got, want) {
		t.Errorf("Snapshots = %v, want %v", got, want)
	}
	if _, err := Snapshots(t.TempDir()); err == nil {
		t.Error("an empty directory: no error")
	}
	if n := ImagesSeen("stylegan-tui train: EMA generator at 1350112 images (65632 iterations), 64px", 1); n != 1_350_112 {
		t.Errorf("ImagesSeen from the provenance = %d", n)
	}
	if n := ImagesSeen("imported", 42); n != 42 {
		t.Errorf("ImagesSeen without a count = %d, want the fallback", n)
	}
}
