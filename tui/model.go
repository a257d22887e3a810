package tui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"stylegan-tui/checkpoints"
	"stylegan-tui/latent"
	"stylegan-tui/model"
	"stylegan-tui/render"
	"stylegan-tui/render/figures"
	"stylegan-tui/tui/lesson"
	"stylegan-tui/tui/pathlen"
)

// Options configure the explorer.
type Options struct {
	Model *checkpoints.Checkpoint // the generator to explore (required)
	// Graphics is "auto" (detect sixel in-band, else half-blocks), "sixel"
	// or "halfblock". Empty means auto.
	Graphics string
	// TmuxPassthrough wraps sixel in tmux's passthrough escape when running
	// inside tmux ($TMUX set); without it tmux gets half-blocks.
	TmuxPassthrough bool
	State           *latent.State // start state; nil = the model's default
	// Env looks up environment variables (TMUX); nil means none are set.
	Env func(string) string
	// Width and Height are the window size until the terminal reports one
	// (0 = 80x24). Output that is not a terminal never reports one.
	Width, Height int
	// RandSeed seeds the random seeds the a/b/n/r keys draw (0 = the clock).
	RandSeed uint64
	// SaveDir is where w writes PNGs and g and G write GIFs ("" = the
	// working directory).
	SaveDir string
	// Raw receives escape sequences sent outside the view: terminal queries
	// and OSC 52. Nil sends none (tests of Update).
	Raw io.Writer
	// Render, when set, renders every image instead of the explorer's own
	// generators (a server shares one model between sessions through it).
	// ctx is cancelled when a newer state supersedes the request; the
	// result of a cancelled request is dropped. Nil = a Generator per image.
	Render func(ctx context.Context, st latent.State, preview func(*image.RGBA)) (*image.RGBA, model.Stats, error)
	// Renderer styles the text (a server passes one per session, so each
	// client gets its own colour profile). Nil = lipgloss's default.
	Renderer *lipgloss.Renderer
	// NoSave disables the save keys (the PNG, recording and animation GIFs).
	NoSave bool
	// TTYSize reads the local terminal's size (TIOCGWINSZ): its pixel size
	// stands in for a cell size the terminal does not report (see
	// cellSize). Nil = not known (Run sets it for a terminal).
	TTYSize func() PtySize
	// SSHPty reads the size the SSH client gave in its pty request or last
	// window change, in pixels too. Nil = not over SSH.
	SSHPty func() PtySize
	// TmuxAllowsPassthrough, when set, asks tmux whether allow-passthrough
	// is on (known false: tmux could not be asked). Run sets it inside tmux.
	TmuxAllowsPassthrough func() (on, known bool)
	// EncodeSlots, when set, bounds the image encodings (scaling, palette,
	// dither, sixel) that run at once: each takes a slot for its duration.
	// A server shares one among its sessions, so that many clients cannot
	// run more encodings than it has cores. Nil = unbounded.
	EncodeSlots chan struct{}
	// Lesson, when set, opens at its first step (lesson.go); the L key
	// closes it and opens it again (without it, L opens the built-in one).
	Lesson *lesson.Lesson
	// PathDistance measures a playing walk's path length (walklen.go).
	// Nil = the judge's distance (as ppl's) for a toyfaces model, else
	// a pixel distance.
	PathDistance pathlen.Distance
	// Class, when set, makes the explorer a teacher or a student of a
	// class (follow.go): F and B, the class's rows above the pictures.
	Class     Class
	ClassRole ClassRole
	// Encodes, when set, shares encodings (and palettes) with the other
	// explorers given the same one (shared.go).
	Encodes *Encodes
}

// Model is the explorer's bubbletea model.
type Model struct {
	opts Options
	keys KeyMap
	help help.Model
	cfg  *model.Config
	name string

	workers [numImages]*worker
	out     chan tea.Msg
	raw     *rawWriter
	rng     *rand.Rand

	explain string // what the last key did, in the paper's terms
	info    string // state string, saved path, errors

	lat    editState   // the latent state, its undo history, the layer cursor
	prompt promptInput // the seed or state-string prompt
	term   termState   // the graphics mode and cell size, from the terminal's answers
	screen screenState // the window and its layout
	pipe   pipeline    // the images: requests, raw images, encodings
	anim   animState   // the walk's animation (key p)
	gifs   gifState    // the recording (key g) and the preset GIFs (key G)
	teach  teaching    // lesson, quiz and the walk's path length (lesson.go)
	class  classState  // a class's teacher or student (follow.go)
}

