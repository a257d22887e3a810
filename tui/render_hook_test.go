package tui

import (
	"context"
	"image"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"stylegan-tui/latent"
	"stylegan-tui/model"
)

// With Options.Render the worker renders through it; a newer submission
// cancels the request in flight, whose result is dropped silently.
func TestWorkerRenderHook(t *testing.T) {
	started := make(chan latent.State, 4)
	var calls atomic.Int32
	fn := func(ctx context.Context, st latent.State, preview func(*image.RGBA)) (*image.RGBA, model.Stats, error) {
		calls.Add(1)
		started <- st
		if st.A.Seed == 1 {
			<-ctx.Done() // the first request waits until it is superseded
			return nil, model.Stats{}, ctx.Err()
		}
		return image.NewRGBA(image.Rect(0, 0, 4, 4)), model.Stats{FromLayer: 7}, nil
	}
	ch := make(chan tea.Msg, 32)
	w := &worker{render: fn, out: ch}
	st := latent.New(4, 4, 0.7, 8)
	st.A.Seed = 1
	w.submit(renderReq{which: imgR, gen: 1, st: st})
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker did not start the first render")
	}
	st2 := st.Clone()
	st2.A.Seed = 2
	w.submit(renderReq{which: imgR, gen: 2, st: st2})
	select {
	case msg := <-ch:
		r := msg.(renderedMsg)
		if r.err != nil || r.gen != 2 || r.stats.FromLayer != 7 || r.st.A.Seed != 2 {
			t.Fatalf("got gen %d err %v stats %+v, want generation 2's image", r.gen, r.err, r.stats)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no image")
	}
	select {
	case msg := <-ch:
		t.Fatalf("unexpected message %+v", msg)
	case <-time.After(50 * time.Millisecond):
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d renders, want 2", n)
	}
}

// With Options.Render every image renders through it; NoSave refuses the
// save key.
func TestOptionsRenderNoSave(t *testing.T) {
	hook := func(context.Context, latent.State, func(*image.RGBA)) (*image.RGBA, model.Stats, error) {
		return image.NewRGBA(image.Rect(0, 0, 8, 8)), model.Stats{}, nil
	}
	m, err := New(Options{Model: loadFixture(t, fixtureNV256), Graphics: "halfblock", Render: hook, NoSave: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range m.workers {
		if reflect.ValueOf(w.render).Pointer() != reflect.ValueOf(hook).Pointer() {
			t.Fatal("a worker renders apart from the hook")
		}
	}
	m.pipe.imgs[imgR].raw, m.pipe.imgs[imgR].rendered = image.NewRGBA(image.Rect(0, 0, 8, 8)), true
	if cmd := m.save(); cmd != nil || m.info != "save: disabled here" {
		t.Fatalf("save with NoSave: info %q", m.info)
	}
}
