package figures

import (
	"context"
	"fmt"
	"image"
	"image/draw"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"stylegan-tui/latent"
	"stylegan-tui/model"
	"stylegan-tui/render"
)

// Frame is one frame of an Animation: one panel per state, left to right,
// and a caption burnt in under them (Caption always, Label and the state
// strings only when labels are asked for). Every preset's Caption says what
// its frames vary and, for the walk, what its panels are: a class sees a
// GIF without the command that made it.
type Frame struct {
	States  []latent.State
	Caption string
	Label   string
}

// Animation is a sequence of frames shown at a fixed rate.
type Animation struct {
	Kind   string // walk, mix-sweep, truncation-sweep, noise
	Frames []Frame
}

// Kinds are the animation presets, in the order the CLI lists them.
var Kinds = []string{"walk", "mix-sweep", "truncation-sweep", "noise"}

// WalkLegFrames is the walk's frames from one source to the next: 1.2 s at
// its 25 fps, long enough to follow the change.
const WalkLegFrames = 30

// DefaultFrames is each preset's frame count for a model with n style slots.
func DefaultFrames(kind string, n int) int {
	switch kind {
	case "walk":
		return 2 * WalkLegFrames // A -> B -> A
	case "mix-sweep":
		return 2 * n
	case "truncation-sweep":
		return 40
	}
	return 20
}

// DefaultFPS is each preset's frame rate: smooth for the walk, slow enough
// to see each step of the sweeps.
func DefaultFPS(kind string) float64 {
	switch kind {
	case "walk":
		return 25
	case "mix-sweep":
		return 4
	case "truncation-sweep":
		return 12
	}
	return 8
}

// Preset returns animation kind for base: see Walk (from A to B and back),
// MixSweep, TruncationSweep and NoiseSweep. frames <= 0 means
// DefaultFrames. This is what the explorer's preset key saves.
func Preset(kind string, cfg *model.Config, base latent.State, frames int) (*Animation, error) {
	if frames <= 0 {
		frames = DefaultFrames(kind, len(base.Styles))
	}
	switch kind {
	case "walk":
		return Walk(base, []latent.Source{base.A, base.B}, frames), nil
	case "mix-sweep":
		return MixSweep(cfg, base, frames), nil
	case "truncation-sweep":
		return TruncationSweep(base, frames), nil
	case "noise":
		return NoiseSweep(base, frames), nil
	}
	return nil, fmt.Errorf("figures: unknown animation %q (want %s)", kind, strings.Join(Kinds, ", "))
}

// Ease is the cosine ease-in-out of t in [0, 1]: slow at both ends, so a
// walk rests on each source.
func Ease(t float64) float64 { return (1 - math.Cos(math.Pi*t)) / 2 }

// triangle maps frame i of n onto 0 → 1 → 0, so a sweep loops smoothly
// (frame n would be frame 0 again).
func triangle(i, n int) float64 {
	p := 2 * float64(i) / float64(max(n, 1))
	if p > 1 {
		p = 2 - p
	}
	return p
}

// Walk visits sources in a loop (A → B → C → ... → A) in frames frames,
// eased on every leg; each frame has two panels, lerp in W (left) and slerp
// in Z (right) at the same t. Styles, psi and noise come from base.
func Walk(base latent.State, sources []latent.Source, frames int) *Animation {
	a := &Animation{Kind: "walk"}
	k := len(sources)
	if k < 2 {
		return a
	}
	for i := 0; i < frames; i++ {
		u := float64(i) * float64(k) / float64(frames)
		leg := min(int(u), k-1)
		t := round4(Ease(u - float64(leg)))
		var f Frame
		for _, sp := range []latent.Space{latent.SpaceW, latent.SpaceZ} {
			st := base.Clone()
			st.A, st.B = sources[leg].Clone(), sources[(leg+1)%k].Clone()
			st.Interp = latent.Interp{On: true, T: t, Space: sp}
			f.States = append(f.States, st)
		}
		f.Caption = "left: lerp in W, right: slerp in Z"
		f.Label = fmt.Sprintf("%s to %s, t=%s",
			seedLabel(sources[leg]), seedLabel(sources[(leg+1)%k]), strconv.FormatFloat(t, 'f', 2, 64))
		a.Frames = append(a.Frames, f)
	}
	return a
}