// editState is the state explored and its undo history.
type editState struct {
	st      latent.State
	hist    []histEntry
	histPos int
	cursor  int // the style slot the layer keys act on
}

type histEntry struct {
	st      latent.State
	explain string
}

// promptInput is the prompt being typed in, if any.
type promptInput struct {
	kind  promptKind
	input []rune
	// failed is the info line's error about the last input; the next
	// input that works takes it away (it would stay, stale, otherwise).
	failed string
}

// termState is what the terminal is known to do: asked in-band at the
// start (Init), decided once DA1's reply or the time-out comes.
type termState struct {
	mode          gfxMode
	graphics      string // requested graphics
	tmux          bool   // wrap sixel for tmux passthrough
	cellW, cellH  int
	cellFrom      string // where the cell size came from (cellSize)
	detecting     bool
	answers       sizeAnswers // what the terminal said of its size
	da1, da1Sixel bool        // a DA1 reply came; it lists sixel
	passOff       bool        // tmux said allow-passthrough is off
	osc           oscReply    // the background's reply, reassembled
}

// screenState is the window and what is laid out in it.
type screenState struct {
	width, height int
	lay           layout
	layoutID      int // counts layout changes: encodings are for one
	showHelp      bool
	clearing      bool   // a screen clear is on its way: show frozen
	frozen        string // the layout before it, without images
	quitting      bool
}

// animState is the walk's animation: t goes back and forth at animStep.
type animState struct {
	playing bool
	id      int     // ticks of an earlier run carry an older id
	dir     float64 // +1 or -1
}

// gifState is what is being written as GIF.
type gifState struct {
	rec    *figures.Recorder // non-nil while recording (key g)
	preset renderFunc        // renders the animation presets (key G), apart from the workers
	saving bool              // a preset GIF is being written
	// exitNotes say what quitting wrote (the recording), which the screen,
	// gone by then, cannot show: Run prints them after it (ExitNotes).
	exitNotes []string
}

type promptKind int

const (
	promptNone promptKind = iota
	promptSeedA
	promptSeedB
	promptState
)

// animTickMsg advances the interpolation animation.
type animTickMsg struct{ id int }

// savedMsg reports a PNG written by the save key.
type savedMsg struct {
	path string
	err  error
}

const (
	psiMin, psiMax = -1.0, 2.0
	tStep          = 0.05
	animStep       = 0.02
	animEvery      = 50 * time.Millisecond
	nudgeStep      = 0.25
	maxHistory     = 500
	seedRange      = 100000
)

