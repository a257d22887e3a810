package main

import (
	"path/filepath"
	"strings"
	"testing"

	"stylegan-tui/model/classifier"
)

func TestTrainClassifierFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--images", "x"}, "--images"},
		{[]string{"--batch", "0"}, "--batch"},
		{[]string{"--heldout", "-1"}, "--heldout"},
		{[]string{"--channels", "4,0"}, "--channels"},
		{[]string{"--res-weights", "12:1"}, "--res-weights"},
		{[]string{"--init", "/nonexistent.safetensors"}, "nonexistent"},
	} {
		code, _, stderr := runCLI(append([]string{"train-classifier", "--out", filepath.Join(t.TempDir(), "c.safetensors")}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line naming %s", c.args, code, stderr, c.want)
		}
	}
}

// TestTrainClassifierTiny trains a tiny net for a few steps and reads it back.
func TestTrainClassifierTiny(t *testing.T) {
	out := filepath.Join(t.TempDir(), "c.safetensors")
	code, stdout, stderr := runCLI("train-classifier", "--images", "32", "--batch", "16", "--channels", "4,4,4,4,4",
		"--features", "8", "--heldout", "20", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "| mouth |") || !strings.Contains(stdout, "| 64 px | 32 px | 16 px | 8 px |") {
		t.Errorf("no accuracy table in %q", stdout)
	}
	n, err := classifier.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if md := n.Metadata(); !strings.Contains(md["command"], "--images 32") || !strings.Contains(md["heldout_accuracy"], "| mouth |") {
		t.Errorf("metadata %v", md)
	}
}
