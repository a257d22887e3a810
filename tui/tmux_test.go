package tui

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"stylegan-tui/internal/testfix"
)

// buildBinary builds the stylegan-tui command once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "stylegan-tui")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// tmuxPane drives the binary in a detached tmux pane on a private server.
type tmuxPane struct {
	t    *testing.T
	sock string
}

func (p *tmuxPane) run(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-L", p.sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
	return string(out), err
}

func (p *tmuxPane) capture() string {
	out, err := p.run("capture-pane", "-p", "-t", "sgt")
	if err != nil {
		return "(capture failed: " + err.Error() + ": " + out + ")"
	}
	return out
}

// waitFor polls capture-pane until every want is on screen.
func (p *tmuxPane) waitFor(timeout time.Duration, want ...string) string {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	var screen string
	for time.Now().Before(deadline) {
		screen = p.capture()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(screen, w)
		}
		if ok {
			return screen
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("timed out waiting for %q; screen:\n%s", want, screen)
	return ""
}

func (p *tmuxPane) keys(k ...string) {
	p.t.Helper()
	if out, err := p.run(append([]string{"send-keys", "-t", "sgt"}, k...)...); err != nil {
		p.t.Fatalf("send-keys: %v %s", err, out)
	}
}

// cells returns the first n fields of the strip row that starts with
// prefix, with the cursor's brackets removed.
func cells(screen, prefix string, n int) string {
	f := strings.Fields(strings.NewReplacer("[", "", "]", "").Replace(strings.TrimPrefix(row(screen, prefix), prefix)))
	return strings.Join(f[:min(n, len(f))], " ")
}

// row returns the screen line that starts with prefix.
func row(screen, prefix string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// The binary in a 120x40 tmux pane with half-blocks: keys change the layer
// strip and the explain line as expected, and q restores the shell.
func TestTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	bin := buildBinary(t)
	fixture := testfix.Path(t, fixtureNV256)
	p := &tmuxPane{t: t, sock: fmt.Sprintf("sgt-test-%d", os.Getpid())}
	t.Cleanup(func() { p.run("kill-server") })
	marker := filepath.Join(t.TempDir(), "exited")
	shell := fmt.Sprintf("%s --graphics halfblock --checkpoint %s; echo $? > %s; sleep 60", bin, fixture, marker)
	start := time.Now()
	if out, err := p.run("new-session", "-d", "-s", "sgt", "-x", "120", "-y", "40", shell); err != nil {
		t.Fatalf("tmux new-session: %v %s", err, out)
	}
	p.waitFor(60*time.Second, "group  ├")
	t.Logf("start-up: first frame on screen after %v", time.Since(start))
	screen := p.waitFor(60*time.Second, "result · A", "render ", "half-blocks")
	t.Logf("start-up: result image on screen after %v", time.Since(start))
	if got := cells(screen, "style", 14); got != "A A A A A A A A A A A A A A" {
		t.Fatalf("start style row %q", got)
	}
	if got := cells(screen, "res", 14); got != "4 4 8 8 16 16 32 32 64 64 128 128 256 256" {
		t.Errorf("resolution row %q", got)
	}
	if got := row(screen, "group"); !strings.Contains(got, "coarse") || !strings.Contains(got, "middle") || !strings.Contains(got, "fine") {
		t.Errorf("group row %q", got)
	}
	if !strings.Contains(row(screen, "style"), "[A]") || !strings.Contains(screen, "cursor: layer 0 (4²)") {
		t.Errorf("no cursor on layer 0:\n%s", screen)
	}

	p.keys("2")
	screen = p.waitFor(30*time.Second, "» w[4:8] <- w_B (middle, 16²-32²)", "result · A + middle from B")
	if got := cells(screen, "style", 14); got != "A A A A B B B B A A A A A A" {
		t.Errorf("style row after 2: %q", got)
	}

	p.keys("+")
	screen = p.waitFor(30*time.Second, "» psi 0.8 on layers 0-7: w' = w_avg + 0.8 (w - w_avg)")
	if got := row(screen, "psi"); !strings.Contains(got, "psi 0.8, cutoff 8") {
		t.Errorf("psi row %q", got)
	}

	p.keys("Right", "Right", "m")
	screen = p.waitFor(30*time.Second, "» noise[2] (8²): const")
	if got := cells(screen, "noise", 14); got != "r r c r r r r r r r r r r r" {
		t.Errorf("noise row %q", got)
	}

	p.keys("u", "u", "u")
	screen = p.waitFor(30*time.Second, "» undo w[4:8] <- w_B (middle, 16²-32²)")
	if !strings.HasSuffix(strings.TrimRight(strings.Split(screen, "\n")[0], " "), "result · A") {
		t.Errorf("label row after undo: %q", strings.Split(screen, "\n")[0])
	}
	if got := cells(screen, "style", 14); got != "A A A A A A A A A A A A A A" || !strings.Contains(screen, "cursor: layer 2 (8²)") {
		t.Errorf("style row after undo: %q", got)
	}

	p.keys("?")
	p.waitFor(10*time.Second, "keys (any key closes this help)")
	p.keys("Escape")
	p.waitFor(10*time.Second, "result · A")

	p.keys("q")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(marker); err == nil && len(b) > 0 {
			if s := strings.TrimSpace(string(b)); s != "0" {
				t.Fatalf("exit status %s; screen:\n%s", s, p.capture())
			}
			screen := p.capture()
			if strings.Contains(screen, "group  ├") {
				t.Errorf("the explorer is still on screen after q:\n%s", screen)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("q did not exit; screen:\n%s", p.capture())
}