// New builds the explorer for opts. It does no I/O and starts nothing: that
// happens in Init's commands.
func New(opts Options) (*Model, error) {
	if opts.Model == nil {
		return nil, errors.New("tui: no model")
	}
	if opts.Env == nil {
		opts.Env = func(string) string { return "" }
	}
	m := &Model{
		opts: opts,
		keys: DefaultKeyMap(),
		help: help.New(),
		cfg:  opts.Model.Cfg,
		out:  make(chan tea.Msg, 32),
		term: termState{cellW: defaultCellW, cellH: defaultCellH},
		pipe: newPipeline(),
		anim: animState{dir: 1},
	}
	m.help.Styles = m.helpStyles()
	m.name = m.cfg.Name
	if m.name == "" {
		m.name = "model"
	}
	if opts.Raw != nil {
		m.raw = &rawWriter{w: opts.Raw}
		// The background is asked in-band with the other queries. Until
		// it answers, take the usual dark one: lipgloss would otherwise
		// ask the terminal itself on the first adaptive colour, racing
		// bubbletea for the reply.
		m.renderer().SetHasDarkBackground(true)
	}
	seed := opts.RandSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	m.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := range m.workers {
		fn, err := m.renderApart()
		if err != nil {
			return nil, err
		}
		m.workers[i] = &worker{render: fn, out: m.out}
	}
	if opts.State != nil {
		if err := opts.State.Validate(m.cfg.NumStyles(), m.cfg.NumNoise()); err != nil {
			return nil, fmt.Errorf("tui: --state: %w", err)
		}
		m.lat.st = opts.State.Clone()
	} else {
		m.lat.st = latent.New(m.cfg.NumStyles(), m.cfg.NumNoise(), m.cfg.TruncPsi, m.cfg.TruncCutoff)
	}
	m.lat.hist = []histEntry{{st: m.lat.st.Clone(), explain: "start"}}
	m.screen.width, m.screen.height = opts.Width, opts.Height
	if m.screen.width <= 0 || m.screen.height <= 0 {
		m.screen.width, m.screen.height = 80, 24
	}
	m.term.tmux = opts.TmuxPassthrough && opts.Env("TMUX") != ""
	m.term.graphics = opts.Graphics
	switch opts.Graphics {
	case "", "auto":
		m.term.graphics = "auto"
		m.term.mode = gfxUnknown
		m.term.detecting = true
	case "sixel":
		// Known mode, but wait briefly for the cell size.
		m.term.mode = gfxUnknown
		m.term.detecting = true
	case "halfblock":
		m.term.mode = gfxHalfBlock
	default:
		return nil, fmt.Errorf("tui: --graphics %q: want sixel, halfblock or auto", opts.Graphics)
	}
	if m.raw == nil && m.term.detecting {
		// Nobody to ask: decide now.
		m.decide()
	}
	m.explain = m.describeStart()
	m.initClass()
	if opts.Lesson != nil {
		if opts.Lesson.File != lesson.BuiltInName {
			m.keys.Lesson.SetHelp("L", "the lesson on/off")
		}
		m.teach.pending = m.openLesson(opts.Lesson)
	}
	m.relayout()
	return m, nil
}

// renderApart is a render function for one user (an image's worker, the
// animation presets, the walk's companion frames): Options.Render when set
// (a server's shared renderer, which keeps its limits), else a Generator of
// its own, so that each keeps its incremental cache and none waits for
// another.
func (m *Model) renderApart() (renderFunc, error) {
	if m.opts.Render != nil {
		return m.opts.Render, nil
	}
	g, err := m.opts.Model.Generator()
	if err != nil {
		return nil, err
	}
	return generatorRender(g), nil
}

// busy reports whether an image is still being rendered or encoded.
func (m *Model) busy() bool { return m.pipe.busy() }

// State returns the current latent state.
func (m *Model) State() latent.State { return m.lat.st.Clone() }

// Explain returns the explain line.
func (m *Model) Explain() string { return m.explain }

// Init sends the terminal queries, starts listening for rendered images and
// asks for the first render.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{listen(m.out), m.requestRender(), m.teach.pending}
	if m.term.tmux && m.opts.TmuxAllowsPassthrough != nil && m.term.detecting {
		ask := m.opts.TmuxAllowsPassthrough
		cmds = append(cmds, func() tea.Msg {
			on, known := ask()
			return tmuxPassMsg{off: known && !on}
		})
	}
	if m.opts.Width > 0 && m.opts.Height > 0 {
		// A size given up front (output that is not a terminal): tell the
		// renderer too, so it erases the rest of shortened lines.
		w, h := m.opts.Width, m.opts.Height
		cmds = append(cmds, func() tea.Msg { return tea.WindowSizeMsg{Width: w, Height: h} })
	}
	if m.term.detecting {
		q := queryBg + queryCellSize + queryAreaSize + queryGfxSize + queryDA1
		if m.term.tmux {
			// All to the terminal outside: tmux 3.3 does not answer OSC 11,
			// and answers DA1 itself, without sixel. The outside's DA1 reply
			// shows that passthrough works; no reply, that it does not.
			q = render.TmuxPassthrough(q)
		}
		cmds = append(cmds, m.raw.cmd(q),
			tea.Tick(detectTimeout, func(time.Time) tea.Msg { return detectTimeoutMsg{} }))
	}
	return tea.Batch(cmds...)
}

// tmuxPassMsg is tmux's answer about allow-passthrough.
type tmuxPassMsg struct{ off bool }

