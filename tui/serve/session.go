package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/ssh"
	"github.com/muesli/termenv"
	gossh "golang.org/x/crypto/ssh"

	"stylegan-tui/checkpoints"
	"stylegan-tui/latent"
	"stylegan-tui/model"
	"stylegan-tui/tui"
)

// session is one client's explorer.
type session struct {
	id     uint64
	sess   ssh.Session
	cancel context.CancelFunc
	drop   func() // closes the connection

	mu     sync.Mutex
	out    *output
	p      *tea.Program
	reason string // why the server ended it (printed after the explorer quits)
	kind   string // why it ended, for the log: idle, shutdown, stalled client dropped
	grace  *time.Timer
	ended  bool
}

// ending records why the session ends (the first reason given stands).
func (ss *session) ending(kind string) {
	ss.mu.Lock()
	if ss.kind == "" {
		ss.kind = kind
	}
	ss.mu.Unlock()
}

// endKind is why the session ended: the reason recorded, else quit (the
// explorer ended by itself) or client left (the connection went first).
func (ss *session) endKind(clientGone bool) string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	switch {
	case ss.kind != "":
		return ss.kind
	case clientGone:
		return "client left"
	}
	return "quit"
}

// stop ends the session with a message: the explorer quits (restoring the
// terminal) and the message follows.
func (ss *session) stop(reason string) {
	ss.mu.Lock()
	if ss.reason == "" {
		ss.reason = reason
	}
	p := ss.p
	if p == nil || ss.ended {
		ss.mu.Unlock()
		ss.cancel()
		return
	}
	// Quit waits for the program's event loop, which a client that stopped
	// reading can hold up: never wait here, and cut the connection if the
	// session lingers.
	if ss.grace == nil {
		ss.grace = time.AfterFunc(stopGrace, ss.drop)
	}
	ss.mu.Unlock()
	go p.Quit()
}

// end marks the explorer finished: a pending cut-off is no longer needed.
func (ss *session) end() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.ended = true
	if ss.grace != nil {
		ss.grace.Stop()
	}
}

// stopGrace is how long a stopped session may take to quit by itself.
const stopGrace = 2 * time.Second

func (ss *session) why() string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.reason
}

// handle runs one SSH session (the only handler: wish calls it for "shell"
// and "exec" requests; subsystems and everything else are refused before).
// Its phases: admitSession, program (the session's explorer), run, finish.
func (s *Server) handle(sess ssh.Session) {
	remote := sess.RemoteAddr().String()
	pty, winCh, ok := s.admitSession(sess, remote)
	if !ok {
		return
	}
	defer s.active.Add(-1)

	ctx, cancel := context.WithCancel(sess.Context())
	defer cancel()
	ss := newSession(s.nextID.Add(1), sess, cancel)
	s.sessions.Store(ss, struct{}{})
	defer s.sessions.Delete(ss)

	name, pool := s.pool(sess.User())
	who := keyID(sess.PublicKey())
	cm := s.classMember(name, ss.id, sess) // nil: no class
	role := ""
	if cm != nil {
		role = ", " + cm.who()
	}
	s.log.printf("%s: session %d (%s%s, model %s, %s %dx%d)", remote, ss.id, who, role, name, pty.Term, pty.Window.Width, pty.Window.Height)
	start := time.Now()

	out := newOutput(ctx, sess, s.cfg.MaxOutputRate, s.cfg.WriteTimeout, ss.drop)
	ss.mu.Lock()
	ss.out = out
	ss.mu.Unlock()
	in := &activityReader{r: sess}
	in.touch()

	client := pool.NewClient()
	defer client.Close()
	m, p, err := s.program(ctx, ss, explorerParts{pty: pty, who: who, pool: pool, client: client, cm: cm, out: out, in: in})
	if err != nil {
		fmt.Fprintf(sess, "stylegan-tui: %v\r\n", err)
		sess.Exit(1)
		return
	}
	if stopped := ss.attach(p); stopped || s.closing.Load() { // Shutdown came before the program existed
		fmt.Fprint(sess, "stylegan-tui: the server is shutting down\r\n")
		sess.Exit(1)
		return
	}

	cm.start(ctx, p.Send)
	defer cm.leave()
	err = s.run(ctx, ss, m, p, winCh, in)
	s.finish(ss, remote, start, out, err)
}

// newSession is a session whose drop cuts off the connection.
func newSession(id uint64, sess ssh.Session, cancel context.CancelFunc) *session {
	ss := &session{id: id, sess: sess, cancel: cancel}
	conn, _ := sess.Context().Value(ssh.ContextKeyConn).(*gossh.ServerConn)
	ss.drop = func() { // a client that stopped reading: cut it off
		ss.ending("stalled client dropped")
		if conn != nil {
			conn.Close()
		}
		cancel()
	}
	return ss
}

