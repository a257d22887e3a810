package main

import (
	"path/filepath"
	"strings"
	"testing"

	"stylegan-tui/checkpoints"
	"stylegan-tui/checkpoints/safetensors"
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

// TestInfoUnused: info lists the tensors of an imported file that the
// convention's table did not read; a file without any says nothing.
func TestInfoUnused(t *testing.T) {
	src := testfix.Path(t, "rosinality/tiny_s3.safetensors")
	f, err := safetensors.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"generator.progression.1.conv1.2.weight", "discriminator.extra"} {
		f.Tensors[name] = &safetensors.Tensor{Shape: []int{2}, Data: []float32{1, 2}}
	}
	extra := filepath.Join(t.TempDir(), "extra.safetensors")
	if err := safetensors.WriteFile(extra, f); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI("info", extra)
	if code != 0 {
		t.Fatalf("info: exit %d: %s", code, stderr)
	}
	if want := "unused:      2 tensors the importer did not read: discriminator.extra, generator.progression.1.conv1.2.weight\n"; !strings.Contains(out, want) {
		t.Errorf("info with two extra tensors, want %q:\n%s", want, out)
	}
	if code, out, _ := runCLI("info", src); code != 0 || strings.Contains(out, "unused") {
		t.Errorf("info of the fixture: exit %d, mentions unused tensors:\n%s", code, out)
	}
}
