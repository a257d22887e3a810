package testfix

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	p, err := Lookup("numpy_seeds.json")
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(p) {
		t.Errorf("%s: not absolute", p)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(p), "README.md")); err != nil {
		t.Errorf("the fixtures' README is not beside %s: %v", p, err)
	}
	if _, err := os.Stat(filepath.Join(p, "../../../go.mod")); err != nil {
		t.Errorf("%s is not in %s at the module root: %v", p, Dir, err)
	}
	_, err = Lookup("nvlabs/no_such_file.pkl")
	if err == nil || !strings.Contains(err.Error(), "testdata/fixtures/nvlabs/no_such_file.pkl is missing") {
		t.Errorf("missing fixture: %v", err)
	}
}

// fatalTB records Fatal instead of stopping the test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper()           {}
func (f *fatalTB) Fatal(args ...any) { f.msg = fmt.Sprint(args...) }

// A missing fixture fails the test (it is never skipped) with the file's name.
func TestPathMissing(t *testing.T) {
	f := &fatalTB{TB: t}
	Path(f, "rosinality/gone.pt")
	if !strings.Contains(f.msg, "rosinality/gone.pt is missing") {
		t.Errorf("Fatal message %q", f.msg)
	}
	if p := Path(t, "rosinality/tiny_s3.safetensors"); filepath.Base(p) != "tiny_s3.safetensors" {
		t.Errorf("Path = %s", p)
	}
}
