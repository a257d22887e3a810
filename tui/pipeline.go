package tui

import (
	"fmt"
	"image"
	"strconv"
	"strings"
	"time"

	"stylegan-tui/latent"
	"stylegan-tui/render"
)

// pipeline is the explorer's image pipeline: for each image on screen, a
// render request, the raw image that answers it (previews first, then the
// final image) and that image's encoding for the terminal. Every request is
// stamped with a generation number, and each stage drops a result older
// than what it holds, so a late result of a superseded request never
// replaces a newer picture. It does no I/O: the Model sends the requests
// and encodings it asks for, and hands it what comes back.
type pipeline struct {
	gen    uint64 // generation of the newest request
	imgs   [numImages]imageSlot
	status renderStatus

	palettes *render.PaletteCache // the sixel palettes, by family
	palKnown map[string]bool      // palette families asked for
}

// imageSlot is what is known of one image: the newest request, the newest
// raw image and the newest encoding shown.
type imageSlot struct {
	// The request.
	want   uint64       // generation of the newest request submitted
	done   uint64       // generation of the newest final image shown (or failed)
	asked  latent.State // the state of that request
	hasAsk bool

	// The raw image.
	raw      *image.RGBA
	rawKey   stamp
	st       latent.State // the state it shows
	at       time.Time    // when that state was asked for
	rendered bool         // a final image has arrived
	err      error

	// Its encoding.
	enc     encoded
	encKey  stamp
	encLay  int // the layout it was encoded for
	hasEnc  bool
	encQual int // qualQuick, qualOwn or qualPair
}

// renderStatus is the status line's timing of the result.
type renderStatus struct {
	render    time.Duration
	fromLayer int
	frame     time.Duration
}

// stamp orders the results for one image: 2·gen, plus one for the final
// image, so that a generation's previews come before its final image and
// both before anything of the next generation.
type stamp uint64

func stampOf(gen uint64, final bool) stamp {
	if final {
		return stamp(2*gen + 1)
	}
	return stamp(2 * gen)
}

func (k stamp) gen() uint64 { return uint64(k) / 2 }
func (k stamp) final() bool { return k%2 == 1 }

// Encoding quality, for the same image: a later, better one replaces it.
const (
	qualQuick = iota + 1 // the fixed colour cube: the family's palette is not built yet
	qualOwn              // the family's palette
	qualPair             // the result with its A/B pair's palette
)

// quality is the quality of r's encoding.
func (r encodeReq) quality() int {
	switch {
	case r.quick:
		return qualQuick
	case r.palImgs != nil:
		return qualPair
	}
	return qualOwn
}

// encodeTarget is what an encoding is made for: the layout's boxes, the
// graphics mode and the cell size.
type encodeTarget struct {
	layout       int // layout id
	boxes        [numImages]box
	mode         gfxMode
	cellW, cellH int
	slots        chan struct{} // Options.EncodeSlots
}

func newPipeline() pipeline {
	return pipeline{palettes: render.NewPaletteCache(32), palKnown: map[string]bool{}}
}

// next starts a new generation: requests made from now on supersede all
// earlier ones.
func (p *pipeline) next() { p.gen++ }

// request asks for image which of st in the current generation, at the
// time the state changed (for the frame time). ok is false when st is what
// was asked for last: its image is shown or on its way.
func (p *pipeline) request(which int, st latent.State, at time.Time) (req renderReq, ok bool) {
	s := &p.imgs[which]
	if s.hasAsk && s.asked.Equal(st) {
		return renderReq{}, false
	}
	s.asked, s.hasAsk = st.Clone(), true
	s.want = p.gen
	return renderReq{which: which, gen: p.gen, st: st.Clone(), at: at}, true
}

// busy reports whether an image is still being rendered or encoded.
func (p *pipeline) busy() bool {
	for i := range p.imgs {
		if p.imgs[i].done < p.imgs[i].want {
			return true
		}
	}
	return false
}

// takeRaw takes a render result: an image, a preview or an error. It
// reports false, dropping it, when it is not newer than the image held.
// An error ends its generation (nothing more of it is waited for) and
// keeps the image held.
func (p *pipeline) takeRaw(msg renderedMsg) bool {
	s := &p.imgs[msg.which]
	k := stampOf(msg.gen, !msg.preview)
	if k <= s.rawKey && s.raw != nil {
		return false
	}
	if msg.err != nil {
		s.done = max(s.done, msg.gen)
		s.err = msg.err
		return true
	}
	s.err = nil
	s.raw, s.rawKey, s.at, s.st = msg.img, k, msg.at, msg.st
	if !msg.preview {
		s.rendered = true
		if msg.which == imgR {
			p.status.render, p.status.fromLayer = msg.stats.Duration, msg.stats.FromLayer
		}
	}
	return true
}

