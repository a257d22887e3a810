package tui

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"stylegan-tui/latent"
	"stylegan-tui/model"
	"stylegan-tui/render"
)

// The three images on screen.
const (
	imgA = iota // source A alone
	imgB        // source B alone
	imgR        // the result: the mix, truncation, noise or walk
	numImages
)

// previewAfter is how long a render may run before its low-resolution ToRGB
// previews are shown: fast models go straight to the full image.
var previewAfter = 150 * time.Millisecond

// renderFunc renders one state (Options.Render): ctx is cancelled when a
// newer request supersedes it, preview (possibly nil) receives the
// low-resolution ToRGB images on the way.
type renderFunc = func(ctx context.Context, st latent.State, preview func(*image.RGBA)) (*image.RGBA, model.Stats, error)

// generatorRender is the local explorer's renderFunc: g renders alone for
// its one user, who keeps its incremental cache. g.Render cannot be
// stopped, so a superseded request runs to its end (and its result, still
// newer than what is shown, is taken).
func generatorRender(g *model.Generator) renderFunc {
	return func(_ context.Context, st latent.State, preview func(*image.RGBA)) (*image.RGBA, model.Stats, error) {
		return g.Render(st, preview)
	}
}

// renderReq asks for one image of one state.
type renderReq struct {
	which int
	gen   uint64 // generation: larger is newer
	st    latent.State
	at    time.Time // when the state changed (for the frame time)
}

// renderedMsg is a rendered image (or a preview, or an error) of a request.
type renderedMsg struct {
	which   int
	gen     uint64
	st      latent.State // the state rendered
	img     *image.RGBA
	preview bool
	stats   model.Stats
	err     error
	at      time.Time
	// superseded: the renderer gave up on the request because a newer one
	// came (never sent).
	superseded bool
}

// worker renders requests for one image (locally with a Generator of its
// own, so each image keeps its own incremental cache). Only the newest
// pending request is rendered: a request superseded while another renders
// is never started, and the one running is cancelled.
type worker struct {
	render renderFunc
	out    chan<- tea.Msg
	cancel context.CancelFunc // cancels the request running now

	mu      sync.Mutex
	pending *renderReq
	busy    bool
	latest  uint64 // newest generation submitted
}

// submit queues req, replacing any request not yet started. Submissions
// run in tea.Cmd goroutines, so they may arrive out of order: one older than
// the newest seen is dropped.
func (w *worker) submit(req renderReq) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if req.gen < w.latest {
		return
	}
	w.latest = req.gen
	w.pending = &req
	if w.cancel != nil {
		w.cancel()
		w.cancel = nil
	}
	if !w.busy {
		w.busy = true
		go w.loop()
	}
}

func (w *worker) superseded() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pending != nil
}

