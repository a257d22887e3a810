// Package testfix finds the reference fixtures that tests read. They live in
// testdata/fixtures at the module root (their provenance is in the README
// there), and tests name them relative to that directory
// ("nvlabs/tf_stylegan1_32.safetensors"), so a test's paths do not change
// when its package moves.
package testfix

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Dir is the fixtures' directory relative to the module root.
const Dir = "testdata/fixtures"

var root = sync.OnceValues(func() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	// go test runs each package in its own directory: the module root is
	// the nearest directory above it with a go.mod.
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("no go.mod in the working directory or above it")
		}
		dir = up
	}
})

// Lookup returns the absolute path of fixture rel (slash-separated, relative
// to Dir), or an error naming the file if it is not there.
func Lookup(rel string) (string, error) {
	r, err := root()
	if err != nil {
		return "", fmt.Errorf("testfix: fixture %s: %v", rel, err)
	}
	p := filepath.Join(r, Dir, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("testfix: fixture %s/%s is missing (the repository's fixtures: see %s/README.md): %v", Dir, rel, Dir, err)
	}
	return p, nil
}

// Path is Lookup for a test: a missing fixture fails the test, it never
// skips it.
func Path(t testing.TB, rel string) string {
	t.Helper()
	p, err := Lookup(rel)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