// attach records the session's program; stopped reports that the session
// was stopped before it existed.
func (ss *session) attach(p *tea.Program) (stopped bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.p = p
	return ss.reason != ""
}

// explorerParts is what a session's explorer is built from.
type explorerParts struct {
	pty    ssh.Pty
	who    string // the client's key (names its save directory)
	pool   *Pool
	client *Client
	cm     *member // nil: no class
	out    *output
	in     *activityReader
}

// program builds the session's explorer (its renders through the pool, or
// the class's shared cache) and the program that runs it on the session.
func (s *Server) program(ctx context.Context, ss *session, x explorerParts) (*tui.Model, *tea.Program, error) {
	env := sessionEnv{term: x.pty.Term, env: ss.sess.Environ()}
	var sshPty func() tui.PtySize
	if px := pixelsOf(ss.sess); px != nil {
		sshPty = px.get
	}
	saveDir := s.saveDir(ss.id, x.who)
	m, err := tui.New(tui.Options{
		Model:    modelOf(x.pool),
		Graphics: s.cfg.Graphics,
		Env:      func(string) string { return "" }, // never the server's TMUX
		Width:    x.pty.Window.Width,
		Height:   x.pty.Window.Height,
		SaveDir:  saveDir, // the explorer names saved files relative to it
		NoSave:   saveDir == "",
		SSHPty:   sshPty,
		Raw:      x.out,
		Render:   sessionRender(ctx, x.client, x.cm),
		Renderer: lipgloss.NewRenderer(x.out, termenv.WithEnvironment(env), termenv.WithTTY(true), termenv.WithUnsafe()),
		// Encoding is per session but bounded like the renders.
		EncodeSlots: s.encodeSlots,
		Class:       x.cm.link(), ClassRole: x.cm.role(), Encodes: x.cm.sharedEncodes(),
	})
	if err != nil {
		return nil, nil, err
	}
	p := tea.NewProgram(m,
		tea.WithInput(x.in), tea.WithOutput(x.out),
		tea.WithAltScreen(), tea.WithFPS(120),
		tea.WithContext(ctx),
		tea.WithoutSignalHandler(), // SIGTERM belongs to the server
		tea.WithEnvironment(env.Environ()))
	return m, p, nil
}

// saveDir is the client's directory under --out, "" when saving is off
// (--no-save, or the directory cannot be made).
func (s *Server) saveDir(id uint64, who string) string {
	if s.cfg.NoSave {
		return ""
	}
	dir := filepath.Join(s.cfg.OutDir, who)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.log.printf("session %d: %v (saving disabled)", id, err)
		return ""
	}
	return dir
}

// sessionRender is the explorer's render hook: through the session's pool
// client, or the class's cache, cancelled when the session ends.
func sessionRender(ctx context.Context, client *Client, cm *member) func(context.Context, latent.State, func(*image.RGBA)) (*image.RGBA, model.Stats, error) {
	return func(rctx context.Context, st latent.State, preview func(*image.RGBA)) (*image.RGBA, model.Stats, error) {
		// The request ends with the session too.
		rctx, stop := context.WithCancel(rctx)
		defer stop()
		defer context.AfterFunc(ctx, stop)()
		if cm != nil && classShares { // a class: one render of a state for all
			return cm.cls.cache.render(rctx, client, st, preview)
		}
		return client.Render(rctx, st, preview)
	}
}

// run runs the explorer until it quits or the session ends, handing it the
// client's window changes and stopping it when idle (--idle-timeout). The
// error is nil for an ordinary end (quit, killed, cancelled).
func (s *Server) run(ctx context.Context, ss *session, m *tui.Model, p *tea.Program, winCh <-chan ssh.Window, in *activityReader) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); forwardWindow(ctx, winCh, p) }()
	if s.cfg.IdleTimeout > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); watchIdle(ctx, in, ss, s.cfg.IdleTimeout) }()
	}

	_, err := p.Run()
	ss.end()
	p.Kill() // restores the terminal if Run ended abnormally
	ss.cancel()
	m.Close()
	wg.Wait()
	switch {
	case err == nil, errors.Is(err, tea.ErrProgramKilled), errors.Is(err, context.Canceled):
		err = nil
	}
	if err == nil && ss.sess.Context().Err() == nil {
		// A recording running at q: where it went (the screen is gone).
		for _, n := range m.ExitNotes() {
			ss.out.final("stylegan-tui: " + n + "\r\n")
		}
	}
	return err
}