// encodes are the encodings to make of image which's raw image for t:
// none while there is no image or nowhere to show it.
//
// In sixel mode, a final image of a family whose palette was never asked
// for is encoded twice at once: with the fixed colour cube (shown in a few
// ms) and with the family's own palette (building it costs some tens of
// ms), which replaces the first when ready.
func (p *pipeline) encodes(which int, t encodeTarget) []encodeReq {
	req, ok := p.encodeReq(which, t)
	if !ok {
		return nil
	}
	if t.mode != gfxSixel || req.preview || p.palKnown[req.family] {
		return []encodeReq{req}
	}
	p.palKnown[req.family] = true
	quick := req
	quick.quick = true
	return []encodeReq{quick, req}
}

// encodeReq describes the encoding of image which for t.
func (p *pipeline) encodeReq(which int, t encodeTarget) (encodeReq, bool) {
	s := &p.imgs[which]
	b := t.boxes[which]
	if s.raw == nil || t.mode == gfxUnknown || b.cols <= 0 || b.rows <= 0 {
		return encodeReq{}, false
	}
	req := encodeReq{which: which, gen: s.rawKey.gen(), preview: !s.rawKey.final(), layout: t.layout,
		img: s.raw, cols: b.cols, rows: b.rows, mode: t.mode, cellW: t.cellW, cellH: t.cellH,
		palettes: p.palettes, at: s.at, slots: t.slots}
	withAB := false
	if which == imgR {
		a, b := &p.imgs[imgA], &p.imgs[imgB]
		if a.rendered && b.rendered && a.st.A.Equal(s.st.A) && b.st.B.Equal(s.st.B) {
			withAB = true
			req.palImgs = []image.Image{a.raw, b.raw}
		}
	}
	req.family = family(which, s.st, withAB)
	return req, true
}

// takeEncoded takes an encoding made for layout (the layout on screen now).
// It reports false, dropping it, when it was made for another layout or is
// older than the encoding shown; the image shown encoded again with a
// better palette (quality) is taken.
func (p *pipeline) takeEncoded(msg encodedMsg, layout int) bool {
	s := &p.imgs[msg.which]
	k := stampOf(msg.gen, !msg.preview)
	better := k == s.encKey && msg.quality > s.encQual
	if msg.layout != layout || (s.hasEnc && s.encLay == msg.layout && k <= s.encKey && !better) {
		return false
	}
	newer := !s.hasEnc || k > s.encKey // not just the same image re-encoded
	s.enc, s.encKey, s.encLay, s.hasEnc, s.encQual = msg.enc, k, msg.layout, true, msg.quality
	if !msg.preview {
		s.done = max(s.done, msg.gen)
	}
	if msg.which == imgR && !msg.preview && newer {
		p.status.frame = time.Since(msg.at)
	}
	return true
}

// pairEncode is the re-encoding of the result with its A/B pair's palette,
// once A and B are in while the result is still drawn with a palette of its
// own: made off the path of the next edit (which would otherwise pay for
// building the pair's palette).
func (p *pipeline) pairEncode(t encodeTarget) (encodeReq, bool) {
	r := &p.imgs[imgR]
	if t.mode != gfxSixel || !r.hasEnc || r.encQual >= qualPair || !r.rawKey.final() {
		return encodeReq{}, false
	}
	req, ok := p.encodeReq(imgR, t)
	if !ok || req.palImgs == nil {
		return encodeReq{}, false
	}
	p.palKnown[req.family] = true
	return req, true
}

// shown is image which's encoding to draw on layout, if there is one.
func (p *pipeline) shown(which, layout int) (encoded, bool) {
	s := &p.imgs[which]
	e := s.enc
	return e, s.hasEnc && s.encLay == layout && e.rows > 0 && (e.lines != nil || e.sixel != "")
}

// family names the palette family of an image: a source alone, or the
// result of a pair of sources. Every mix, psi, noise and walk of one pair
// shares the pair's palette (built from A, B and the result, so it holds
// both sources' colours); dithering absorbs the rest. withAB is false until
// the pictures of A and B are known: the palette then comes from the result
// alone, under its own name.
func family(which int, st latent.State, withAB bool) string {
	switch which {
	case imgA:
		return "A " + sourceKey(st.A)
	case imgB:
		return "B " + sourceKey(st.B)
	}
	f := "R " + sourceKey(st.A) + " " + sourceKey(st.B)
	if !withAB {
		f += " alone"
	}
	return f
}

func sourceKey(s latent.Source) string {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(s.Seed, 10))
	for _, n := range s.Nudges {
		fmt.Fprintf(&b, ",%d@%g", n.Seed, n.Step)
	}
	if s.Z != nil {
		fmt.Fprintf(&b, "z%x", hashF(s.Z))
	}
	if s.W != nil {
		fmt.Fprintf(&b, "w%x", hashF(s.W))
	}
	return b.String()
}

func hashF(v []float32) uint64 {
	h := uint64(14695981039346656037)
	for _, x := range v {
		h ^= uint64(int64(x * 1e6))
		h *= 1099511628211
	}
	return h
}