func (w *worker) loop() {
	for {
		w.mu.Lock()
		req := w.pending
		w.pending = nil
		if req == nil {
			w.busy = false
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		msg := w.run(*req)
		if msg.superseded {
			continue
		}
		w.out <- msg
	}
}

// run renders one request; a panic in the generator becomes an error.
func (w *worker) run(req renderReq) (msg renderedMsg) {
	msg = renderedMsg{which: req.which, gen: req.gen, st: req.st, at: req.at}
	defer func() {
		if r := recover(); r != nil {
			msg.err = fmt.Errorf("render panicked: %v", r)
		}
	}()
	start := time.Now()
	preview := func(img *image.RGBA) {
		if time.Since(start) < previewAfter || w.superseded() {
			return
		}
		select {
		case w.out <- renderedMsg{which: req.which, gen: req.gen, st: req.st, img: img, preview: true, at: req.at}:
		default: // the UI is behind: skip this preview
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.mu.Lock()
	w.cancel = cancel
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.cancel = nil
		w.mu.Unlock()
		cancel()
	}()
	msg.img, msg.stats, msg.err = w.render(ctx, req.st, preview)
	msg.superseded = msg.err != nil && ctx.Err() != nil
	return msg
}

// listen waits for the next message from the workers.
func listen(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg { return <-ch }
}

// submitCmd hands a request to a worker (returns no message: the result
// arrives through listen).
func submitCmd(w *worker, req renderReq) tea.Cmd {
	return func() tea.Msg {
		w.submit(req)
		return nil
	}
}

// Graphics modes.
type gfxMode int

const (
	gfxUnknown gfxMode = iota // waiting for the terminal's answer
	gfxSixel
	gfxHalfBlock
)

func (g gfxMode) String() string {
	switch g {
	case gfxSixel:
		return "sixel"
	case gfxHalfBlock:
		return "half-blocks"
	}
	return "detecting"
}

// encodeReq turns one image into terminal bytes for a box of cells.
type encodeReq struct {
	which    int
	gen      uint64
	preview  bool
	layout   int // layout id the box belongs to
	img      *image.RGBA
	cols     int // box size in cells
	rows     int
	mode     gfxMode
	cellW    int // cell size in pixels (sixel)
	cellH    int
	family   string        // palette family (sixel)
	palImgs  []image.Image // more pictures of the family, for a new palette
	quick    bool          // use the fixed colour cube (no palette to build)
	palettes *render.PaletteCache
	at       time.Time
	slots    chan struct{} // Options.EncodeSlots
}

// encoded is an image as terminal bytes.
type encoded struct {
	cols, rows int    // cells the image takes
	pxW, pxH   int    // pixels drawn (sixel: on screen; half-block: cols x 2·rows)
	sixel      string // the DCS sequence (sixel mode)
	lines      []string
}

type encodedMsg struct {
	quality int
	which   int
	gen     uint64
	preview bool
	layout  int
	enc     encoded
	took    time.Duration
	at      time.Time
}

func encodeCmd(r encodeReq) tea.Cmd {
	return func() tea.Msg {
		if r.slots != nil {
			r.slots <- struct{}{}
			defer func() { <-r.slots }()
		}
		start := time.Now()
		return encodedMsg{which: r.which, gen: r.gen, preview: r.preview, layout: r.layout, quality: r.quality(),
			enc: encodeImage(r), took: time.Since(start), at: r.at}
	}
}

func encodeImage(r encodeReq) encoded {
	b := r.img.Bounds()
	switch r.mode {
	case gfxHalfBlock:
		pw, ph, cols, rows := render.Fit(b.Dx(), b.Dy(), r.cols, r.rows, 1, 2)
		if ph%2 == 1 && pw == ph && pw > 1 {
			// A square image needs an even height to stay square in
			// half-block cells (two pixels per cell).
			pw, ph, cols, rows = pw-1, ph-1, cols-1, ph/2
		}
		return encoded{cols: cols, rows: rows, pxW: pw, pxH: ph, lines: render.HalfBlock(r.img, cols, rows)}
	case gfxSixel:
		pw, ph, cols, rows := render.Fit(b.Dx(), b.Dy(), r.cols, r.rows, r.cellW, r.cellH)
		if pw <= 0 {
			return encoded{}
		}
		small := render.Resize(r.img, pw, ph)
		var pal *render.Palette
		if r.preview || r.quick {
			// A preview is upscaled from a few pixels and shown for a moment:
			// a fixed colour cube (its lookup table is built once), never the
			// family's palette.
			pal = previewPalette()
		} else {
			// From the scaled picture: scaling blends colours, which the
			// palette should hold too (about 1.5 dB better than the raw
			// picture's; the median cut is not the costly part).
			src := image.Image(small)
			// The result weighs as much as both sources together.
			imgs := []image.Image{src}
			if len(r.palImgs) > 0 {
				imgs = append([]image.Image{src, src}, r.palImgs...)
			}
			pal = r.palettes.Get(r.family, 256, imgs...)
		}
		s := render.AppendSixel(make([]byte, 0, pw*ph/2+1024), pal.Dither(small))
		return encoded{cols: cols, rows: rows, pxW: pw, pxH: ph, sixel: string(s)}
	}
	return encoded{}
}

// previewPalette is a 6x6x6 colour cube plus a grey ramp.
var previewPalette = sync.OnceValue(func() *render.Palette {
	var c color.Palette
	for r := 0; r < 6; r++ {
		for g := 0; g < 6; g++ {
			for b := 0; b < 6; b++ {
				c = append(c, color.RGBA{uint8(r * 51), uint8(g * 51), uint8(b * 51), 255})
			}
		}
	}
	for i := 1; i <= 24; i++ {
		v := uint8(i * 255 / 25)
		c = append(c, color.RGBA{v, v, v, 255})
	}
	return render.PaletteOf(c)
})
