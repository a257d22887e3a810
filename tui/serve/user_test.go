package serve

import (
	"bytes"
	"testing"
	"time"
)

// q while recording: the GIF is written, and the client is told where (in
// its save directory) once its screen is restored.
func TestOpenSSHQuitSaysRecording(t *testing.T) {
	needSSH(t)
	dir := t.TempDir()
	_, key, _ := clientKey(t, dir, "id_rec")
	_, addr := testServer(t, Config{AllowAnyone: true})
	c := openSSH(t, addr, key)
	waitFor(t, c.out, "the explorer", 20*time.Second, hasDA1Query)
	c.send(t, sixelReplies)
	waitFor(t, c.out, "an image", 30*time.Second, func(b []byte) bool { return hasSixel(b, 0) })
	c.send(t, "g")
	waitFor(t, c.out, "recording", 10*time.Second, func(b []byte) bool { return bytes.Contains(b, []byte("● recording")) })
	from := c.out.len()
	c.send(t, "a")
	waitFor(t, c.out, "the new seed", 30*time.Second, func(b []byte) bool { return hasSixel(b, from) })
	c.send(t, "q")
	if code := c.wait(t, 15*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
	out := c.out.bytes()
	after := out[bytes.LastIndex(out, []byte("\x1b[?1049l")):]
	if !bytes.Contains(after, []byte("stylegan-tui: recorded ")) || !bytes.Contains(after, []byte(".gif")) {
		t.Fatalf("after the screen is restored: %q", after)
	}
}
