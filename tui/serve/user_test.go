package serve

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
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

// A session without a terminal is refused, and the log says so (it said
// nothing: the README promises a reason for every session).
func TestNoPtyLogged(t *testing.T) {
	var log syncBuffer
	signer, _, _ := clientKey(t, t.TempDir(), "id_nopty")
	_, addr := testServer(t, Config{AllowAnyone: true, NoSave: true, Log: &log})
	conn, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "x", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	sess.Stderr = &stderr
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	sess.Wait()
	if !strings.Contains(stderr.String(), "needs a terminal") {
		t.Errorf("the client was told %q", stderr.String())
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(log.String(), "session refused (no terminal") {
		if time.Now().After(deadline) {
			t.Fatalf("the log says nothing of it:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
