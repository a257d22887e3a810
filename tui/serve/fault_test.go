package serve

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"stylegan-tui/latent"
)

// faultServer is a server with one key and short limits for the fault tests.
func faultServer(t *testing.T, cfg Config) (*Server, string, gossh.Signer) {
	t.Helper()
	dir := t.TempDir()
	signer, _, line := clientKey(t, dir, "id")
	cfg.AuthorizedKeys = dir + "/authorized_keys"
	if err := writeFile(cfg.AuthorizedKeys, line); err != nil {
		t.Fatal(err)
	}
	cfg.NoSave = true
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	srv, addr := testServer(t, cfg)
	return srv, addr, signer
}

// ready opens a session that answered the queries and shows its first image.
func ready(t *testing.T, addr string, signer gossh.Signer) *goClient {
	t.Helper()
	c, err := dialGo(t, addr, signer, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	waitFor(t, c.out, "the DA1 query", 20*time.Second, hasDA1Query)
	c.send(sixelReplies)
	waitFor(t, c.out, "the first image", 30*time.Second, func(b []byte) bool { return hasSixel(b, 0) })
	return c
}

// probe checks that a healthy session still answers a key with the right
// picture in time.
func probe(t *testing.T, c *goClient, refs *refCache, st *latent.State, within time.Duration, label string) {
	t.Helper()
	from := c.out.len()
	st.A = latent.Source{Seed: st.A.Seed + 1}
	start := time.Now()
	c.send("]")
	mt := &matcher{refs: refs, st: *st, next: from, min: recognised}
	waitFor(t, c.out, label+": the healthy session's next image", within, func(b []byte) bool { return mt.check(t, b) })
	t.Logf("%s: healthy session answered in %v (PSNR %.1f dB)", label, time.Since(start).Round(time.Millisecond), mt.db)
}

func waitSessions(t *testing.T, srv *Server, n int, within time.Duration, what string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for srv.Sessions() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d sessions open, want %d", what, srv.Sessions(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Clients that disconnect mid-render, send garbage, or never read do not
// block the other sessions or the server, and their sessions end.
func TestFaults(t *testing.T) {
	srv, addr, signer := faultServer(t, Config{WriteTimeout: 2 * time.Second})
	m := loadFixture(t, fixtureTiny)
	refs := newRefs(m)
	baseG := settle(0, 0, 200*time.Millisecond)
	good := ready(t, addr, signer)
	st := startState(m)
	probe(t, good, refs, &st, 20*time.Second, "baseline")

	// Disconnect mid-render: keys, then the TCP connection drops at once.
	for i := 0; i < 3; i++ {
		d := ready(t, addr, signer)
		d.send(strings.Repeat("a", 20))
		time.Sleep(time.Duration(i*15) * time.Millisecond)
		d.close()
	}
	probe(t, good, refs, &st, 20*time.Second, "after disconnects")
	waitSessions(t, srv, 1, 10*time.Second, "disconnected sessions")

	// Garbage: random bytes, broken escapes, an unterminated paste, huge
	// CSI parameters, invalid UTF-8.
	g := ready(t, addr, signer)
	rng := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, 256<<10)
	for i := range junk {
		junk[i] = byte(rng.UintN(256))
		if junk[i] == 'q' || junk[i] == 3 { // keep the session alive to the end
			junk[i] = 'x'
		}
	}
	for _, s := range []string{"\x1b[200~", "\x1b[" + strings.Repeat("9", 5000) + "t", "\x1b]52;c;" + strings.Repeat("A", 10000), "\xff\xfe\xc0\x80", "\x1bP" + strings.Repeat("#", 5000)} {
		junk = append(junk, s...)
	}
	for off := 0; off < len(junk); off += 4096 {
		if err := g.send(string(junk[off:min(off+4096, len(junk))])); err != nil {
			break // the server may have closed it
		}
	}
	probe(t, good, refs, &st, 30*time.Second, "after garbage")
	g.close()
	waitSessions(t, srv, 1, 10*time.Second, "garbage session")

	// Slow consumer: never reads; its output backs up to the SSH window,
	// then the write time-out cuts it off.
	slow, err := dialGo(t, addr, signer, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(slow.close)
	slow.send(sixelReplies) // blind: it never reads the query
	time.Sleep(300 * time.Millisecond)
	for i := 0; i < 60; i++ {
		slow.send("a")
		time.Sleep(20 * time.Millisecond)
	}
	probe(t, good, refs, &st, 20*time.Second, "with a slow consumer")
	// New pictures until its window (2 MB) is full and a write stalls.
	cut := time.Now().Add(90 * time.Second)
	for srv.Sessions() > 1 && time.Now().Before(cut) {
		slow.send("a")
		time.Sleep(50 * time.Millisecond)
	}
	waitSessions(t, srv, 1, time.Second, "the slow consumer cut off")
	probe(t, good, refs, &st, 60*time.Second, "after the slow consumer")

	// Everything of the sessions is gone once they are.
	good.close()
	slow.close()
	waitSessions(t, srv, 0, 10*time.Second, "all sessions closed")
	if g := settle(baseG, 3, 10*time.Second); g > baseG+3 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d after the faulty sessions, %d before\n%s", g, baseG, buf[:runtime.Stack(buf, true)])
	} else {
		t.Logf("goroutines %d before, %d after", baseG, g)
	}
}

// Shutdown ends every session with a message and the terminal restored,
// even with a client that never reads.
func TestShutdown(t *testing.T) {
	srv, addr, signer := faultServer(t, Config{WriteTimeout: 30 * time.Second})
	a := ready(t, addr, signer)
	b := ready(t, addr, signer)
	slow, err := dialGo(t, addr, signer, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(slow.close)
	slow.send(sixelReplies)
	for i := 0; i < 40; i++ {
		slow.send("a")
		time.Sleep(20 * time.Millisecond)
	}
	waitSessions(t, srv, 3, 10*time.Second, "three sessions")
	start := time.Now()
	ctx, cancel := contextWithTimeout(15 * time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx, "class is over"); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	t.Logf("shutdown took %v", time.Since(start).Round(time.Millisecond))
	for _, c := range []*goClient{a, b} {
		waitFor(t, c.out, "the end of the stream", 10*time.Second, func([]byte) bool { return c.out.closed() })
		out := c.out.bytes()
		i := bytes.LastIndex(out, []byte("\x1b[?1049l"))
		j := bytes.LastIndex(out, []byte("class is over"))
		if i < 0 || j < i {
			t.Errorf("stream ends %q: want the alternate screen left, then the message", tail(out, 200))
		}
	}
	if n := srv.Sessions(); n != 0 {
		t.Errorf("%d sessions after shutdown", n)
	}
	if _, err := dialGo(t, addr, signer, true); err == nil {
		t.Error("a connection after shutdown was accepted")
	}
}

// --max-sessions refuses the session over the limit with a message; the
// idle time-out closes a quiet session with a message.
func TestLimits(t *testing.T) {
	srv, addr, signer := faultServer(t, Config{MaxSessions: 1, IdleTimeout: 1500 * time.Millisecond})
	a := ready(t, addr, signer)
	b, err := dialGo(t, addr, signer, true)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	waitFor(t, b.out, "the refusal", 10*time.Second, func(p []byte) bool {
		return bytes.Contains(p, []byte("the server is full")) && b.out.closed()
	})
	if hasDA1Query(b.out.bytes()) {
		t.Error("the session over the limit got the explorer")
	}
	waitFor(t, a.out, "the idle time-out", 10*time.Second, func(p []byte) bool {
		return bytes.Contains(p, []byte("no key for 1.5s")) && a.out.closed()
	})
	waitSessions(t, srv, 0, 5*time.Second, "after the idle time-out")
}

// --max-output-rate: a session playing the walk animation (frames as fast as
// they render) has a rate-limited output; the limit itself is measured on
// the output with a fake clock (TestOutputRateLimit).
func TestOutputRate(t *testing.T) {
	const rate = 48 << 10
	srv, addr, signer := faultServer(t, Config{MaxOutputRate: rate})
	c := ready(t, addr, signer)
	c.send("p") // play the A->B walk
	waitFor(t, c.out, "frames beyond the burst", 20*time.Second, func(p []byte) bool { return len(p) > 2*(16<<10) })
	if got := srv.outputRates(); len(got) != 1 || got[0] != rate {
		t.Errorf("session output rates %v, want [%d]", got, rate)
	}
	c.send("p")
}

// Nothing but the explorer: no subsystem (sftp), no port forwarding either
// way, no session without a terminal, and the log gives the reason (the
// README promises one for every session; a pty-less one logged nothing).
func TestExplorerOnly(t *testing.T) {
	var log lockedBuffer
	_, addr, signer := faultServer(t, Config{Log: &log})
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
	if err := sess.RequestSubsystem("sftp"); err == nil {
		t.Error("the sftp subsystem was granted")
	}
	sess.Close()
	if c, err := conn.Dial("tcp", addr); err == nil {
		c.Close()
		t.Error("local port forwarding (direct-tcpip) was granted")
	}
	if l, err := conn.Listen("tcp", "127.0.0.1:0"); err == nil {
		l.Close()
		t.Error("remote port forwarding (tcpip-forward) was granted")
	}
	sess, err = conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	sess.Stdout, sess.Stderr = &out, &out
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- sess.Wait() }()
	select {
	case err = <-waited:
	case <-time.After(10 * time.Second):
		t.Fatal("a shell without a pty stayed open")
	}
	if ee, ok := err.(*gossh.ExitError); !ok || ee.ExitStatus() != 1 || !strings.Contains(out.String(), "needs a terminal") {
		t.Errorf("shell without a pty: %v, %q", err, out.String())
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(log.String(), "session refused (no terminal") {
		if time.Now().After(deadline) {
			t.Fatalf("the log says nothing of the pty-less session:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lockedBuffer is a bytes.Buffer for two writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A connection that authenticates but opens no session, or stalls in the
// handshake, is closed after sessionWithin.
func TestNoSessionClosed(t *testing.T) {
	old := sessionWithin
	sessionWithin = 300 * time.Millisecond
	defer func() { sessionWithin = old }()
	_, addr, signer := faultServer(t, Config{})
	conn, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "x", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- conn.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("a connection without a session stayed open")
	}
	raw, err := net.Dial("tcp", addr) // no handshake at all
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, raw); err != nil {
		t.Errorf("a stalled handshake was not closed: %v", err)
	}
}