// decide fixes the graphics mode once the terminal has answered (or not).
func (m *Model) decide() {
	m.term.detecting = false
	m.readPty()
	cw, ch, from := m.cellSize()
	d := decideGraphics(termFacts{
		requested: m.term.graphics, answered: m.term.da1, sixel: m.term.da1Sixel,
		inTmux: m.opts.Env("TMUX") != "", pass: m.term.tmux, passOff: m.term.passOff,
		cellW: cw, cellH: ch,
	})
	m.term.mode, m.term.cellFrom = d.mode, from
	if d.cellW > 0 && d.cellH > 0 {
		m.term.cellW, m.term.cellH = d.cellW, d.cellH
	}
	if d.hint != "" {
		m.info = d.hint
	}
}

// cellSize is cellSize on what is known now.
func (m *Model) cellSize() (w, h int, from string) {
	a := m.term.answers
	a.viaTmux = m.term.tmux
	return cellSize(a)
}

// answerGrid records the grid a text area or graphics size was measured on
// (the window's size when it arrived: after a resize the same pixels over
// the new grid would be a wrong cell). The local pty's own grid is taken
// where there is one, in case the reply came before the first window size.
func (m *Model) answerGrid() {
	m.term.answers.cols, m.term.answers.rows = m.screen.width, m.screen.height
	if m.opts.TTYSize != nil {
		if s := m.opts.TTYSize(); s.Cols > 0 && s.Rows > 0 {
			m.term.answers.cols, m.term.answers.rows = s.Cols, s.Rows
		}
	}
}

// readPty reads the pty's size (local or SSH), pixels included.
func (m *Model) readPty() {
	if m.opts.TTYSize != nil {
		m.term.answers.tty = m.opts.TTYSize()
	}
	if m.opts.SSHPty != nil {
		m.term.answers.ssh = m.opts.SSHPty()
	}
}

// recell takes a cell size learnt after the graphics mode was decided (a
// late reply, a font change seen in the pty's pixels).
func (m *Model) recell() {
	if m.term.mode != gfxSixel {
		return
	}
	if cw, ch, from := m.cellSize(); from != fromUnknown {
		m.term.cellW, m.term.cellH, m.term.cellFrom = cw, ch, from
	}
}

// Update handles one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := m.update(msg)
	m.classSync()
	if !m.screen.lay.small && !m.screen.lay.help && (len(m.infoLines()) != m.screen.lay.infoRows || m.teachChanged()) {
		// The info text now wraps onto more (or fewer) rows.
		cmd = tea.Batch(cmd, m.relayoutCmd())
	}
	return m, cmd
}

func (m *Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if cmd, ok := m.teachMsg(msg); ok {
		return m, cmd
	}
	if cmd, ok := m.classMsg(msg); ok {
		return m, cmd
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.screen.width, m.screen.height = msg.Width, msg.Height
		if !m.term.detecting {
			m.readPty()
			m.recell()
		}
		return m, m.relayoutCmd()
	case tmuxPassMsg:
		m.term.passOff = msg.off
		if msg.off && m.term.detecting {
			// No answer can come through: do not wait for one.
			m.decide()
			return m, m.relayoutCmd()
		}
		return m, nil
	case tea.KeyMsg:
		if m.term.detecting {
			// The background's reply comes before DA1's, as keys.
			if text, done, consumed := m.term.osc.key(msg); consumed {
				if dark, ok := parseBackground(text); done && ok {
					m.renderer().SetHasDarkBackground(dark)
				}
				return m, nil
			}
		}
		if msg.Alt && msg.Type == tea.KeyRunes && !msg.Paste {
			// Esc and a key that arrive together read as alt+key in
			// bubbletea v1: the explorer binds no alt keys, so take them
			// as the two keys.
			c1 := m.key(tea.KeyMsg{Type: tea.KeyEsc})
			_, c2 := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: msg.Runes})
			return m, tea.Batch(c1, c2)
		}
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste && m.prompt.kind == promptNone {
			// bubbletea v1 delivers keys typed (or sent) faster than it
			// reads as one message of several runes: take them one by one.
			var cmds []tea.Cmd
			for _, r := range msg.Runes {
				cmds = append(cmds, m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}))
			}
			return m, tea.Batch(cmds...)
		}
		return m, m.key(msg)
	case renderedMsg:
		return m, tea.Batch(listen(m.out), m.rendered(msg))
	case encodedMsg:
		return m, m.encodedImage(msg)
	case detectTimeoutMsg:
		if m.term.detecting {
			m.decide()
			return m, m.relayoutCmd()
		}
		return m, nil
	case animTickMsg:
		return m, m.animTick(msg)
	case recordedMsg:
		m.recorded(msg)
		return m, nil
	case animSavedMsg:
		m.animSaved(msg)
		return m, nil
	case savedMsg:
		if msg.err != nil {
			m.info = "save: " + msg.err.Error()
			m.explain = "save: the PNG was not written"
		} else {
			m.info = "saved " + m.shownPath(msg.path)
			m.explain = "saved the result at full resolution as " + m.shownPath(msg.path)
		}
		return m, nil
	}
	if isClearScreen(msg) {
		m.screen.clearing = false
		return m, nil
	}
	if r, ok := parseReply(msg); ok {
		return m, m.reply(r)
	}
	return m, nil
}

