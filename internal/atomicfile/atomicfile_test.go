package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWrite: a write replaces the file and keeps its mode; a failing write
// leaves the old file and no temporary file, and its error starts with the
// path; a missing directory is named by the path too.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.bin")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	put := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	if err := Write(path, put("new")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	st, _ := os.Stat(path)
	if string(b) != "new" || st.Mode().Perm() != 0o600 {
		t.Errorf("after a write: %q, mode %v; want \"new\", 0600", b, st.Mode().Perm())
	}
	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error { put("partial")(w); return boom })
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), path+": ") {
		t.Errorf("failed write: %v, want boom prefixed with the path", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("a failed write left %q, want the old \"new\"", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("a failed write left %d files in the directory, want 1", len(ents))
	}
	fresh := filepath.Join(dir, "g.bin")
	if err := Write(fresh, put("x")); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(fresh); st.Mode().Perm() != 0o644 {
		t.Errorf("a new file has mode %v, want 0644", st.Mode().Perm())
	}
	missing := filepath.Join(dir, "no", "h.bin")
	if err := Write(missing, put("x")); err == nil || !strings.HasPrefix(err.Error(), missing+": ") {
		t.Errorf("missing directory: %v, want an error starting with %s", err, missing)
	}
}