// MixSweep moves the crossover from coarse to fine and back: frame i takes
// style slots 0..c-1 from B and the rest from A, c going 0 → all slots → 0.
// The caption names the slots from B and their resolutions ("B: 0-3
// (4-8px)", "B: 0-1 (4px)"); the label adds the paper's groups they cover.
func MixSweep(cfg *model.Config, base latent.State, frames int) *Animation {
	a := &Animation{Kind: "mix-sweep"}
	n := len(base.Styles)
	for i := 0; i < frames; i++ {
		c := int(math.Round(triangle(i, frames) * float64(n)))
		st := fromB(base, base.A, base.B, 0, c-1)
		// Short enough for one line at 128 px, two at 64.
		caption, groups := "B: none", "all from A"
		if c > 0 {
			caption = fmt.Sprintf("B: 0-%d (%s)", c-1, resRange(cfg.SlotRes(0), cfg.SlotRes(c-1), ""))
			if c == 1 {
				caption = fmt.Sprintf("B: 0 (%dpx)", cfg.SlotRes(0))
			}
			groups = groupsIn(cfg, c) + " from B"
		}
		a.Frames = append(a.Frames, Frame{States: []latent.State{st}, Caption: caption,
			Label: fmt.Sprintf("A %s, B %s: %s", seedLabel(base.A), seedLabel(base.B), groups)})
	}
	return a
}

// groupsIn names the paper's groups that style slots 0..c-1 cover, "part"
// marking one cut by the crossover: "coarse + middle (part)".
func groupsIn(cfg *model.Config, c int) string {
	names, lo, hi := Groups(cfg)
	var parts []string
	for i, g := range names {
		switch {
		case lo[i] >= c:
		case hi[i] < c:
			parts = append(parts, g)
		default:
			parts = append(parts, g+" (part)")
		}
	}
	return strings.Join(parts, " + ")
}

// TruncationSweep moves psi from 1 to -1 and back (truncation on base's
// cutoff slots); the caption gives psi and the cutoff on two lines ("psi
// 0.5" over "on slots <8"), as one it wrapped after "slots" at 128 px.
func TruncationSweep(base latent.State, frames int) *Animation {
	a := &Animation{Kind: "truncation-sweep"}
	base = still(base)
	for i := 0; i < frames; i++ {
		st := base.Clone()
		st.Psi = round4(1 - 2*triangle(i, frames))
		a.Frames = append(a.Frames, Frame{States: []latent.State{st}, Caption: strings.Replace(truncLabel(st), ", ", "\non ", 1)})
	}
	return a
}

// NoiseSweep resamples the noise every frame (NoiseDraw 0, 1, ...): the
// styles stay, only the stochastic detail changes. The caption counts the
// draws, so a model whose noise changes little still shows a changing
// frame.
func NoiseSweep(base latent.State, frames int) *Animation {
	a := &Animation{Kind: "noise"}
	for i := 0; i < frames; i++ {
		a.Frames = append(a.Frames, Frame{States: []latent.State{NoiseDraw(base, i)},
			Caption: fmt.Sprintf("noise draw %d", i)})
	}
	return a
}

// panelGap is the black gap between the panels of a frame.
const panelGap = 4

// PanelRect is where panel i of a frame lands at size x size pixels.
func PanelRect(i, size int) image.Rectangle {
	x := i * (size + panelGap)
	return image.Rect(x, 0, x+size, size)
}

// States lists every frame's state strings: "frame panel state" per line.
func (a *Animation) States() []string {
	var out []string
	for i, f := range a.Frames {
		for p, st := range f.States {
			out = append(out, fmt.Sprintf("%d %d %s", i, p, st.Encode()))
		}
	}
	return out
}

// caption is the text under frame f.
func (f *Frame) caption(labels bool) string {
	lines := []string{}
	if f.Caption != "" {
		lines = append(lines, f.Caption)
	}
	if labels {
		if f.Label != "" {
			lines = append(lines, f.Label)
		}
		for _, st := range f.States {
			lines = append(lines, st.Encode())
		}
	}
	return strings.Join(lines, "\n")
}

// Render draws every frame: its panels at size x size (render.Resize of the
// generator's output; size <= 0 keeps the model's resolution) side by side
// on black, with the caption strip (render.Label) under them; all frames get
// the height of the tallest. A progress bar appears on progress (may be nil)
// once rendering has taken over a second.
func (a *Animation) Render(ctx context.Context, g *model.Generator, size int, labels bool, progress io.Writer) ([]image.Image, error) {
	imgs, _, err := a.render(ctx, g, size, labels, newProgress(progress, "gif "+a.Kind, a.work()))
	return imgs, err
}