// clearScreenType is the type of tea.ClearScreen's (unexported) message,
// which bubbletea passes to Update after clearing the screen.
var clearScreenType = reflect.TypeOf(tea.ClearScreen())

func isClearScreen(msg tea.Msg) bool { return reflect.TypeOf(msg) == clearScreenType }

// reply takes in a terminal's answer to the start-up queries. The sizes
// are kept until DA1's reply, which comes last, decides.
func (m *Model) reply(r termReply) tea.Cmd {
	switch r.kind {
	case 't':
		m.term.answers.cell16 = [2]int{r.cellW, r.cellH}
	case 'T':
		m.term.answers.area14 = [2]int{r.areaW, r.areaH}
		m.answerGrid()
	case 'S':
		m.term.answers.gfx = [2]int{r.gfxW, r.gfxH}
		m.answerGrid()
	case 'c':
		if m.term.detecting {
			m.term.da1, m.term.da1Sixel = true, r.sixel
			m.decide()
		}
	}
	if !m.term.detecting && r.kind != 'c' {
		m.recell()
	}
	return m.relayoutCmd()
}

// key handles a key press.
func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	if msg.String() == "ctrl+c" {
		return m.quit()
	}
	if m.term.detecting {
		// Until the terminal has answered, a reply split across reads could
		// arrive as key presses: ignore keys for these few hundred ms.
		return nil
	}
	if m.prompt.kind != promptNone {
		return m.promptKey(msg)
	}
	if cmd, ok := m.classKey(msg); ok {
		return cmd
	}
	if msg.Paste {
		// A state string pasted straight into the explorer loads it.
		if text := strings.TrimSpace(string(msg.Runes)); strings.HasPrefix(text, latent.Version+":") {
			return m.submitPrompt(promptState, text)
		}
		return nil
	}
	k := m.keys
	if m.screen.showHelp {
		if key.Matches(msg, k.Quit) {
			return m.quit()
		}
		m.screen.showHelp = false
		return m.relayoutCmd()
	}
	if cmd, ok := m.teachKey(msg); ok {
		return cmd
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.screen.showHelp = true
		return m.relayoutCmd()
	case key.Matches(msg, k.Undo):
		return m.undo()
	case key.Matches(msg, k.Redo):
		return m.redo()
	case key.Matches(msg, k.Left):
		m.lat.cursor = max(0, m.lat.cursor-1)
		m.explain = m.describeSlot(m.lat.cursor)
		return nil
	case key.Matches(msg, k.Right):
		m.lat.cursor = min(len(m.lat.st.Styles)-1, m.lat.cursor+1)
		m.explain = m.describeSlot(m.lat.cursor)
		return nil
	case key.Matches(msg, k.TypeSeedA):
		m.prompt.kind, m.prompt.input = promptSeedA, nil
		return nil
	case key.Matches(msg, k.TypeSeedB):
		m.prompt.kind, m.prompt.input = promptSeedB, nil
		return nil
	case key.Matches(msg, k.Paste):
		m.prompt.kind, m.prompt.input = promptState, nil
		return nil
	case key.Matches(msg, k.Copy):
		s := m.lat.st.Encode()
		m.info = "copied (OSC 52): " + s
		m.explain = "state string: the whole picture (sources, styles, psi, noise, walk) — paste it with v or pass it to render --state"
		return m.raw.cmd(osc52(s, m.term.tmux))
	case key.Matches(msg, k.Save):
		return m.save()
	case key.Matches(msg, k.Record):
		return m.toggleRecording()
	case key.Matches(msg, k.SaveAnim):
		return m.saveAnimation()
	case key.Matches(msg, k.Play):
		return m.togglePlay()
	}
	if m.anim.playing {
		// Any edit pauses the animation first, so undo history stays whole.
		m.pause()
	}
	st, explain, ok := m.action(msg)
	if !ok {
		return nil
	}
	return m.apply(st, explain)
}

