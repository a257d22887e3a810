package tui

import (
	"context"
	"fmt"
	"image"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"stylegan-tui/checkpoints"
	"stylegan-tui/latent"
	"stylegan-tui/tui/lesson"
	"stylegan-tui/tui/pathlen"
)

// walkLen is the walk's path length, live: d/Δt² between consecutive
// frames of the result while a walk plays, in the space shown and, by a
// companion render of every frame, in the other one, so that lerp in W
// and slerp in Z stand side by side.
type walkLen struct {
	on    bool // a walk has played: the row shows while the walk is on
	track pathlen.Track
	last  [2]walkFrame // the newest frame per space
	busy  bool         // a companion frame is being rendered
	// measuring: a step of the frames shown is being measured; the next
	// frames are not, until it is done (the classifier's distance takes
	// about as long as a 64 px frame: queuing them would fall behind).
	measuring bool
	dist      pathlen.Distance
	comp      renderFunc // the companion's (see renderApart)
	err       string
}

type walkFrame struct {
	key string
	t   float64
	img *image.RGBA
}

// walkLenMsg is a measured step (has), a companion frame, or an error.
type walkLenMsg struct {
	key       string
	space     latent.Space
	has       bool
	t0, t1, d float64
	companion bool
	frame     *walkFrame
	err       error
}

// showsWalkLen reports whether the path length row is on screen.
func (m *Model) showsWalkLen() bool {
	return m.teach.wl.on && m.lat.st.Interp.On && m.teach.quiz == nil
}

// distance is the path length's distance: Options.PathDistance, else the
// judge's (the classifier ppl measures with) for a toyfaces model, else
// pixels.
func (m *Model) distance() pathlen.Distance {
	wl := &m.teach.wl
	if wl.dist != nil {
		return wl.dist
	}
	wl.dist = m.opts.PathDistance
	if wl.dist == nil && lesson.Toyfaces(m.cfg) {
		if net, err := checkpoints.DefaultJudge(); err == nil {
			wl.dist = &pathlen.Classifier{Net: net}
		}
	}
	if wl.dist == nil {
		wl.dist = pathlen.Pixel{}
	}
	return wl.dist
}

// walkFrame takes a final result frame: with the previous frame of its walk
// it makes one step of the path, measured off the UI goroutine; while the
// walk plays, the other space's frame at the same t is rendered too.
func (m *Model) walkFrame(msg renderedMsg) tea.Cmd {
	wl := &m.teach.wl
	st := msg.st
	if m.following() {
		return nil // the teacher's explorer measures; its track comes with the broadcast
	}
	if !st.Interp.On || m.teach.quiz != nil || msg.img == nil {
		return nil
	}
	if m.anim.playing {
		wl.on = true
	}
	if !wl.on {
		return nil
	}
	key := pathlen.PathKey(st)
	if wl.track.Reset(key) {
		wl.last = [2]walkFrame{}
		wl.err = ""
	}
	sp, t := st.Interp.Space, st.Interp.T
	prev := wl.last[sp]
	cur := walkFrame{key, t, msg.img}
	wl.last[sp] = cur
	dist := m.distance()
	var cmds []tea.Cmd
	if prev.img != nil && prev.key == key && prev.t != t && !wl.measuring {
		wl.measuring = true
		cmds = append(cmds, func() tea.Msg {
			d, err := dist.Distance(prev.img, cur.img)
			return walkLenMsg{key: key, space: sp, has: err == nil, t0: prev.t, t1: t, d: d, err: err}
		})
	}
	if m.anim.playing && !wl.busy {
		other := st.Clone()
		other.Interp.Space = latent.SpaceZ
		if sp == latent.SpaceZ {
			other.Interp.Space = latent.SpaceW
		}
		if wl.comp == nil {
			fn, err := m.renderApart()
			if err != nil {
				wl.err = err.Error()
				return tea.Batch(cmds...)
			}
			wl.comp = fn
		}
		render := wl.comp
		wl.busy = true
		oprev := wl.last[other.Interp.Space]
		cmds = append(cmds, func() tea.Msg {
			img, _, err := render(context.Background(), other, nil)
			out := walkLenMsg{key: key, space: other.Interp.Space, companion: true, err: err}
			if err != nil {
				return out
			}
			out.frame = &walkFrame{key, t, img}
			if oprev.img != nil && oprev.key == key && oprev.t != t {
				out.d, out.err = dist.Distance(oprev.img, img)
				out.has, out.t0, out.t1 = out.err == nil, oprev.t, t
			}
			return out
		})
	}
	return tea.Batch(cmds...)
}

func (m *Model) walkLenDone(msg walkLenMsg) {
	wl := &m.teach.wl
	if msg.companion {
		wl.busy = false
	} else {
		wl.measuring = false
	}
	if msg.key != wl.track.Key {
		return // a walk since left
	}
	if msg.err != nil {
		wl.err = "path length: " + msg.err.Error()
		return
	}
	if msg.frame != nil {
		wl.last[msg.space] = *msg.frame
	}
	if msg.has {
		wl.track.Series[msg.space].Add(msg.t0, msg.t1, msg.d)
	}
}

// walkLenLines is the path length row: W's and Z's sparklines on one
// scale, their means, and what distance they are.
func (m *Model) walkLenLines() []string {
	if m.screen.lay.sparkRows == 0 {
		return nil
	}
	wl := &m.teach.wl
	if wl.err != "" {
		return []string{fit(fmt.Sprintf("%-7s", "path")+wl.err, m.screen.width)}
	}
	sw, zs := &wl.track.Series[latent.SpaceW], &wl.track.Series[latent.SpaceZ]
	top := max(sw.Max(), zs.Max())
	label := fmt.Sprintf(" d/Δt², %s", m.distance().Name())
	avail := m.screen.width - 1 - 7
	mean := func(s *pathlen.Series) string {
		if v, n := s.Mean(); n > 0 {
			return pathlen.Short(v)
		}
		return "–"
	}
	mw, mz := mean(sw), mean(zs)
	fixed := len("W  │ Z ") + 2*2 + ansi.StringWidth(mw) + ansi.StringWidth(mz)
	cells := (avail - fixed - ansi.StringWidth(label)) / 2
	if cells < 8 {
		label = ""
		cells = (avail - fixed) / 2
	}
	cells = min(cells, pathlen.Bins)
	if cells < 4 {
		return []string{fit("path", m.screen.width)}
	}
	name := func(sp latent.Space) string {
		s := sp.String()
		if m.lat.st.Interp.Space == sp {
			return m.style(styleCur).Render(s)
		}
		return s
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-7s%s %s  %s │ %s %s  %s", "path",
		name(latent.SpaceW), pathlen.Sparkline(sw, cells, top), mw,
		name(latent.SpaceZ), pathlen.Sparkline(zs, cells, top), mz)
	b.WriteString(m.style(styleDim).Render(label))
	return []string{fit(b.String(), m.screen.width)}
}
