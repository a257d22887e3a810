package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"stylegan-tui/internal/testfix"
)

func TestServeFlags(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--authorized-keys", "k", "--allow-anyone"}, "exclude each other"},
		{[]string{"--state-dir", dir}, "--authorized-keys"},
		{[]string{"--allow-anyone", "--max-output-rate", "fast"}, "--max-output-rate"},
		{[]string{"--allow-anyone", "--graphics", "kitty"}, "--graphics"},
		{[]string{"--allow-anyone", "--max-sessions", "0"}, "--max-sessions"},
	} {
		code, _, stderr := runCLI(append([]string{"serve"}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("serve %v: exit %d, %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
	for s, want := range map[string]int64{"4MiB": 4 << 20, "500K": 500000, "0": 0, "1000": 1000, "2M/s": 2000000} {
		if got, err := parseRate(s); err != nil || got != want {
			t.Errorf("parseRate(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
}

// serve prints the host key's fingerprint, warns about --allow-anyone, and
// on SIGTERM ends the open session with a message, then returns.
func TestServeSIGTERM(t *testing.T) {
	state := t.TempDir()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	addrc := make(chan net.Addr, 1)
	ckpt := testfix.Path(t, "rosinality/tiny_s5.safetensors") // not in the goroutine: a failure there could not end the test
	go func() {
		done <- serveMain([]string{"--listen", "127.0.0.1:0", "--allow-anyone", "--state-dir", state, "--no-save",
			"--checkpoint", ckpt}, &stdout, &stderr,
			func(a net.Addr, _ func()) { addrc <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("serve: %v; %s", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	if !strings.Contains(stdout.String(), "fingerprint SHA256:") || !strings.Contains(stderr.String(), "WARNING: --allow-anyone") {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	conn, err := gossh.Dial("tcp", addr.String(), &gossh.ClientConfig{User: "x", HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm", 24, 80, nil); err != nil {
		t.Fatal(err)
	}
	out, _ := sess.StdoutPipe()
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	var got syncBuffer
	copied := make(chan struct{})
	go func() { io.Copy(&got, out); close(copied) }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(got.String(), "\x1b[c") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	select {
	case <-copied:
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not end")
	}
	if s := got.String(); !strings.Contains(s, "shutting down") {
		t.Errorf("the session ended with %q, want the shutdown message", s[max(0, len(s)-200):])
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

// --teacher-keys names a file of keys: a missing or empty one is an error
// naming the flag and the file.
func TestServeTeacherKeys(t *testing.T) {
	dir := t.TempDir()
	empty := dir + "/empty"
	if err := os.WriteFile(empty, []byte("# nobody yet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{dir + "/none", empty} {
		code, _, stderr := runCLI("serve", "--listen", "127.0.0.1:0", "--allow-anyone", "--state-dir", dir, "--no-save", "--teacher-keys", f)
		if code == 0 || !strings.Contains(stderr, "--teacher-keys") || !strings.Contains(stderr, f) {
			t.Errorf("--teacher-keys %s: exit %d, %q", f, code, stderr)
		}
	}
}