func (m *Model) quit() tea.Cmd {
	m.screen.quitting = true
	m.anim.playing = false
	if m.gifs.rec != nil {
		// Write what was recorded first.
		return tea.Sequence(m.stopRecording(), tea.Quit)
	}
	return tea.Quit
}

// apply makes st the current state (recorded for undo) and renders it.
func (m *Model) apply(st latent.State, explain string) tea.Cmd {
	m.explain = explain
	if st.Equal(m.lat.st) {
		return nil
	}
	m.lat.st = st
	m.lat.hist = append(m.lat.hist[:m.lat.histPos+1], histEntry{st: st.Clone(), explain: explain})
	if len(m.lat.hist) > maxHistory {
		m.lat.hist = m.lat.hist[len(m.lat.hist)-maxHistory:]
	}
	m.lat.histPos = len(m.lat.hist) - 1
	return m.requestRender()
}

func (m *Model) undo() tea.Cmd {
	m.pause()
	if m.lat.histPos == 0 {
		m.explain = "undo: nothing to undo"
		return nil
	}
	undone := m.lat.hist[m.lat.histPos].explain
	m.lat.histPos--
	m.lat.st = m.lat.hist[m.lat.histPos].st.Clone()
	m.explain = "undo " + undone
	return m.requestRender()
}

func (m *Model) redo() tea.Cmd {
	m.pause()
	if m.lat.histPos+1 >= len(m.lat.hist) {
		m.explain = "redo: nothing to redo"
		return nil
	}
	m.lat.histPos++
	m.lat.st = m.lat.hist[m.lat.histPos].st.Clone()
	m.explain = "redo " + m.lat.hist[m.lat.histPos].explain
	return m.requestRender()
}

// requestRender asks for the result image of the current state; the source
// images follow once it is shown.
func (m *Model) requestRender() tea.Cmd {
	m.pipe.next()
	if m.teach.quiz != nil {
		return m.submitPanels()
	}
	return m.submit(imgR, m.lat.st)
}

func (m *Model) submit(which int, st latent.State) tea.Cmd {
	req, ok := m.pipe.request(which, st, time.Now())
	if !ok {
		return nil
	}
	return submitCmd(m.workers[which], req)
}

// sourceState is the state whose picture is source A (or B) alone.
func sourceState(st latent.State, which int) latent.State {
	c := st.Clone()
	c.Interp.On = false
	src := latent.FromA
	if which == imgB {
		src = latent.FromB
	}
	for i := range c.Styles {
		c.Styles[i] = src
	}
	return c
}

// rendered takes a worker's result.
func (m *Model) rendered(msg renderedMsg) tea.Cmd {
	if !m.pipe.takeRaw(msg) {
		return nil // older than what we have
	}
	final := !msg.preview
	var cmds []tea.Cmd
	if msg.which == imgR && final {
		// The result is in: now the sources (they share the CPU).
		cmds = append(cmds, m.submit(imgA, m.panelState(imgA)), m.submit(imgB, m.panelState(imgB)))
	}
	if msg.err != nil {
		m.info = "render: " + msg.err.Error()
		return tea.Batch(cmds...)
	}
	if msg.which == imgR && final {
		if m.gifs.rec != nil {
			m.gifs.rec.Add(msg.img, time.Now(), msg.st) // never blocks
		}
		cmds = append(cmds, m.walkFrame(msg))
	}
	return tea.Batch(append(cmds, m.encode(msg.which))...)
}