func (a *Animation) work() int {
	n := 0
	for _, f := range a.Frames {
		n += len(f.States)
	}
	return n
}

func (a *Animation) render(ctx context.Context, g *model.Generator, size int, labels bool, p *render.Progress) ([]image.Image, *render.Progress, error) {
	if size <= 0 {
		size = g.Cfg.Resolution()
	}
	out, err := a.RenderVia(ctx, size, labels, func(ctx context.Context, st latent.State) (image.Image, error) {
		img, err := renderState(ctx, g, st)
		p.Add(1)
		return img, err
	})
	return out, p, err
}

// RenderVia is Render with the generator behind a function (the explorer
// renders through its worker): fn gives each panel's picture, which is
// resized to size x size.
func (a *Animation) RenderVia(ctx context.Context, size int, labels bool, fn func(context.Context, latent.State) (image.Image, error)) ([]image.Image, error) {
	if len(a.Frames) == 0 {
		return nil, fmt.Errorf("figures: %s: no frames", a.Kind)
	}
	out := make([]image.Image, len(a.Frames))
	tallest := 0
	for i, f := range a.Frames {
		n := len(f.States)
		canvas := image.NewRGBA(image.Rect(0, 0, n*size+(n-1)*panelGap, size))
		draw.Draw(canvas, canvas.Rect, image.Black, image.Point{}, draw.Src)
		for j, st := range f.States {
			img, err := fn(ctx, st)
			if err != nil {
				return nil, fmt.Errorf("figures: %s frame %d: %w", a.Kind, i, err)
			}
			draw.Draw(canvas, PanelRect(j, size), render.Resize(img, size, size), image.Point{}, draw.Src)
		}
		var m *image.RGBA = canvas
		if text := f.caption(labels); text != "" {
			m = render.Label(canvas, text)
		}
		out[i] = m
		tallest = max(tallest, m.Rect.Dy())
	}
	for i, m := range out {
		if b := m.Bounds(); b.Dy() < tallest {
			c := image.NewRGBA(image.Rect(0, 0, b.Dx(), tallest))
			draw.Draw(c, c.Rect, image.Black, image.Point{}, draw.Src)
			draw.Draw(c, b, m, b.Min, draw.Src)
			out[i] = c
		}
	}
	return out, nil
}

// Delay is the GIF frame delay, in 1/100 s, for fps frames a second: at
// least 2 (browsers show shorter delays as 1/10 s) and at most 65535 (the
// format's 16 bits; a tiny fps overflowed the int conversion).
func Delay(fps float64) int {
	if fps <= 0 || math.IsNaN(fps) {
		return render.DefaultGIFDelay
	}
	return int(min(max(2, math.Round(100/fps)), 65535))
}

// Write renders the animation and writes it as a GIF at fps frames a
// second (see WriteGIF), with one progress bar for rendering and encoding.
// It returns the frames and the palette they were encoded with.
func (a *Animation) Write(ctx context.Context, path string, g *model.Generator, size int, labels bool, fps float64, progress io.Writer) ([]image.Image, *render.Palette, error) {
	p := newProgress(progress, "gif "+a.Kind, a.work()+len(a.Frames))
	defer p.Done()
	frames, p, err := a.render(ctx, g, size, labels, p)
	if err != nil {
		return nil, nil, err
	}
	pal, err := writeGIF(path, frames, []int{Delay(fps)}, p)
	return frames, pal, err
}

// PresetGIF renders preset kind of st (see Preset; default frames and
// frame rate, pictures at the model's resolution up to 256 px, captions
// only where the preset always has them) and writes it into dir as
// NAME-KIND-YYYYMMDD-HHMMSS.gif, returning the path. It takes seconds: run
// it off the UI goroutine, with a Generator of its own so the explorer's
// renders neither wait for it nor lose their cache.
func PresetGIF(ctx context.Context, g *model.Generator, kind string, st latent.State, dir, name string) (string, error) {
	a, err := Preset(kind, g.Cfg, st, 0)
	if err != nil {
		return "", err
	}
	if name == "" {
		name = "stylegan"
	}
	path := FreePath(dir, fmt.Sprintf("%s-%s-%s", name, kind, time.Now().Format("20060102-150405")), ".gif")
	size := min(g.Cfg.Resolution(), 256)
	if _, _, err := a.Write(ctx, path, g, size, false, DefaultFPS(kind), nil); err != nil {
		return "", err
	}
	return path, nil
}
