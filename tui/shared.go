package tui

import (
	"image"
	"sync"
	"sync/atomic"

	tea "github.com/charmbracelet/bubbletea"

	"stylegan-tui/render"
)

// Encodes shares image encodings among explorers that show the same
// pictures (a class following its teacher, whose renders come from one
// cache and so are the same *image.RGBA): each picture is scaled, dithered
// and encoded once per box, cell size and graphics mode, by whichever
// explorer asks first, with one set of palettes. Previews are not shared
// (each explorer's are its own images).
type Encodes struct {
	palettes *render.PaletteCache

	mu    sync.Mutex
	m     map[encKey]*encEntry
	order []encKey // oldest first
	n     atomic.Int64
}

// encodesKept is how many encodings an Encodes keeps (a few pictures in a
// few sizes; a 64 px model's are some tens of KB each).
const encodesKept = 128

// encKey is everything an encoding depends on: the picture (kept alive by
// the entry, so its address is not reused while the key exists), the box,
// the cell size, the mode and the palette asked for.
type encKey struct {
	img          *image.RGBA
	mode         gfxMode
	cols, rows   int
	cellW, cellH int
	family       string
	quick, pair  bool
}

type encEntry struct {
	done chan struct{}
	msg  encodedMsg
}

// NewEncodes makes an empty Encodes.
func NewEncodes() *Encodes {
	return &Encodes{palettes: render.NewPaletteCache(64), m: map[encKey]*encEntry{}}
}

// Count is how many encodings were made (not taken from the cache).
func (e *Encodes) Count() int64 { return e.n.Load() }

// encodeCmd encodes r, through Options.Encodes when the explorer shares them.
func (m *Model) encodeCmd(r encodeReq) tea.Cmd {
	e := m.opts.Encodes
	if e == nil || r.preview {
		return encodeCmd(r)
	}
	return func() tea.Msg { return e.encode(r) }
}

// encode returns r's encoding, made once for every explorer asking.
func (e *Encodes) encode(r encodeReq) encodedMsg {
	k := encKey{img: r.img, mode: r.mode, cols: r.cols, rows: r.rows, cellW: r.cellW, cellH: r.cellH,
		family: r.family, quick: r.quick, pair: r.palImgs != nil}
	if r.mode != gfxSixel {
		k.cellW, k.cellH, k.family, k.quick, k.pair = 0, 0, "", false, false
	}
	e.mu.Lock()
	ent, ok := e.m[k]
	if !ok {
		ent = &encEntry{done: make(chan struct{})}
		e.m[k] = ent
		e.order = append(e.order, k)
		e.evict()
	}
	e.mu.Unlock()
	if !ok {
		e.n.Add(1)
		ent.msg = encodeCmd(r)().(encodedMsg)
		close(ent.done)
		return ent.msg
	}
	<-ent.done
	msg := ent.msg
	msg.which, msg.gen, msg.preview, msg.layout, msg.at, msg.took = r.which, r.gen, r.preview, r.layout, r.at, 0
	return msg
}

// evict drops the oldest finished encodings beyond encodesKept. e.mu is held.
func (e *Encodes) evict() {
	for len(e.order) > encodesKept {
		k := e.order[0]
		select {
		case <-e.m[k].done:
		default:
			return // still being made: kept until a later call
		}
		delete(e.m, k)
		e.order = e.order[1:]
	}
}
