package serve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"stylegan-tui/checkpoints"
	"stylegan-tui/internal/termimage"
	"stylegan-tui/internal/testfix"
	"stylegan-tui/latent"
	"stylegan-tui/render"
)

// Tiny fixture models (the CPU is shared): a 128 px rosinality model with
// random weights, in the repository's fixtures.
const fixtureTiny = "rosinality/tiny_s5.safetensors"

var (
	fixtureMu    sync.Mutex
	fixtureCache = map[string]*checkpoints.Checkpoint{}
)

// loadFixture loads fixture path (relative to the repository's fixtures)
// once per test binary.
func loadFixture(t testing.TB, path string) *checkpoints.Checkpoint {
	t.Helper()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if m, ok := fixtureCache[path]; ok {
		return m
	}
	m, err := checkpoints.Load(testfix.Path(t, path))
	if err != nil {
		t.Fatalf("fixture %s: %v", path, err)
	}
	fixtureCache[path] = m
	return m
}

// clientKey makes an ed25519 client key, written as an OpenSSH private key
// file (0600) in dir; line is its authorized_keys line.
func clientKey(t testing.TB, dir, name string) (signer gossh.Signer, path string, line []byte) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := gossh.MarshalPrivateKey(priv, name)
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(blk), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err = gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer, path, gossh.MarshalAuthorizedKey(signer.PublicKey())
}

// testServer starts a server on a loopback port; it is shut down at the end
// of the test.
func testServer(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	if cfg.Models == nil {
		cfg.Models = []NamedModel{{Name: "tiny", Model: loadFixture(t, fixtureTiny)}}
	}
	if cfg.StateDir == "" {
		cfg.StateDir = t.TempDir()
	}
	if cfg.OutDir == "" && !cfg.NoSave {
		cfg.OutDir = t.TempDir()
	}
	if testing.Verbose() && cfg.Log == nil {
		cfg.Log = testLog{t}
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx, "test over"); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("Serve did not return after Shutdown")
		}
	})
	return s, addr.String()
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Logf("server: %s", bytes.TrimSpace(p))
	return len(p), nil
}

// tape records a client's stream with the time each chunk arrived.
type tape struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	chunks []chunk
	eof    bool
	err    error
}

type chunk struct {
	at  time.Time
	end int
}

func (tp *tape) readFrom(r io.Reader) {
	b := make([]byte, 64<<10)
	for {
		n, err := r.Read(b)
		tp.mu.Lock()
		if n > 0 {
			tp.buf.Write(b[:n])
			tp.chunks = append(tp.chunks, chunk{time.Now(), tp.buf.Len()})
		}
		if err != nil {
			tp.eof, tp.err = true, err
			tp.mu.Unlock()
			return
		}
		tp.mu.Unlock()
	}
}

// bytes is the stream so far (not a copy: a bytes.Buffer only appends, so
// the bytes up to its length now never change).
func (tp *tape) bytes() []byte {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.buf.Bytes()
}

func (tp *tape) len() int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.buf.Len()
}

func (tp *tape) closed() bool {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.eof
}

// arrival is when the byte at offset off arrived.
func (tp *tape) arrival(off int) time.Time {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	for _, c := range tp.chunks {
		if c.end > off {
			return c.at
		}
	}
	return time.Time{}
}

