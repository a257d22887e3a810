package serve

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// A flood of 80 silent connections from one address (the pre-authentication
// cap used to be 2x32+8 = 72: such a flood locked every login out) does not
// keep a real OpenSSH client, nor a room of clients logging in together
// from the same address, from their explorers; the silent connections are
// closed and the log says why.
func TestAdmitFlood(t *testing.T) {
	needSSH(t)
	old := bannerWithin
	bannerWithin = 4 * time.Second
	defer func() { bannerWithin = old }()
	var log lockedBuffer
	dir := t.TempDir()
	signer, key, line := clientKey(t, dir, "id")
	ak := dir + "/authorized_keys"
	if err := writeFile(ak, line); err != nil {
		t.Fatal(err)
	}
	srv, addr := testServer(t, Config{AuthorizedKeys: ak, NoSave: true, Workers: 1, Log: &log})

	var flood []net.Conn
	defer func() {
		for _, c := range flood {
			c.Close()
		}
	}()
	for i := 0; i < 80; i++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("flood connection %d: %v", i, err)
		}
		flood = append(flood, c)
	}
	waitCond(t, "80 silent connections in the lobby", 10*time.Second, func() bool { return srv.adm.lobbied() == 80 })
	time.Sleep(staleAfter) // the flood's connections may be evicted now

	// The real client, then a room of 12 at once, while the flood is held.
	c := openSSH(t, addr, key)
	waitFor(t, c.out, "the explorer for OpenSSH during the flood", 20*time.Second, hasDA1Query)
	c.send(t, sixelReplies)
	waitFor(t, c.out, "its first image", 30*time.Second, func(b []byte) bool { return hasSixel(b, 0) })
	var wg sync.WaitGroup
	errs := make([]error, 12)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			g, err := dialGo(t, addr, signer, true)
			if err != nil {
				errs[i] = err
				return
			}
			defer g.close()
			errs[i] = waitUntil(g.out, 30*time.Second, hasDA1Query)
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("client %d of the room: %v", i, err)
		}
	}
	c.send(t, "q")
	if code := c.wait(t, 15*time.Second); code != 0 {
		t.Errorf("OpenSSH exit %d: %s", code, c.stderr.String())
	}

	// The flood is closed once silent for bannerWithin, with its reason.
	for i, f := range flood {
		f.SetReadDeadline(time.Now().Add(bannerWithin + 10*time.Second))
		b, err := io.ReadAll(f)
		if err != nil {
			t.Fatalf("flood connection %d not closed: %v", i, err)
		}
		if string(b) != serverVersion+"\r\n" {
			t.Fatalf("flood connection %d got %q", i, b)
		}
	}
	waitCond(t, "the log", 5*time.Second, func() bool {
		return strings.Contains(log.String(), "closed: no SSH version line in 4s") && strings.Contains(log.String(), "penalized (silent")
	})
	for _, want := range []string{"ended (quit)", "ended (client left)", "evicted a connection silent for"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	t.Logf("log:\n%s", tailLines(log.String(), 8))
	waitCond(t, "the lobby empty", 5*time.Second, func() bool { return srv.adm.lobbied() == 0 })
}

func tailLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

func waitCond(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lobbied is how many connections wait for their version line (tests).
func (a *admission) lobbied() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inLobby
}

// fakeConn is a connection that records its closing.
type fakeConn struct {
	net.Conn
	mu     sync.Mutex
	closed bool
}

func (c *fakeConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return nil
}

