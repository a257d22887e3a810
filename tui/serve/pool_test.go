package serve

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"stylegan-tui/latent"
)

// A session rendering non-stop does not starve another: with one worker,
// the other's request waits for at most the render in progress and one
// turn of the spinning session.
func TestPoolFair(t *testing.T) {
	m := loadFixture(t, fixtureTiny)
	p, err := NewPool(m, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	spin, other := p.NewClient(), p.NewClient()
	ctx, stop := context.WithCancel(context.Background())
	var done atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ { // like the explorer's three images
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			st := startState(m)
			for k := int64(i); ctx.Err() == nil; k += 3 {
				st.A = latent.Source{Seed: k}
				if _, _, err := spin.Render(ctx, st, nil); err == nil {
					done.Add(1)
				}
			}
		}(i)
	}
	time.Sleep(200 * time.Millisecond)
	before := done.Load()
	st := startState(m)
	st.B = latent.Source{Seed: 99}
	img, _, err := other.Render(context.Background(), st, nil)
	between := done.Load() - before
	stop()
	wg.Wait()
	if err != nil || img == nil {
		t.Fatalf("render: %v", err)
	}
	t.Logf("the spinning session finished %d renders while the other waited for one", between)
	if between > 2 {
		t.Errorf("the spinning session finished %d renders while the other waited, want <= 2", between)
	}
}

// A request whose context ends before its turn is dropped without being
// rendered; Close fails what still waits.
func TestPoolCancelClose(t *testing.T) {
	m := loadFixture(t, fixtureTiny)
	p, err := NewPool(m, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := p.NewClient()
	// Hold the only generator, as a long render would (a render of the tiny
	// fixture is quicker than any deadline a test could rely on).
	p.mu.Lock()
	g := p.free[0]
	p.free = p.free[:0]
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if _, _, err := c.Render(ctx, startState(m), nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled request: %v", err)
	}
	if n := c.Pending(); n != 0 {
		t.Errorf("%d requests still queued after the cancel", n)
	}
	p.mu.Lock()
	p.free = append(p.free, g)
	p.dispatch()
	p.mu.Unlock()
	errc := make(chan error, 1)
	go func() {
		_, _, err := c.Render(context.Background(), startState(m), nil)
		errc <- err
	}()
	p.Close()
	select {
	case <-errc: // rendered before Close, or failed by it: either way it returns
	case <-time.After(10 * time.Second):
		t.Fatal("a request outlived Close")
	}
	if _, _, err := c.Render(context.Background(), startState(m), nil); !errors.Is(err, errPoolClosed) {
		t.Errorf("after Close: %v", err)
	}
}

// A client's next request goes back to the generator that has its layers:
// a fine-layer edit after the first render is incremental even with
// several generators.
func TestPoolAffinity(t *testing.T) {
	m := loadFixture(t, fixtureTiny)
	p, err := NewPool(m, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	others := p.NewClient()
	c := p.NewClient()
	st := startState(m)
	if _, _, err := c.Render(context.Background(), st, nil); err != nil {
		t.Fatal(err)
	}
	// Another session renders something else meanwhile.
	o := startState(m)
	o.A = latent.Source{Seed: 77}
	if _, _, err := others.Render(context.Background(), o, nil); err != nil {
		t.Fatal(err)
	}
	lo, hi, _ := m.Cfg.GroupSlots("fine")
	_, stats, err := c.Render(context.Background(), st.WithStyles(lo, hi, latent.FromB), nil)
	if err != nil {
		t.Fatal(err)
	}
	if stats.FromLayer == 0 {
		t.Errorf("the fine edit re-rendered from layer 0: not on the session's generator")
	}
}
