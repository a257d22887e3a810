package serve

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"stylegan-tui/checkpoints"
	"stylegan-tui/latent"
)

// goClient is an in-process SSH client session with a pty (80x24).
type goClient struct {
	conn *gossh.Client
	sess *gossh.Session
	in   io.WriteCloser
	out  *tape
}

func dialGo(t testing.TB, addr string, signer gossh.Signer, read bool) (*goClient, error) {
	cfg := &gossh.ClientConfig{User: "student", HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second}
	if signer != nil {
		cfg.Auth = []gossh.AuthMethod{gossh.PublicKeys(signer)}
	}
	conn, err := gossh.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	sess, err := conn.NewSession()
	if err != nil {
		conn.Close()
		return nil, err
	}
	c := &goClient{conn: conn, sess: sess, out: &tape{}}
	if err := sess.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{}); err != nil {
		conn.Close()
		return nil, err
	}
	if c.in, err = sess.StdinPipe(); err != nil {
		conn.Close()
		return nil, err
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		conn.Close()
		return nil, err
	}
	if err := sess.Shell(); err != nil {
		conn.Close()
		return nil, err
	}
	if read {
		go c.out.readFrom(stdout)
	}
	return c, nil
}

func (c *goClient) send(s string) error {
	_, err := io.WriteString(c.in, s)
	return err
}

func (c *goClient) close() { c.conn.Close() }

// settle waits for the goroutine count to come back to base (+slack).
func settle(base, slack int, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		n := runtime.NumGoroutine()
		if n <= base+slack || time.Now().After(deadline) {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// 20 concurrent sessions each send 50 state changes (] : next seed of A,
// as fast as a held key); every session gets the picture of its final state,
// and after they close the goroutines and heap are back near the baseline.
// Reports p50/p95 of the time from the last key to the final frame.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	const sessions, changes = 20, 50
	dir := t.TempDir()
	signer, _, line := clientKey(t, dir, "id")
	ak := dir + "/authorized_keys"
	if err := writeFile(ak, line); err != nil {
		t.Fatal(err)
	}
	// The embedded default model once it exists, else the tiny fixture;
	// STYLEGAN_LOAD_CHECKPOINT=FILE measures another.
	m, err := checkpoints.Default()
	which := "the default model"
	if f := os.Getenv("STYLEGAN_LOAD_CHECKPOINT"); f != "" {
		if m, err = checkpoints.Load(f); err != nil {
			t.Fatal(err)
		}
		which = f
	} else if err != nil {
		m, which = loadFixture(t, fixtureTiny), "fixture "+fixtureTiny+" (no default model embedded yet)"
	}
	// Sixel forced: under this load a DA1 reply can miss the explorer's 1.5 s
	// detection window (TestOpenSSH covers detection).
	srv, addr := testServer(t, Config{Models: []NamedModel{{"m", m}}, AuthorizedKeys: ak, NoSave: true, MaxSessions: sessions, Workers: 2, Graphics: "sixel"})
	refs := newRefs(m)
	final := startState(m)
	final.A = latent.Source{Seed: changes}
	refs.at(t, final, 1, 1) // render the reference before timing

	// Warm up once (graphs built, pools started), then take the baseline.
	// Two sessions at once, so both generators have built their graphs
	// and caches (the heap baseline includes them).
	var warm []*goClient
	for i := 0; i < 2; i++ {
		w, err := dialGo(t, addr, signer, true)
		if err != nil {
			t.Fatal(err)
		}
		warm = append(warm, w)
	}
	for _, w := range warm {
		waitFor(t, w.out, "warm-up", 20*time.Second, hasDA1Query)
		w.send(sixelReplies)
	}
	for _, w := range warm {
		waitFor(t, w.out, "warm-up image", 30*time.Second, func(b []byte) bool { return hasSixel(b, 0) })
		w.send("q")
		waitFor(t, w.out, "warm-up end", 10*time.Second, func([]byte) bool { return w.out.closed() })
		w.close()
	}
	for srv.Sessions() > 0 {
		time.Sleep(10 * time.Millisecond)
	}
	baseG := settle(0, 0, 300*time.Millisecond)
	baseH := heap()

	lat := make([]time.Duration, sessions)
	errs := make([]error, sessions)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < sessions; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			lat[i], errs[i] = loadSession(t, addr, signer, refs, final, changes)
		}(i)
		time.Sleep(20 * time.Millisecond) // a class connecting, not one packet
	}
	wg.Wait()
	total := time.Since(t0)
	for i, err := range errs {
		if err != nil {
			t.Errorf("session %d: %v", i, err)
		}
	}
	if t.Failed() {
		return
	}
	sorted := append([]time.Duration(nil), lat...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	p := func(q float64) time.Duration { return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))] }
	t.Logf("%d sessions x %d state changes on %s (%s %dpx, 2 render workers, %d CPUs shared with other jobs): last key -> final frame p50 %v, p95 %v, max %v; all done in %v",
		sessions, changes, which, m.Cfg.Name, m.Cfg.Resolution(), runtime.NumCPU(), p(0.5).Round(time.Millisecond), p(0.95).Round(time.Millisecond), sorted[len(sorted)-1].Round(time.Millisecond), total.Round(time.Millisecond))

	deadline := time.Now().Add(10 * time.Second)
	for srv.Sessions() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := srv.Sessions(); n != 0 {
		t.Fatalf("%d sessions still open", n)
	}
	g := settle(baseG, 3, 10*time.Second)
	h := heap()
	t.Logf("goroutines %d -> %d; heap %.1f MB -> %.1f MB", baseG, g, float64(baseH)/1e6, float64(h)/1e6)
	if g > baseG+3 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d after, %d before\n%s", g, baseG, buf[:runtime.Stack(buf, true)])
	}
	if h > baseH+16<<20 {
		t.Errorf("heap: %.1f MB after, %.1f MB before", float64(h)/1e6, float64(baseH)/1e6)
	}
}

