package main

import (
	"path/filepath"
	"strings"
	"testing"

	"stylegan-tui/checkpoints"
	"stylegan-tui/internal/testfix"
)

// TestInfoFade: info prints the fade-in of a model exported mid fade, and
// no fade line for any other.
func TestInfoFade(t *testing.T) {
	m, err := checkpoints.Load(testfix.Path(t, "nvlabs/tf_stylegan1_32.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	plain, fading := filepath.Join(dir, "plain.safetensors"), filepath.Join(dir, "fading.safetensors")
	if err := checkpoints.Save(plain, m); err != nil {
		t.Fatal(err)
	}
	cfg := *m.Cfg
	cfg.FadeAlpha = 0.42
	f := *m
	f.Cfg = &cfg
	if err := checkpoints.Save(fading, &f); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		fading: "fade-in:     α 0.42 (output blends the upsampled 16 px ToRGB, weight 1−α)\n",
		plain:  "",
	} {
		code, out, stderr := runCLI("info", path)
		if code != 0 {
			t.Fatalf("info %s: exit %d: %s", path, code, stderr)
		}
		if want == "" && strings.Contains(out, "fade") || want != "" && !strings.Contains(out, want) {
			t.Errorf("info %s, want %q:\n%s", filepath.Base(path), want, out)
		}
	}
}
