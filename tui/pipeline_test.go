package tui

import (
	"errors"
	"image"
	"strings"
	"testing"
	"time"

	"stylegan-tui/latent"
)

// seedState is a small state whose source A has seed a.
func seedState(a int64) latent.State {
	st := latent.New(4, 4, 0.7, 8)
	st.A.Seed, st.B.Seed = a, 100
	return st
}

// target is a layout (id 1) with a box of 8x4 cells for each image.
func target(mode gfxMode) encodeTarget {
	t := encodeTarget{layout: 1, mode: mode, cellW: 10, cellH: 20}
	for i := range t.boxes {
		t.boxes[i] = box{cols: 8, rows: 4}
	}
	return t
}

func picture() *image.RGBA { return image.NewRGBA(image.Rect(0, 0, 8, 8)) }

// result is a worker's result of request r (a preview when final is false).
func result(r renderReq, final bool) renderedMsg {
	return renderedMsg{which: r.which, gen: r.gen, st: r.st, img: picture(), preview: !final, at: r.at}
}

// encodedAs is the encoding r makes, its one line saying what it is.
func encodedAs(r encodeReq, tag string) encodedMsg {
	return encodedMsg{which: r.which, gen: r.gen, preview: r.preview, layout: r.layout, quality: r.quality(),
		enc: encoded{rows: 1, lines: []string{tag}}, at: r.at}
}

// ask starts a generation and requests image which of st in it.
func ask(t *testing.T, p *pipeline, which int, st latent.State) renderReq {
	t.Helper()
	p.next()
	r, ok := p.request(which, st, time.Now())
	if !ok {
		t.Fatalf("state %s was not requested", st)
	}
	return r
}

// one is the single encoding p asks for of image which.
func one(t *testing.T, p *pipeline, which int, tg encodeTarget) encodeReq {
	t.Helper()
	reqs := p.encodes(which, tg)
	if len(reqs) != 1 {
		t.Fatalf("%d encodings asked for, want 1", len(reqs))
	}
	return reqs[0]
}

func shownTag(p *pipeline, which, layout int) string {
	if e, ok := p.shown(which, layout); ok {
		return e.lines[0]
	}
	return ""
}

// A newer generation supersedes: its result is taken, and the late result
// of the older request is dropped, as is its late encoding.
func TestPipelineNewerGenerationSupersedes(t *testing.T) {
	p := newPipeline()
	tg := target(gfxHalfBlock)
	r1 := ask(t, &p, imgR, seedState(1))
	r2 := ask(t, &p, imgR, seedState(2))
	if r1.gen >= r2.gen || p.imgs[imgR].want != r2.gen || !p.busy() {
		t.Fatalf("generations %d then %d, want %d, busy %v", r1.gen, r2.gen, p.imgs[imgR].want, p.busy())
	}
	if !p.takeRaw(result(r2, true)) {
		t.Fatal("the newest result was dropped")
	}
	e2 := one(t, &p, imgR, tg)
	late := result(r1, true)
	if p.takeRaw(late) || p.imgs[imgR].raw == late.img || !p.imgs[imgR].st.Equal(r2.st) {
		t.Fatal("a late result of an older request replaced the newer one")
	}
	if !p.busy() {
		t.Fatal("idle before the newest image is encoded")
	}
	if !p.takeEncoded(encodedAs(e2, "2"), tg.layout) || p.busy() || shownTag(&p, imgR, tg.layout) != "2" {
		t.Fatalf("the newest encoding: shown %q, busy %v", shownTag(&p, imgR, tg.layout), p.busy())
	}
	e1 := e2
	e1.gen = r1.gen
	if p.takeEncoded(encodedAs(e1, "1"), tg.layout) || shownTag(&p, imgR, tg.layout) != "2" {
		t.Fatal("a late encoding of an older image replaced the newer one")
	}
}

// The state asked for last is not asked for again, in any generation.
func TestPipelineSameStateNotAskedAgain(t *testing.T) {
	p := newPipeline()
	r := ask(t, &p, imgA, seedState(1))
	p.next()
	if _, ok := p.request(imgA, seedState(1), time.Now()); ok {
		t.Fatal("the same state was asked for twice")
	}
	if p.imgs[imgA].want != r.gen {
		t.Fatalf("want %d, the request of generation %d is still the one", p.imgs[imgA].want, r.gen)
	}
	if _, ok := p.request(imgA, seedState(2), time.Now()); !ok {
		t.Fatal("a new state was not asked for")
	}
}