// finish tells a client still there why the session ended, logs the end
// and exits the session (1 after an error).
func (s *Server) finish(ss *session, remote string, start time.Time, out *output, err error) {
	sess := ss.sess
	if why := ss.why(); why != "" && sess.Context().Err() == nil {
		out.final(why + "\r\n")
	} else if err != nil && sess.Context().Err() == nil {
		out.final(fmt.Sprintf("stylegan-tui: %v\r\n", oneLine(err.Error())))
	}
	s.log.printf("%s: session %d ended (%s) after %v, %d bytes out%s", remote, ss.id, ss.endKind(sess.Context().Err() != nil), time.Since(start).Round(time.Second), out.written(), errSuffix(err))
	if err != nil {
		sess.Exit(1)
		return
	}
	sess.Exit(0)
}

// admitSession decides whether a session may open: only an explorer (no exec
// command), in a terminal, while the server is not shutting down and has
// room (--max-sessions). On refusal it tells the client why, exits the
// session and returns ok false; otherwise the session counts as active
// (the caller releases s.active).
func (s *Server) admitSession(sess ssh.Session, remote string) (pty ssh.Pty, winCh <-chan ssh.Window, ok bool) {
	if cc, ok := sess.Context().Value(connKey{}).(*admittedConn); ok {
		cc.sessionStarted()
	}
	refuse := func(w io.Writer, msg string) (ssh.Pty, <-chan ssh.Window, bool) {
		fmt.Fprint(w, msg)
		sess.Exit(1)
		return ssh.Pty{}, nil, false
	}
	if cmd := sess.RawCommand(); cmd != "" {
		s.log.printf("%s: exec %q refused", remote, cmd)
		return refuse(sess.Stderr(), "stylegan-tui: this server runs only the explorer; commands are not accepted (connect with plain ssh -t)\r\n")
	}
	pty, winCh, isPty := sess.Pty()
	if !isPty {
		s.log.printf("%s: session refused (no terminal: ssh -T)", remote)
		return refuse(sess.Stderr(), "stylegan-tui: the explorer needs a terminal: connect with ssh -t\r\n")
	}
	if s.closing.Load() {
		return refuse(sess, "stylegan-tui: the server is shutting down\r\n")
	}
	if n := s.active.Add(1); n > int64(s.cfg.MaxSessions) {
		s.active.Add(-1)
		s.log.printf("%s: session refused (server full: %d sessions open, --max-sessions)", remote, n-1)
		return refuse(sess, fmt.Sprintf("stylegan-tui: the server is full (%d sessions); try again later\r\n", s.cfg.MaxSessions))
	}
	return pty, winCh, true
}

// forwardWindow hands the client's window changes to the explorer until
// ctx ends (the channel must be drained).
func forwardWindow(ctx context.Context, winCh <-chan ssh.Window, p *tea.Program) {
	for {
		select {
		case w, ok := <-winCh:
			if !ok {
				return
			}
			if w.Width <= 0 || w.Height <= 0 {
				// A client with no terminal of its own (ssh -tt from a
				// pipe) reports 0x0: keep the explorer's default.
				continue
			}
			p.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
		case <-ctx.Done():
			return
		}
	}
}

// watchIdle ends the session with a message once no key came for timeout.
func watchIdle(ctx context.Context, in *activityReader, ss *session, timeout time.Duration) {
	t := time.NewTicker(min(timeout/4, 5*time.Second))
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if in.idle() >= timeout {
				ss.ending("idle")
				ss.stop(fmt.Sprintf("stylegan-tui: no key for %v: session closed", timeout))
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return ": " + oneLine(err.Error())
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// modelOf is the checkpoint a pool renders.
func modelOf(p *Pool) *checkpoints.Checkpoint { return p.model }

// keyID names a client for its save directory: the key's fingerprint (never
// anything the client typed), or "anonymous".
func keyID(k ssh.PublicKey) string {
	if k == nil {
		return "anonymous"
	}
	h := sha256.Sum256(k.Marshal())
	return "key-" + hex.EncodeToString(h[:6])
}

// sessionEnv is the client's terminal as termenv sees it: TERM from the pty
// request, COLORTERM if the client sent it.
type sessionEnv struct {
	term string
	env  []string
}

func (e sessionEnv) Environ() []string {
	out := []string{"TERM=" + e.term}
	if v := e.Getenv("COLORTERM"); v != "" {
		out = append(out, "COLORTERM="+v)
	}
	return out
}

func (e sessionEnv) Getenv(k string) string {
	if k == "TERM" {
		return e.term
	}
	if k != "COLORTERM" {
		return ""
	}
	for _, kv := range e.env {
		if v, ok := strings.CutPrefix(kv, k+"="); ok {
			return v
		}
	}
	return ""
}

// activityReader records when input last arrived.
type activityReader struct {
	r    io.Reader
	last atomic.Int64
}

func (a *activityReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.touch()
	}
	return n, err
}

func (a *activityReader) touch() { a.last.Store(time.Now().UnixNano()) }

func (a *activityReader) idle() time.Duration {
	return time.Since(time.Unix(0, a.last.Load()))
}