// waitFor polls until cond holds for the stream.
func waitFor(t *testing.T, tp *tape, what string, timeout time.Duration, cond func(b []byte) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond(tp.bytes()) {
			return
		}
		if time.Now().After(deadline) {
			b := tp.bytes()
			t.Fatalf("timed out waiting for %s; %d bytes, last: %q", what, len(b), tail(b, 300))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// sixelAt is one sixel image in a stream.
type sixelAt struct {
	start, end int
	img        image.Image
}

// sixels decodes the complete sixel images in b from offset from on.
func sixels(b []byte, from int) []sixelAt {
	var out []sixelAt
	for off := from; ; {
		i := bytes.Index(b[off:], []byte("\x1bP"))
		if i < 0 {
			return out
		}
		s := off + i
		j := bytes.Index(b[s:], []byte("\x1b\\"))
		if j < 0 {
			return out
		}
		e := s + j + 2
		if img, err := termimage.DecodeSixel(b[s:e]); err == nil {
			out = append(out, sixelAt{s, e, img})
		}
		off = e
	}
}

// refCache renders reference images of states (a fresh generator).
type refCache struct {
	mu   sync.Mutex
	m    *checkpoints.Checkpoint
	full map[string]*image.RGBA
}

func newRefs(m *checkpoints.Checkpoint) *refCache {
	return &refCache{m: m, full: map[string]*image.RGBA{}}
}

// at is the generator's picture of st scaled to w x h as the explorer does.
func (r *refCache) at(t testing.TB, st latent.State, w, h int) *image.RGBA {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := st.Encode()
	img, ok := r.full[k]
	if !ok {
		g, err := r.m.Generator()
		if err != nil {
			t.Fatal(err)
		}
		img, _, err = g.Render(st, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.full[k] = img
	}
	return render.Resize(img, w, h)
}

// match finds the sixel (from offset from on) that best matches st.
func (r *refCache) match(t testing.TB, b []byte, from int, st latent.State) (best sixelAt, db float64) {
	for _, s := range sixels(b, from) {
		bb := s.img.Bounds()
		if p := psnr(s.img, r.at(t, st, bb.Dx(), bb.Dy())); p > db {
			best, db = s, p
		}
	}
	return best, db
}

func psnr(a, b image.Image) float64 {
	ra, rb := render.Resize(a, a.Bounds().Dx(), a.Bounds().Dy()), render.Resize(b, b.Bounds().Dx(), b.Bounds().Dy())
	if ra.Rect.Size() != rb.Rect.Size() || len(ra.Pix) == 0 {
		return 0
	}
	var se float64
	n := 0
	for i := 0; i < len(ra.Pix); i += 4 {
		for c := 0; c < 3; c++ {
			d := float64(ra.Pix[i+c]) - float64(rb.Pix[i+c])
			se += d * d
			n++
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(se/float64(n)))
}

// The terminal's answers to the explorer's start-up queries: 10x20 cells and
// DA1 with 4 (sixel).
const sixelReplies = "\x1b[6;20;10t\x1b[?62;4;22c"

// hasDA1Query: the explorer asked the terminal what it can do.
func hasDA1Query(b []byte) bool { return bytes.Contains(b, []byte("\x1b[c")) }

// startState is the explorer's first state for a model.
func startState(m *checkpoints.Checkpoint) latent.State {
	c := m.Cfg
	return latent.New(c.NumStyles(), c.NumNoise(), c.TruncPsi, c.TruncCutoff)
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }

// matcher decodes each sixel of a stream once, looking for a state's image.
type matcher struct {
	refs *refCache
	st   latent.State
	next int
	min  float64 // PSNR that counts as a match (0 = 28 dB)
	best sixelAt
	db   float64
}

// Tests of responsiveness (load, faults) only need to recognise a state's
// picture: pictures of different seeds are ~10-15 dB apart, and the
// explorer may first show a quick colour-cube encoding (~25 dB) before the
// palette one (~31 dB).
const recognised = 24

// check decodes the sixels completed since the last call; true when one
// matches (PSNR >= min).
func (m *matcher) check(t testing.TB, b []byte) bool {
	for _, s := range sixels(b, m.next) {
		m.next = s.end
		bb := s.img.Bounds()
		if p := psnr(s.img, m.refs.at(t, m.st, bb.Dx(), bb.Dy())); p > m.db {
			m.best, m.db = s, p
		}
	}
	if m.min == 0 {
		return m.db >= 28
	}
	return m.db >= m.min
}

// hasSixel: a complete sixel image from offset from on.
func hasSixel(b []byte, from int) bool {
	i := bytes.Index(b[from:], []byte("\x1bP"))
	return i >= 0 && bytes.Contains(b[from+i:], []byte("\x1b\\"))
}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