// encodeTarget is what images are encoded for now.
func (m *Model) encodeTarget() encodeTarget {
	return encodeTarget{layout: m.screen.layoutID, boxes: m.screen.lay.boxes, mode: m.term.mode, cellW: m.term.cellW, cellH: m.term.cellH,
		slots: m.opts.EncodeSlots}
}

// encode starts encoding image which for the current layout.
func (m *Model) encode(which int) tea.Cmd {
	var cmds []tea.Cmd
	for _, r := range m.pipe.encodes(which, m.encodeTarget()) {
		cmds = append(cmds, m.encodeCmd(r))
	}
	return tea.Batch(cmds...)
}

// encodedImage takes an encoding. Once A and B are in, the result is
// encoded again with their pair's palette (pipeline.pairEncode).
func (m *Model) encodedImage(msg encodedMsg) tea.Cmd {
	if !m.pipe.takeEncoded(msg, m.screen.layoutID) || msg.which == imgR || msg.preview {
		return nil
	}
	if req, ok := m.pipe.pairEncode(m.encodeTarget()); ok {
		return m.encodeCmd(req)
	}
	return nil
}

// relayoutCmd recomputes the layout; when it changed, images are re-encoded
// for it and the screen is cleared so no old pixels stay behind.
func (m *Model) relayoutCmd() tea.Cmd {
	frozen := m.screen.frozen
	if !m.screen.clearing {
		// The layout on screen, without its images. (While a clear is
		// already on its way, the screen still has the layout before it.)
		frozen = m.view(true)
	}
	if !m.relayout() {
		return nil
	}
	// Until the clear is done, show the old layout with no images in it:
	// the new layout's text would otherwise land on the old pixels, and
	// nothing of the old images is drawn again. bubbletea hands the clear
	// message to Update right after it cleared the screen.
	m.screen.clearing, m.screen.frozen = true, frozen
	cmds := []tea.Cmd{tea.ClearScreen}
	for i := range m.pipe.imgs {
		cmds = append(cmds, m.encode(i))
	}
	return tea.Batch(cmds...)
}

// relayout reports whether the layout changed.
func (m *Model) relayout() bool {
	l := m.computeLayout()
	if l.equal(m.screen.lay) && m.screen.layoutID > 0 {
		return false
	}
	m.screen.lay = l
	m.screen.layoutID++
	return true
}

// promptKey edits the seed or state-string prompt.
func (m *Model) promptKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyEsc:
		m.prompt.kind, m.prompt.input = promptNone, nil
		return nil
	case tea.KeyBackspace:
		if len(m.prompt.input) > 0 {
			m.prompt.input = m.prompt.input[:len(m.prompt.input)-1]
		}
		return nil
	case tea.KeyEnter:
		text := strings.TrimSpace(string(m.prompt.input))
		kind := m.prompt.kind
		m.prompt.kind, m.prompt.input = promptNone, nil
		return m.submitPrompt(kind, text)
	case tea.KeyRunes, tea.KeySpace:
		m.prompt.input = append(m.prompt.input, msg.Runes...)
		if len(m.prompt.input) > 1<<16 {
			m.prompt.input = m.prompt.input[:1<<16]
		}
	}
	return nil
}

func (m *Model) submitPrompt(kind promptKind, text string) tea.Cmd {
	m.pause()
	switch kind {
	case promptSeedA, promptSeedB:
		seed, err := strconv.ParseUint(text, 10, 32)
		if err != nil {
			m.info = fmt.Sprintf("seed %q: want a number 0..%d (numpy RandomState seeds are 32-bit)", text, uint32(1<<32-1))
			m.prompt.failed = m.info
			return nil
		}
		if m.info == m.prompt.failed {
			m.info = ""
		}
		if kind == promptSeedA {
			return m.apply(m.withSeed(imgA, int64(seed)))
		}
		return m.apply(m.withSeed(imgB, int64(seed)))
	case promptState:
		st, err := latent.Decode(text)
		if err == nil {
			err = st.Validate(m.cfg.NumStyles(), m.cfg.NumNoise())
		}
		if err != nil {
			m.info = "state string: " + err.Error()
			m.prompt.failed = m.info
			return nil
		}
		m.info = "loaded " + st.Encode()
		return m.apply(st, "loaded a state string: "+m.describeState(st))
	}
	return nil
}

