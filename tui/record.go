package tui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"stylegan-tui/latent"
	"stylegan-tui/render/figures"
)

// recordedMsg reports the GIF a recording wrote (key g).
type recordedMsg struct {
	rec figures.Recording
	err error
}

// animSavedMsg reports the GIF of the animation preset (key G).
type animSavedMsg struct {
	kind, path string
	err        error
}

// fileName is the start of the explorer's file names: "stylegan-" and the
// model's name, which may start with "stylegan" itself (the default model is
// "stylegan-tui toyfaces": stylegan-tui_toyfaces, not stylegan-stylegan-…).
func (m *Model) fileName() string {
	n := sanitize(m.name)
	if strings.HasPrefix(strings.ToLower(n), "stylegan") {
		return n
	}
	return "stylegan-" + n
}

// toggleRecording starts recording every result shown (the picture on
// screen now first), or stops: the recorder is let go at once and the GIF
// is written in a tea.Cmd. Recorder.Add never blocks, so recording costs
// the key handling nothing.
func (m *Model) toggleRecording() tea.Cmd {
	if m.gifs.rec == nil {
		if m.opts.NoSave {
			m.explain = "record: saving is disabled here, so no GIF can be written"
			return nil
		}
		m.gifs.rec = figures.NewRecorder(figures.RecorderOptions{Dir: m.opts.SaveDir, Name: m.fileName()})
		if s := &m.pipe.imgs[imgR]; s.raw != nil && s.rendered {
			m.gifs.rec.Add(s.raw, time.Now(), s.st)
		}
		m.explain = "recording a GIF of every result shown, with its timing (g stops and writes it)"
		return nil
	}
	return m.stopRecording()
}

// stopRecording ends the recording; its tea.Cmd writes the GIF.
func (m *Model) stopRecording() tea.Cmd {
	rec, end := m.gifs.rec, time.Now()
	m.gifs.rec = nil
	m.explain = "recording stopped: writing the GIF"
	return func() tea.Msg {
		r, err := rec.Stop(end)
		return recordedMsg{rec: r, err: err}
	}
}

func (m *Model) recorded(msg recordedMsg) {
	switch {
	case errors.Is(msg.err, figures.ErrNoFrames):
		m.info = "record: nothing was shown while recording, no GIF written"
	case msg.err != nil:
		m.info = "record: " + msg.err.Error()
	default:
		m.info = fmt.Sprintf("recorded %s (%d frames, %.1f s)", m.shownPath(msg.rec.Path), msg.rec.Frames, msg.rec.Duration.Seconds())
	}
	if m.screen.quitting {
		m.gifs.exitNotes = append(m.gifs.exitNotes, m.info)
	}
}

// ExitNotes are the lines to print once the explorer has quit and the
// screen is restored: the GIF a recording running at q was written to (or
// why it was not).
func (m *Model) ExitNotes() []string { return m.gifs.exitNotes }

// presetKind is the animation preset of st: the walk while interpolating,
// else the mix sweep of A and B.
func presetKind(st latent.State) string {
	if st.Interp.On {
		return "walk"
	}
	return "mix-sweep"
}

// saveAnimation writes the current state's animation preset as a GIF in a
// tea.Cmd, rendered apart from the image workers (see renderApart).
func (m *Model) saveAnimation() tea.Cmd {
	kind := presetKind(m.lat.st)
	if m.opts.NoSave {
		m.explain = "save " + kind + " GIF: saving is disabled here"
		return nil
	}
	if m.gifs.saving {
		m.explain = "an animation GIF is being saved already"
		return nil
	}
	st, dir, name, res := m.lat.st.Clone(), m.opts.SaveDir, m.fileName(), m.cfg.Resolution()
	a, err := figures.Preset(kind, m.cfg, st, 0)
	if err == nil && m.gifs.preset == nil {
		m.gifs.preset, err = m.renderApart()
	}
	if err != nil {
		m.info = "animation: " + err.Error()
		return nil
	}
	fn := m.gifs.preset
	m.gifs.saving = true
	m.explain = fmt.Sprintf("saving the %s of this state as a GIF (%d frames at %g fps) in the background",
		kind, figures.DefaultFrames(kind, len(st.Styles)), figures.DefaultFPS(kind))
	return func() tea.Msg {
		path, err := writePreset(fn, a, res, dir, name)
		return animSavedMsg{kind: kind, path: path, err: err}
	}
}

func (m *Model) animSaved(msg animSavedMsg) {
	m.gifs.saving = false
	if msg.err != nil {
		m.info = msg.kind + " GIF: " + msg.err.Error()
		return
	}
	m.info = "saved " + m.shownPath(msg.path)
}

// writePreset renders animation a through fn, as figures.PresetGIF does
// with a Generator (panels of min(resolution, 256) px side by side, the
// preset's captions under them, its frame rate), and writes it into dir as
// NAME-KIND-YYYYMMDD-HHMMSS.gif.
func writePreset(fn renderFunc, a *figures.Animation, res int, dir, name string) (string, error) {
	frames, err := a.RenderVia(context.Background(), min(res, 256), false, func(ctx context.Context, st latent.State) (image.Image, error) {
		img, _, err := fn(ctx, st, nil)
		return img, err
	})
	if err != nil {
		return "", err
	}
	path := figures.FreePath(dir, fmt.Sprintf("%s-%s-%s", name, a.Kind, time.Now().Format("20060102-150405")), ".gif")
	if _, err := figures.WriteGIF(path, frames, []int{figures.Delay(figures.DefaultFPS(a.Kind))}, nil); err != nil {
		return "", err
	}
	return path, nil
}