func (c *fakeConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// The lobby on a fake clock: past a source's share a new connection evicts
// its oldest stale one; with nothing stale the source may go to its hard
// limit, then is refused; another source is untouched; penalties shrink a
// source's share and its patience, and expire.
func TestAdmitLobby(t *testing.T) {
	var log lockedBuffer
	a := newAdmission(4, &logger{w: &log}) // soft 8, per source 12, all 80
	now := time.Unix(1000, 0)
	a.now = func() time.Time { return now }
	type entry struct {
		c  *fakeConn
		lc *lobbyConn
	}
	var flood []entry
	enter := func(src string) (entry, bool) {
		c := &fakeConn{}
		lc, within, ok := a.enter(src, c)
		if ok && within != bannerWithin && within != bannerPenalty {
			t.Fatalf("silent for %v", within)
		}
		return entry{c, lc}, ok
	}
	for i := 0; i < 12; i++ {
		e, ok := enter("10.0.0.1")
		if !ok {
			t.Fatalf("connection %d of 12 refused", i)
		}
		flood = append(flood, e)
		now = now.Add(10 * time.Millisecond)
	}
	if _, ok := enter("10.0.0.1"); ok {
		t.Fatal("the 13th young connection of one source was let in")
	}
	if _, ok := enter("10.0.0.2"); !ok {
		t.Fatal("another source was refused")
	}
	now = now.Add(staleAfter)
	e, ok := enter("10.0.0.1")
	if !ok || !flood[0].c.isClosed() || flood[1].c.isClosed() {
		t.Fatalf("past the share with stale ones: let in %v, oldest closed %v, next closed %v", ok, flood[0].c.isClosed(), flood[1].c.isClosed())
	}
	a.leave("10.0.0.1", flood[0].lc) // its goroutine leaves when its read fails
	if !strings.Contains(log.String(), "evicted a connection silent for 1.12s") {
		t.Errorf("log: %q", log.String())
	}
	// A client that spoke has left the lobby: never evicted.
	a.leave("10.0.0.1", e.lc)

	// Penalties: 1 s per silent connection (the one evicted too), on at 15 s.
	for i := 0; i < 13; i++ {
		a.penalize("10.0.0.1", penaltySilent, "silent")
	}
	if a.penalizedLocked("10.0.0.1", now) {
		t.Fatal("penalized at 14 s")
	}
	a.penalize("10.0.0.1", penaltySilent, "silent")
	if !a.penalizedLocked("10.0.0.1", now) || a.penalizedLocked("10.0.0.2", now) {
		t.Fatal("not penalized at 15 s (or the other source is)")
	}
	if !strings.Contains(log.String(), "10.0.0.1: penalized (silent and more) for 15s") {
		t.Errorf("log: %q", log.String())
	}
	for _, f := range flood[1:] {
		a.leave("10.0.0.1", f.lc)
	}
	_, within, _ := a.enter("10.0.0.1", &fakeConn{})
	if within != bannerPenalty {
		t.Errorf("a penalized source's silent connection may wait %v, want %v", within, bannerPenalty)
	}
	for i := 0; i < 100; i++ {
		a.penalize("10.0.0.1", penaltyGrace, "grace-exceeded")
	}
	if d := a.pen["10.0.0.1"].until.Sub(now); d != penaltyMax {
		t.Errorf("penalty %v, want the cap %v", d, penaltyMax)
	}
	now = now.Add(penaltyMax)
	if a.penalizedLocked("10.0.0.1", now) {
		t.Error("the penalty did not expire")
	}
}

// MaxStartups: no drop below start, random early drop between start and
// full at rate + (100-rate)·(n-start)/(full-start) percent, all at full;
// PerSourceMaxStartups.
func TestAdmitStartups(t *testing.T) {
	a := newAdmission(4, &logger{w: io.Discard})
	a.lim.start, a.lim.rate, a.lim.full, a.lim.perSource = 4, 30, 10, 100
	a.rng = rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 10; n++ {
		const trials = 4000
		drops := 0
		for i := 0; i < trials; i++ {
			a.nStartups = n
			if a.startup("10.0.0.1") != "" {
				drops++
			} else {
				a.done("10.0.0.1")
			}
		}
		want := 0.0
		switch {
		case n >= 10:
			want = 1
		case n >= 4:
			want = (30 + 70*float64(n-4)/6) / 100
			want = float64(int(want*100)) / 100 // integer percent, as the server computes it
		}
		if got := float64(drops) / trials; got < want-0.03 || got > want+0.03 {
			t.Errorf("%d handshakes under way: dropped %.3f, want %.2f", n, got, want)
		}
	}
	a.nStartups, a.lim.perSource = 0, 2
	a.startup("10.0.0.1")
	a.startup("10.0.0.1")
	if why := a.startup("10.0.0.1"); !strings.Contains(why, "PerSourceMaxStartups 2") {
		t.Errorf("a third handshake from one source: %q", why)
	}
	if why := a.startup("10.0.0.2"); why != "" {
		t.Errorf("another source: %q", why)
	}
}

// The version line is read with what follows it (replayed to the SSH
// server), the server's is sent once; anything but SSH is refused.
func TestAdmitVersion(t *testing.T) {
	for _, c := range []struct {
		in, err string
	}{
		{"SSH-2.0-OpenSSH_9.2\r\n\x00\x00\x01kexinit", ""},
		{"GET / HTTP/1.1\r\n", "not SSH"},
		{"SSH-2.0-" + strings.Repeat("x", 300), "over 255 bytes"},
	} {
		srv, cli := net.Pipe()
		go func() {
			io.ReadFull(cli, make([]byte, len(serverVersion)+2))
			cli.Write([]byte(c.in))
		}()
		b, err := readVersion(srv, 2*time.Second)
		switch {
		case c.err == "" && (err != nil || string(b) != c.in):
			t.Errorf("%q: %q, %v", c.in, b, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: %v, want %q", c.in, err, c.err)
		}
		srv.Close()
		cli.Close()
	}
	// The SSH server's own version line is swallowed, the rest written.
	var w bytes.Buffer
	ac := &admittedConn{Conn: writerConn{&w}, skip: []byte(serverVersion + "\r\n"), pre: []byte("SSH-2.0-x\r\nrest")}
	ac.Write([]byte(serverVersion + "\r\n"))
	ac.Write([]byte("kexinit"))
	got := make([]byte, 64)
	n, _ := ac.Read(got)
	if w.String() != "kexinit" || string(got[:n]) != "SSH-2.0-x\r\nrest" {
		t.Errorf("written %q, read %q", w.String(), got[:n])
	}
}

type writerConn struct{ w io.Writer }

func (c writerConn) Read([]byte) (int, error)         { return 0, io.EOF }
func (c writerConn) Write(p []byte) (int, error)      { return c.w.Write(p) }
func (c writerConn) Close() error                     { return nil }
func (c writerConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c writerConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c writerConn) SetDeadline(time.Time) error      { return nil }
func (c writerConn) SetReadDeadline(time.Time) error  { return nil }
func (c writerConn) SetWriteDeadline(time.Time) error { return nil }