// loadSession runs one session of the load test and returns the time from
// its last key to the arrival of its final frame.
func loadSession(t *testing.T, addr string, signer gossh.Signer, refs *refCache, final latent.State, changes int) (time.Duration, error) {
	c, err := dialGo(t, addr, signer, true)
	if err != nil {
		return 0, err
	}
	defer c.close()
	if err := waitUntil(c.out, 30*time.Second, hasDA1Query); err != nil {
		return 0, fmt.Errorf("DA1 query: %w", err)
	}
	c.send(sixelReplies)
	if err := waitUntil(c.out, 60*time.Second, func(b []byte) bool { return hasSixel(b, 0) }); err != nil {
		return 0, fmt.Errorf("first image: %w", err)
	}
	var last time.Time
	var from int
	for k := 0; k < changes; k++ {
		if k == changes-1 {
			from = c.out.len()
			last = time.Now()
		}
		if err := c.send("]"); err != nil {
			return 0, err
		}
		time.Sleep(time.Duration(5+rand.IntN(10)) * time.Millisecond)
	}
	mt := &matcher{refs: refs, st: final, next: from, min: recognised}
	err = waitUntil(c.out, 120*time.Second, func(b []byte) bool { return mt.check(t, b) })
	if err != nil {
		return 0, fmt.Errorf("final frame (A seed %d): %w", final.A.Seed, err)
	}
	got := c.out.arrival(mt.best.end - 1).Sub(last)
	c.send("q")
	waitUntil(c.out, 10*time.Second, func([]byte) bool { return c.out.closed() })
	return got, nil
}

func waitUntil(tp *tape, timeout time.Duration, cond func(b []byte) bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if cond(tp.bytes()) {
			return nil
		}
		if time.Now().After(deadline) {
			b := tp.bytes()
			return fmt.Errorf("timed out after %v (%d bytes, last %q)", timeout, len(b), tail(b, 120))
		}
		time.Sleep(25 * time.Millisecond)
	}
}
