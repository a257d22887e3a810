package tui

import (
	"image"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"stylegan-tui/latent"
)

func collect(t *testing.T, ch chan tea.Msg, gen uint64) []renderedMsg {
	t.Helper()
	var got []renderedMsg
	for {
		select {
		case msg := <-ch:
			r := msg.(renderedMsg)
			if r.err != nil {
				t.Fatal(r.err)
			}
			got = append(got, r)
			if !r.preview && r.gen == gen {
				return got
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("no final image of generation %d", gen)
		}
	}
}

// A slow render sends low-resolution previews first, then the image.
func TestWorkerPreviews(t *testing.T) {
	old := previewAfter
	previewAfter = 0
	defer func() { previewAfter = old }()
	g, err := loadFixture(t, fixtureNV256).Generator()
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan tea.Msg, 32)
	w := &worker{render: generatorRender(g), out: ch}
	w.submit(renderReq{which: imgR, gen: 1, st: g.NewState()})
	got := collect(t, ch, 1)
	if len(got) < 2 {
		t.Fatalf("%d messages, want previews before the image", len(got))
	}
	last := 0
	for _, m := range got[:len(got)-1] {
		if !m.preview || m.img.Bounds().Dx() <= last || m.img.Bounds().Dx() >= 256 {
			t.Fatalf("preview %v of size %d after %d", m.preview, m.img.Bounds().Dx(), last)
		}
		last = m.img.Bounds().Dx()
	}
	if got[len(got)-1].img.Bounds().Dx() != 256 {
		t.Fatal("the final image is not full size")
	}
}

// Requests that arrive while one renders supersede each other: only the
// newest is rendered next, and results come in generation order.
func TestWorkerSupersedes(t *testing.T) {
	g, err := loadFixture(t, fixtureNV256).Generator()
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan tea.Msg, 32)
	w := &worker{render: generatorRender(g), out: ch}
	st := g.NewState()
	for gen := uint64(1); gen <= 5; gen++ {
		s := st.Clone()
		s.A = latent.Source{Seed: int64(gen)}
		w.submit(renderReq{which: imgR, gen: gen, st: s})
	}
	got := collect(t, ch, 5)
	var gens []uint64
	for _, m := range got {
		if !m.preview {
			gens = append(gens, m.gen)
		}
	}
	if len(gens) > 2 || gens[len(gens)-1] != 5 {
		t.Fatalf("rendered generations %v, want at most the first and the newest (5)", gens)
	}
}

// Submissions run in command goroutines and may arrive out of order: an
// older one never replaces a newer one.
func TestWorkerDropsOlderSubmissions(t *testing.T) {
	g, err := loadFixture(t, fixtureNV32).Generator()
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan tea.Msg, 32)
	w := &worker{render: generatorRender(g), out: ch}
	st := g.NewState()
	w.mu.Lock() // hold the worker so both land in pending
	w.busy = true
	w.mu.Unlock()
	w.submit(renderReq{which: imgR, gen: 7, st: st})
	w.submit(renderReq{which: imgR, gen: 6, st: st})
	if w.pending.gen != 7 {
		t.Fatalf("pending generation %d, want 7", w.pending.gen)
	}
	w.mu.Lock()
	w.busy = false
	w.mu.Unlock()
	w.submit(renderReq{which: imgR, gen: 8, st: st})
	if got := collect(t, ch, 8); got[len(got)-1].gen != 8 {
		t.Fatal("newest not rendered")
	}
}

// TestEncodeSlots: an encoding waits for a free slot of Options.EncodeSlots
// and gives it back when done.
func TestEncodeSlots(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	slots := make(chan struct{}, 1)
	slots <- struct{}{} // another session's encoding holds the only slot
	done := make(chan tea.Msg, 1)
	cmd := encodeCmd(encodeReq{img: img, cols: 8, rows: 4, mode: gfxHalfBlock, slots: slots})
	go func() { done <- cmd() }()
	select {
	case <-done:
		t.Fatal("the encoding ran without a free slot")
	case <-time.After(100 * time.Millisecond):
	}
	<-slots
	select {
	case msg := <-done:
		if e := msg.(encodedMsg).enc; len(e.lines) == 0 {
			t.Errorf("encoded %+v, want half-block lines", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the encoding did not run once the slot was free")
	}
	if len(slots) != 0 {
		t.Errorf("%d slots held after the encoding, want 0", len(slots))
	}
}
