package tui

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"stylegan-tui/internal/testfix"
)

// --tmux-passthrough in a tmux whose allow-passthrough is off (tmux's
// default) or on with no terminal outside to answer (a detached server):
// half-blocks and a one-line hint, never "sixel … via tmux" with no image.
// tmux's own answer about the option is read too.
func TestTmuxPassthroughOff(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	bin := buildBinary(t)
	fixture := testfix.Path(t, fixtureNV32)
	for _, tc := range []struct {
		option, hint string
	}{
		{"off", "tmux's allow-passthrough is off: half-blocks"},
		{"on", "no answer through tmux passthrough"},
	} {
		p := &tmuxPane{t: t, sock: fmt.Sprintf("sgt-pass-%d-%s", os.Getpid(), tc.option)}
		t.Cleanup(func() { p.run("kill-server") })
		if out, err := p.run("new-session", "-d", "-s", "sgt", "-x", "100", "-y", "30", "sleep 60"); err != nil {
			t.Fatalf("tmux new-session: %v %s", err, out)
		}
		if out, err := p.run("set", "-g", "allow-passthrough", tc.option); err != nil {
			t.Fatalf("tmux set: %v %s", err, out)
		}
		socket, err := p.run("display", "-p", "-t", "sgt", "#{socket_path}")
		if err != nil {
			t.Fatalf("tmux display: %v %s", err, socket)
		}
		on, known := tmuxAllowsPassthrough(strings.TrimSpace(socket)+",1,0", "")
		if !known || on != (tc.option == "on") {
			t.Errorf("allow-passthrough %s: tmuxAllowsPassthrough = %v, known %v", tc.option, on, known)
		}
		if out, err := p.run("respawn-pane", "-k", "-t", "sgt", bin+" --tmux-passthrough --checkpoint "+fixture); err != nil {
			t.Fatalf("tmux respawn-pane: %v %s", err, out)
		}
		start := time.Now()
		screen := p.waitFor(30*time.Second, tc.hint, "half-blocks", "render ")
		if status := row(screen, "nvlabs 32px"); !strings.Contains(status, "half-blocks") || strings.Contains(status, "sixel") {
			t.Errorf("allow-passthrough %s: status %q, want half-blocks:\n%s", tc.option, status, screen)
		}
		if n := strings.Count(screen, "▀"); n < 100 {
			t.Errorf("allow-passthrough %s: %d half-block cells on screen, want the images", tc.option, n)
		}
		t.Logf("allow-passthrough %s: half-blocks after %v", tc.option, time.Since(start))
		p.keys("q")
	}
	if on, known := tmuxAllowsPassthrough("/nonexistent/tmux-socket,1,0", ""); known || on {
		t.Errorf("no tmux server: %v, known %v", on, known)
	}
}