// The encoding of a raw image superseded before it was encoded: shown if
// it comes first (it is newer than what is on screen), dropped once the
// newer image's encoding is shown.
func TestPipelineSupersededEncode(t *testing.T) {
	p := newPipeline()
	tg := target(gfxHalfBlock)
	r1 := ask(t, &p, imgR, seedState(1))
	p.takeRaw(result(r1, true))
	e1 := one(t, &p, imgR, tg)
	r2 := ask(t, &p, imgR, seedState(2))
	p.takeRaw(result(r2, true))
	e2 := one(t, &p, imgR, tg)
	if e1.gen != r1.gen || e2.gen != r2.gen {
		t.Fatalf("encodings of generations %d and %d, want %d and %d", e1.gen, e2.gen, r1.gen, r2.gen)
	}
	if !p.takeEncoded(encodedAs(e1, "1"), tg.layout) || !p.busy() {
		t.Fatalf("the older image's encoding, first to come: taken %q, busy %v", shownTag(&p, imgR, tg.layout), p.busy())
	}
	p.takeEncoded(encodedAs(e2, "2"), tg.layout)
	if p.takeEncoded(encodedAs(e1, "1 again"), tg.layout) || shownTag(&p, imgR, tg.layout) != "2" {
		t.Fatalf("shown %q, want the newer image's encoding", shownTag(&p, imgR, tg.layout))
	}
}

// An encoding for another layout is dropped; after a relayout, the image
// shown encoded for the new layout is taken although it is no newer.
func TestPipelineLayouts(t *testing.T) {
	p := newPipeline()
	tg := target(gfxHalfBlock)
	r := ask(t, &p, imgA, seedState(1))
	p.takeRaw(result(r, true))
	e := one(t, &p, imgA, tg)
	if p.takeEncoded(encodedAs(e, "old layout"), tg.layout+1) {
		t.Fatal("an encoding for the previous layout was taken")
	}
	p.takeEncoded(encodedAs(e, "layout 1"), tg.layout)
	tg.layout++
	tg.boxes[imgA] = box{cols: 6, rows: 3}
	if _, ok := p.shown(imgA, tg.layout); ok {
		t.Fatal("an encoding for the old layout is shown on the new one")
	}
	e2 := one(t, &p, imgA, tg)
	if e2.cols != 6 || e2.layout != tg.layout {
		t.Fatalf("re-encoding %+v, want the new box", e2)
	}
	if !p.takeEncoded(encodedAs(e2, "layout 2"), tg.layout) || shownTag(&p, imgA, tg.layout) != "layout 2" {
		t.Fatal("the re-encoding for the new layout was dropped")
	}
}

// Draft to final: previews (low-resolution ToRGB images) show until the
// final image of their generation; a preview never replaces it, and only
// the final image ends the generation's wait.
func TestPipelineDraftToFinal(t *testing.T) {
	p := newPipeline()
	tg := target(gfxSixel)
	r := ask(t, &p, imgR, seedState(1))
	if !p.takeRaw(result(r, false)) {
		t.Fatal("a preview was dropped")
	}
	reqs := p.encodes(imgR, tg)
	if len(reqs) != 1 || !reqs[0].preview || reqs[0].quick {
		t.Fatalf("preview encodings %+v, want one, with the preview's own colours", reqs)
	}
	p.takeEncoded(encodedAs(reqs[0], "draft"), tg.layout)
	if shownTag(&p, imgR, tg.layout) != "draft" || !p.busy() || p.imgs[imgR].rendered {
		t.Fatalf("after the preview: shown %q, busy %v", shownTag(&p, imgR, tg.layout), p.busy())
	}
	if !p.takeRaw(result(r, true)) || !p.imgs[imgR].rendered || !p.imgs[imgR].rawKey.final() {
		t.Fatal("the final image did not replace the preview")
	}
	if p.takeRaw(result(r, false)) {
		t.Fatal("a late preview replaced the final image")
	}
	final := p.encodes(imgR, tg)
	p.takeEncoded(encodedAs(final[len(final)-1], "final"), tg.layout)
	if shownTag(&p, imgR, tg.layout) != "final" || p.busy() {
		t.Fatalf("after the final image: shown %q, busy %v", shownTag(&p, imgR, tg.layout), p.busy())
	}
	if p.takeEncoded(encodedAs(reqs[0], "draft again"), tg.layout) {
		t.Fatal("the preview's late encoding replaced the final one")
	}
	// The next generation's preview is newer than this final image.
	r2 := ask(t, &p, imgR, seedState(2))
	if !p.takeRaw(result(r2, false)) {
		t.Fatal("the next generation's preview was dropped")
	}
}

