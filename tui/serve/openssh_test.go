package serve

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"stylegan-tui/latent"
)

// sshClient is the real OpenSSH client on a pipe: ssh -tt gives the session
// a pty even though stdin is not a terminal.
type sshClient struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *tape
	stderr *bytes.Buffer
	done   chan error
}

func openSSH(t *testing.T, addr, key string, extra ...string) *sshClient {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	args := []string{"-tt", "-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
		"-F", "/dev/null", "-p", port, host}
	cmd := exec.Command("ssh", append(args, extra...)...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &sshClient{cmd: cmd, in: in, out: &tape{}, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.out.readFrom(stdout)
		c.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		in.Close()
		select {
		case <-c.done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

func (c *sshClient) send(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(c.in, s); err != nil {
		t.Fatalf("ssh stdin: %v", err)
	}
}

// wait returns ssh's exit code.
func (c *sshClient) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case err := <-c.done:
		c.done <- err // for Cleanup
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("ssh: %v", err)
		}
		return 0
	case <-time.After(timeout):
		t.Fatalf("ssh did not exit; stderr %q; out %q", c.stderr.String(), tail(c.out.bytes(), 300))
	}
	return -1
}

func needSSH(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no OpenSSH client (apt install openssh-client)")
	}
}

// The real OpenSSH client: a listed key gets the explorer, which detects
// sixel in-band; the image drawn for a state (before and after a key) is the
// generator's picture; q ends the session and restores the terminal. A key
// that is not listed is refused, exec is refused, and the host key is
// reused on the next start.
func TestOpenSSH(t *testing.T) {
	needSSH(t)
	dir := t.TempDir()
	_, key1, line1 := clientKey(t, dir, "id_listed")
	_, key2, _ := clientKey(t, dir, "id_unlisted")
	ak := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(ak, append([]byte("# the class\n"), line1...), 0o600); err != nil {
		t.Fatal(err)
	}
	stateDir := filepath.Join(dir, "state")
	outDir := filepath.Join(dir, "saved")
	srv, addr := testServer(t, Config{AuthorizedKeys: ak, StateDir: stateDir, OutDir: outDir})
	m := loadFixture(t, fixtureTiny)
	refs := newRefs(m)

	c := openSSH(t, addr, key1)
	waitFor(t, c.out, "the DA1 query", 20*time.Second, hasDA1Query)
	c.send(t, sixelReplies)
	start := startState(m)
	check := func(st latent.State, from int, label string) int {
		t.Helper()
		var best sixelAt
		var db float64
		waitFor(t, c.out, label+": its image", 30*time.Second, func(b []byte) bool {
			best, db = refs.match(t, b, from, st)
			return db >= 28
		})
		bb := best.img.Bounds()
		t.Logf("%s: sixel %dx%d px, PSNR %.1f dB vs the generator", label, bb.Dx(), bb.Dy(), db)
		return best.end
	}
	off := check(start, 0, "start")
	lo, hi, ok := m.Cfg.GroupSlots("middle")
	if !ok {
		t.Fatal("no middle group")
	}
	mid := start.WithStyles(lo, hi, latent.FromB)
	n := c.out.len()
	c.send(t, "2")
	check(mid, n, "middle from B")
	_ = off

	// Save writes under the out dir, in the key's directory.
	c.send(t, "w")
	waitFor(t, c.out, "saved", 10*time.Second, func(b []byte) bool { return bytes.Contains(b, []byte("saved ")) })
	files, _ := filepath.Glob(filepath.Join(outDir, "key-*", "*.png"))
	if len(files) != 1 {
		t.Errorf("saved files %v, want one PNG under %s/key-*", files, outDir)
	}
	// The animation preset (G) renders through the shared pool and lands
	// in the same directory.
	n = c.out.len()
	c.send(t, "G")
	waitFor(t, c.out, "the animation GIF", 60*time.Second, func(b []byte) bool { return bytes.Contains(b[n:], []byte(".gif")) })
	if gifs, _ := filepath.Glob(filepath.Join(outDir, "key-*", "*.gif")); len(gifs) != 1 {
		t.Errorf("GIFs %v, want one under %s/key-*", gifs, outDir)
	}

	c.send(t, "q")
	if code := c.wait(t, 15*time.Second); code != 0 {
		t.Errorf("ssh exit %d after q, stderr %q", code, c.stderr.String())
	}
	b := c.out.bytes()
	if i, j := bytes.LastIndex(b, []byte("\x1b[?1049l")), bytes.LastIndex(b, []byte("\x1b[?1049h")); i < j || i < 0 {
		t.Error("the alternate screen was not left")
	}
	if strings.Count(string(b), "\x1bP") < 2 {
		t.Error("fewer than two sixel images")
	}

	// An unlisted key is refused.
	bad := openSSH(t, addr, key2)
	if code := bad.wait(t, 15*time.Second); code != 255 || !strings.Contains(bad.stderr.String(), "Permission denied") {
		t.Errorf("unlisted key: exit %d, stderr %q; want 255, Permission denied", code, bad.stderr.String())
	}
	if hasDA1Query(bad.out.bytes()) {
		t.Error("unlisted key got the explorer")
	}

	// exec is refused with a message.
	ex := openSSH(t, addr, key1, "cat", "/etc/passwd")
	code := ex.wait(t, 15*time.Second)
	if code != 1 || !strings.Contains(string(ex.out.bytes())+ex.stderr.String(), "commands are not accepted") || strings.Contains(string(ex.out.bytes()), "root:") {
		t.Errorf("exec: exit %d, out %q, stderr %q", code, ex.out.bytes(), ex.stderr.String())
	}

	// The host key is kept (0600) and reused.
	fi, err := os.Stat(filepath.Join(stateDir, HostKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("host key: %v, mode %v", err, fi.Mode())
	}
	again, err := New(Config{Models: []NamedModel{{"tiny", m}}, AuthorizedKeys: ak, StateDir: stateDir, NoSave: true})
	if err != nil {
		t.Fatal(err)
	}
	if again.Fingerprint() != srv.Fingerprint() || again.NewHostKey() || !srv.NewHostKey() {
		t.Errorf("host key not reused: %s then %s", srv.Fingerprint(), again.Fingerprint())
	}
	again.closePools()
}

// --allow-anyone admits a key that is listed nowhere (and a client with no
// key at all).
func TestOpenSSHAllowAnyone(t *testing.T) {
	needSSH(t)
	dir := t.TempDir()
	_, key, _ := clientKey(t, dir, "id_stranger")
	_, addr := testServer(t, Config{AllowAnyone: true, NoSave: true})
	c := openSSH(t, addr, key)
	waitFor(t, c.out, "the explorer", 20*time.Second, hasDA1Query)
	c.send(t, sixelReplies)
	waitFor(t, c.out, "an image", 30*time.Second, func(b []byte) bool { return hasSixel(b, 0) })
	c.send(t, "w") // --no-save
	waitFor(t, c.out, "saving refused", 10*time.Second, func(b []byte) bool { return bytes.Contains(b, []byte("disabled")) })
	c.send(t, "q")
	if code := c.wait(t, 15*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
}