// save writes the full-resolution result as PNG in a tea.Cmd.
func (m *Model) save() tea.Cmd {
	if m.opts.NoSave {
		m.info = "save: disabled here"
		m.explain = "save: saving is disabled here, no PNG written"
		return nil
	}
	img := m.pipe.imgs[imgR].raw
	if img == nil || !m.pipe.imgs[imgR].rendered {
		m.info = "save: no image yet"
		m.explain = "save: the result is not rendered yet"
		return nil
	}
	name := fmt.Sprintf("%s-A%d-B%d-%s", m.fileName(), m.lat.st.A.Seed, m.lat.st.B.Seed, time.Now().Format("150405"))
	dir := m.opts.SaveDir
	res := m.cfg.Resolution()
	m.explain = fmt.Sprintf("saving the result (%s) as a PNG…", sq(res))
	return func() tea.Msg {
		path := figures.FreePath(dir, name, ".png")
		return savedMsg{path: path, err: render.WritePNG(path, img)}
	}
}

// shownPath is how a saved file is named to the user: relative to the save
// directory (a server's clients never see its paths).
func (m *Model) shownPath(path string) string {
	if m.opts.SaveDir == "" {
		return path
	}
	if rel, err := filepath.Rel(m.opts.SaveDir, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return filepath.Base(path)
}

// style binds s to the session's renderer (Options.Renderer), if any.
func (m *Model) style(s lipgloss.Style) lipgloss.Style {
	if m.opts.Renderer != nil {
		return s.Renderer(m.opts.Renderer)
	}
	return s
}

// renderer is the lipgloss renderer the explorer's text is styled with.
func (m *Model) renderer() *lipgloss.Renderer {
	if m.opts.Renderer != nil {
		return m.opts.Renderer
	}
	return lipgloss.DefaultRenderer()
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// togglePlay starts or pauses the interpolation animation.
func (m *Model) togglePlay() tea.Cmd {
	if m.anim.playing {
		m.pause()
		m.explain = fmt.Sprintf("paused at t=%.2f", m.lat.st.Interp.T)
		return nil
	}
	var cmd tea.Cmd
	if !m.lat.st.Interp.On {
		st := m.lat.st.Clone()
		st.Interp.On = true
		cmd = m.apply(st, m.describeInterp(st))
	}
	m.anim.playing = true
	m.anim.id++
	id := m.anim.id
	m.explain = "playing: " + m.describeInterp(m.lat.st)
	return tea.Batch(cmd, tea.Tick(animEvery, func(time.Time) tea.Msg { return animTickMsg{id} }))
}

// pause stops the animation; the t it reached becomes an undo step.
func (m *Model) pause() {
	if !m.anim.playing {
		return
	}
	m.anim.playing = false
	m.anim.id++
	if !m.lat.hist[m.lat.histPos].st.Equal(m.lat.st) {
		m.lat.hist = append(m.lat.hist[:m.lat.histPos+1], histEntry{st: m.lat.st.Clone(), explain: fmt.Sprintf("walk to t=%.2f", m.lat.st.Interp.T)})
		m.lat.histPos = len(m.lat.hist) - 1
	}
}

func (m *Model) animTick(msg animTickMsg) tea.Cmd {
	if !m.anim.playing || msg.id != m.anim.id {
		return nil
	}
	st := m.lat.st.Clone()
	t := st.Interp.T + m.anim.dir*animStep
	if t >= 1 {
		t, m.anim.dir = 1, -1
	} else if t <= 0 {
		t, m.anim.dir = 0, 1
	}
	st.Interp.T = round2(t)
	m.lat.st = st
	m.explain = "playing: " + m.describeInterp(st)
	return tea.Batch(m.requestRender(), tea.Tick(animEvery, func(time.Time) tea.Msg { return animTickMsg{msg.id} }))
}

func (m *Model) randSeed() int64 { return m.rng.Int64N(seedRange) }