// In sixel mode a new palette family is encoded quickly (fixed colours)
// and with its own palette at once; the better one stays whichever comes
// first. Once A and B are in, the result is encoded again with the pair's
// palette.
func TestPipelineQualityUpgrades(t *testing.T) {
	p := newPipeline()
	tg := target(gfxSixel)
	st := seedState(1)
	r := ask(t, &p, imgR, st)
	p.takeRaw(result(r, true))
	reqs := p.encodes(imgR, tg)
	if len(reqs) != 2 || !reqs[0].quick || reqs[1].quick || reqs[1].palImgs != nil ||
		!strings.HasSuffix(reqs[1].family, " alone") {
		t.Fatalf("first encodings of a new family %+v, want a quick one and one with its own palette", reqs)
	}
	if again := p.encodes(imgR, tg); len(again) != 1 || again[0].quick {
		t.Fatal("a known family was encoded quickly again")
	}
	// The own palette's encoding first: the quick one, late, is dropped.
	if !p.takeEncoded(encodedAs(reqs[1], "own"), tg.layout) || p.takeEncoded(encodedAs(reqs[0], "quick"), tg.layout) {
		t.Fatalf("shown %q, want own", shownTag(&p, imgR, tg.layout))
	}
	if _, ok := p.pairEncode(tg); ok {
		t.Fatal("a pair encoding before A and B are in")
	}
	for _, which := range []int{imgA, imgB} {
		r := ask(t, &p, which, sourceState(st, which))
		p.takeRaw(result(r, true))
		p.takeEncoded(encodedAs(p.encodes(which, tg)[0], "source"), tg.layout)
	}
	pair, ok := p.pairEncode(tg)
	if !ok || len(pair.palImgs) != 2 || strings.HasSuffix(pair.family, " alone") || pair.gen != r.gen {
		t.Fatalf("pair encoding %+v, %v: want generation %d with A and B's pictures", pair, ok, r.gen)
	}
	if !p.takeEncoded(encodedAs(pair, "pair"), tg.layout) || p.imgs[imgR].encQual != qualPair {
		t.Fatal("the pair's encoding did not replace the own palette's")
	}
	if _, ok := p.pairEncode(tg); ok {
		t.Fatal("encoded with the pair's palette twice")
	}
	if p.takeEncoded(encodedAs(reqs[1], "own again"), tg.layout) {
		t.Fatal("a worse encoding of the image replaced the pair's")
	}
	// Half-blocks have no palettes: one encoding each.
	if reqs := p.encodes(imgR, target(gfxHalfBlock)); len(reqs) != 1 || reqs[0].quick {
		t.Fatalf("half-block encodings %+v", reqs)
	}
}

// A failed render ends its generation's wait and keeps the image shown.
func TestPipelineRenderError(t *testing.T) {
	p := newPipeline()
	r1 := ask(t, &p, imgR, seedState(1))
	p.takeRaw(result(r1, true))
	shown := p.imgs[imgR].raw
	r2 := ask(t, &p, imgR, seedState(2))
	fail := renderedMsg{which: imgR, gen: r2.gen, st: r2.st, err: errors.New("out of memory")}
	if !p.takeRaw(fail) || p.imgs[imgR].err == nil || p.imgs[imgR].raw != shown || p.busy() {
		t.Fatalf("after an error: err %v, image kept %v, busy %v", p.imgs[imgR].err, p.imgs[imgR].raw == shown, p.busy())
	}
	r3 := ask(t, &p, imgR, seedState(3))
	if !p.takeRaw(result(r3, true)) || p.imgs[imgR].err != nil {
		t.Fatal("the next image did not clear the error")
	}
}

// Nothing is encoded while the graphics mode is unknown or the image has
// no room.
func TestPipelineNowhereToShow(t *testing.T) {
	p := newPipeline()
	r := ask(t, &p, imgB, seedState(1))
	if reqs := p.encodes(imgB, target(gfxSixel)); reqs != nil {
		t.Fatal("encoded before any image")
	}
	p.takeRaw(result(r, true))
	tg := target(gfxUnknown)
	if reqs := p.encodes(imgB, tg); reqs != nil {
		t.Fatal("encoded before the graphics mode is known")
	}
	tg = target(gfxHalfBlock)
	tg.boxes[imgB] = box{}
	if reqs := p.encodes(imgB, tg); reqs != nil {
		t.Fatal("encoded for an empty box")
	}
}
