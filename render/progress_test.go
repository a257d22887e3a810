package render

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable time source for Progress.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestProgress(tty bool, total int) (*Progress, *bytes.Buffer, *fakeClock) {
	var buf bytes.Buffer
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	p := NewProgress(&buf, "gif", total)
	p.now, p.start, p.tty = clk.now, clk.now(), tty
	return p, &buf, clk
}

func TestProgressPlain(t *testing.T) {
	p, buf, clk := newTestProgress(false, 60)
	for i := 0; i < 60; i++ {
		clk.advance(50 * time.Millisecond)
		p.Add(1)
	}
	p.Done()
	p.Done()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 10 {
		t.Fatalf("%d lines, want one per tenth:\n%s", len(lines), buf)
	}
	if strings.ContainsAny(buf.String(), "\r\x1b") {
		t.Error("plain output holds carriage returns or escapes")
	}
	if want := "gif  30/60   50%  20.0/s  ETA 1.5s"; lines[4] != want {
		t.Errorf("line 5 = %q, want %q", lines[4], want)
	}
	if want := "gif  60/60  100%  20.0/s  in 3.0s"; lines[9] != want {
		t.Errorf("last line = %q, want %q", lines[9], want)
	}
}

func TestProgressTerminal(t *testing.T) {
	p, buf, clk := newTestProgress(true, 100)
	p.Add(1) // first update draws
	for i := 0; i < 20; i++ {
		clk.advance(10 * time.Millisecond) // 200 ms of updates at 100 Hz
		p.Add(1)
	}
	p.Done()
	draws := strings.Count(buf.String(), "\r")
	if draws != 4 { // at 0, 100 and 200 ms, and Done
		t.Errorf("%d redraws, want 4 (throttled to 10 Hz, plus Done):\n%q", draws, buf)
	}
	if !strings.HasSuffix(buf.String(), "\n") || strings.Count(buf.String(), "\n") != 1 {
		t.Error("terminal output must end with exactly one newline, from Done")
	}
	last := buf.String()[strings.LastIndex(buf.String(), "\r"):]
	if want := "\rgif  [####................]  21/100   21%  105/s  ETA 0.8s\x1b[K\n"; last != want {
		t.Errorf("final draw %q, want %q", last, want)
	}
}

func TestProgressUnknownTotalAndNil(t *testing.T) {
	p, buf, clk := newTestProgress(false, 0)
	clk.advance(2 * time.Second)
	p.Set(2500)
	p.Done()
	if got := buf.String(); got != "gif  2500  1250/s\n" {
		t.Errorf("output %q", got)
	}
	var np *Progress
	np.Add(1)
	np.Set(3)
	np.Done()
	if np.Rate() != 0 {
		t.Error("nil progress has a rate")
	}
	// Concurrent adds (the GIF workers) are counted exactly.
	p, _, _ = newTestProgress(false, 1000)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 250 {
				p.Add(1)
			}
		}()
	}
	wg.Wait()
	if p.current != 1000 {
		t.Errorf("counted %d, want 1000", p.current)
	}
}
