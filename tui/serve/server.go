// Package serve serves the StyleGAN explorer (package tui) over SSH with
// charmbracelet/wish: every session gets its own explorer model, bubbletea
// program, latent state and lipgloss renderer, and detects the client's
// graphics (sixel or half-blocks) in-band; all sessions share one loaded
// model through a bounded, round-robin render pool.
//
// A session is the explorer and nothing else: no shell, exec, subsystems,
// port forwarding or file access (README, "Serving over SSH" and
// "Terminals").
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	gossh "golang.org/x/crypto/ssh"

	"stylegan-tui/checkpoints"
)

// Config configures a Server.
type Config struct {
	// Models are the generators offered; the SSH user name picks one by
	// name (ssh -p 2222 NAME@host), anything else gets the first.
	Models []NamedModel
	// AuthorizedKeys is an OpenSSH authorized_keys file: only its keys get
	// in (it is read again when it changes). AllowAnyone admits every
	// client instead.
	AuthorizedKeys string
	AllowAnyone    bool
	// TeacherKeys is an authorized_keys file of teachers (they get in
	// too): with it, the sessions of each model are a class (class.go), in
	// which a teacher's F broadcasts to the students. "" = no class.
	TeacherKeys string
	// StateDir holds the host key (generated on first start).
	StateDir string
	// OutDir is where the save key writes (one sub-directory per client
	// key, names chosen by the server); NoSave disables saving.
	OutDir string
	NoSave bool
	// MaxSessions limits concurrent sessions (0 = 32).
	MaxSessions int
	// IdleTimeout ends a session with no input for this long (0 = never).
	IdleTimeout time.Duration
	// MaxOutputRate limits each session's output in bytes a second (0 =
	// unlimited).
	MaxOutputRate int64
	// WriteTimeout drops a client that takes longer than this to accept
	// one write (a client that never reads); 0 = 30 s.
	WriteTimeout time.Duration
	// Workers is the number of generators rendering for all sessions, and
	// of the sessions' image encodings running at once (0 = the number of
	// CPUs).
	Workers int
	// Graphics is the explorer's graphics mode ("" = auto).
	Graphics string
	// Log receives one line per connection event (nil = discard).
	Log io.Writer
}

// NamedModel is a model offered under a name.
type NamedModel struct {
	Name  string
	Model *checkpoints.Checkpoint
}

// Server is an SSH server of the explorer.
type Server struct {
	cfg   Config
	srv   *ssh.Server
	fp    string
	newHK bool
	pools map[string]*Pool
	names []string
	log   *logger
	// encodeSlots bounds the sessions' image encodings to Workers at once.
	encodeSlots chan struct{}
	adm         *admission        // who may start a handshake (admit.go)
	teachers    *keyFile          // --teacher-keys (nil: none)
	classes     map[string]*class // per model name, with teachers

	keysMu   sync.Mutex
	keys     []gossh.PublicKey
	keysMod  time.Time
	sessions sync.Map // *session -> struct{}
	active   atomic.Int64
	closing  atomic.Bool
	nextID   atomic.Uint64

	lnMu sync.Mutex
	ln   net.Listener
}

// DefaultStateDir is the state directory under the user's config directory.
func DefaultStateDir() string {
	d, err := os.UserConfigDir()
	if err != nil {
		d = "."
	}
	return filepath.Join(d, "stylegan-tui", "serve")
}

// New checks cfg, loads (or creates) the host key and starts the render
// pools. It does not listen yet.
func New(cfg Config) (*Server, error) {
	if len(cfg.Models) == 0 {
		return nil, errors.New("serve: no model")
	}
	if cfg.StateDir == "" {
		cfg.StateDir = DefaultStateDir()
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 32
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if !cfg.NoSave && cfg.OutDir == "" {
		return nil, errors.New("serve: no output directory (or disable saving)")
	}
	s := &Server{cfg: cfg, pools: map[string]*Pool{}, log: &logger{w: cfg.Log}, encodeSlots: make(chan struct{}, cfg.Workers)}
	s.adm = newAdmission(cfg.MaxSessions, s.log)
	if cfg.TeacherKeys != "" {
		t, err := newKeyFile(cfg.TeacherKeys, "--teacher-keys", s.log)
		if err != nil {
			return nil, err
		}
		s.teachers, s.classes = t, map[string]*class{}
	}
	if !cfg.AllowAnyone {
		if cfg.AuthorizedKeys == "" {
			return nil, errors.New("serve: no authorized keys file (or allow anyone explicitly)")
		}
		keys, err := readAuthorizedKeys(cfg.AuthorizedKeys)
		if err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			return nil, fmt.Errorf("serve: %s lists no keys", cfg.AuthorizedKeys)
		}
		s.keys = keys
		if fi, err := os.Stat(cfg.AuthorizedKeys); err == nil {
			s.keysMod = fi.ModTime()
		}
	}
	signer, created, err := loadHostKey(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	s.fp, s.newHK = gossh.FingerprintSHA256(signer.PublicKey()), created

	for _, nm := range cfg.Models {
		if _, dup := s.pools[nm.Name]; dup {
			return nil, fmt.Errorf("serve: two models named %q", nm.Name)
		}
		p, err := NewPool(nm.Model, cfg.Workers)
		if err != nil {
			s.closePools()
			return nil, err
		}
		s.pools[nm.Name] = p
		s.names = append(s.names, nm.Name)
		if s.classes != nil {
			s.classes[nm.Name] = newClass(nm.Name, s.log)
		}
	}

	opts := []ssh.Option{
		wish.WithVersion("stylegan-tui"),
		func(srv *ssh.Server) error { srv.AddHostKey(signer); return nil },
		wish.WithMiddleware(func(ssh.Handler) ssh.Handler { return s.handle }),
		// A connection with no traffic at all outlives the session idle
		// limit by a minute (that limit, on keys, ends sessions first).
		wish.WithIdleTimeout(idleConn(cfg.IdleTimeout)),
		func(srv *ssh.Server) error {
			srv.ConnCallback = s.admit
			// Only "session" channels exist (no direct-tcpip), no global
			// requests (no tcpip-forward), no subsystems (no sftp):
			// set explicitly so nothing from the defaults slips in.
			// The session handler is the default one that also keeps the
			// pty's pixel size (ptypixels.go).
			srv.ChannelHandlers = map[string]ssh.ChannelHandler{"session": sessionHandler}
			srv.RequestHandlers = map[string]ssh.RequestHandler{}
			srv.SubsystemHandlers = map[string]ssh.SubsystemHandler{}
			srv.LocalPortForwardingCallback = nil
			srv.ReversePortForwardingCallback = nil
			srv.SessionRequestCallback = func(sess ssh.Session, typ string) bool {
				return typ == "shell" || typ == "exec" // exec is answered with a refusal
			}
			return nil
		},
	}
	if cfg.AllowAnyone {
		opts = append(opts,
			// "none" too: a client without any key gets in as well.
			func(srv *ssh.Server) error {
				srv.ServerConfigCallback = func(ssh.Context) *gossh.ServerConfig { return &gossh.ServerConfig{NoClientAuth: true} }
				return nil
			},
			wish.WithPublicKeyAuth(func(ssh.Context, ssh.PublicKey) bool { return true }),
			wish.WithKeyboardInteractiveAuth(func(ssh.Context, gossh.KeyboardInteractiveChallenge) bool { return true }))
	} else {
		opts = append(opts, wish.WithPublicKeyAuth(s.authorized))
	}
	srv, err := wish.NewServer(opts...)
	if err != nil {
		s.closePools()
		return nil, fmt.Errorf("serve: %w", err)
	}
	s.srv = srv
	return s, nil
}

// Fingerprint is the host key's SHA256 fingerprint (as ssh shows it).
func (s *Server) Fingerprint() string { return s.fp }

// NewHostKey reports whether New generated the host key.
func (s *Server) NewHostKey() bool { return s.newHK }

// HostKeyPath is where the host key lives.
func (s *Server) HostKeyPath() string { return filepath.Join(s.cfg.StateDir, HostKeyFile) }

// Models lists the model names offered.
func (s *Server) Models() []string { return append([]string(nil), s.names...) }

// Listen opens the TCP listener on addr.
func (s *Server) Listen(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	s.lnMu.Lock()
	s.ln = ln
	s.lnMu.Unlock()
	return ln.Addr(), nil
}

// Serve accepts connections on the listener opened by Listen until
// Shutdown; it returns nil after a shutdown.
func (s *Server) Serve() error {
	s.lnMu.Lock()
	ln := s.ln
	s.lnMu.Unlock()
	if ln == nil {
		return errors.New("serve: Serve before Listen")
	}
	err := s.srv.Serve(ln)
	if errors.Is(err, ssh.ErrServerClosed) || s.closing.Load() {
		return nil
	}
	return err
}

// Sessions is the number of sessions open now.
func (s *Server) Sessions() int { return int(s.active.Load()) }

// Shutdown stops accepting connections, ends every session with msg (the
// explorer quits, the terminal is restored, msg is printed; a session
// stuck on a client that does not read is cut off after a grace period),
// waits for the sessions to end until ctx is done, then closes every
// connection and the render pools.
func (s *Server) Shutdown(ctx context.Context, msg string) error {
	s.closing.Store(true)
	s.lnMu.Lock()
	if s.ln != nil {
		s.ln.Close()
	}
	s.lnMu.Unlock()
	s.adm.close()
	s.sessions.Range(func(k, _ any) bool {
		k.(*session).ending("shutdown")
		k.(*session).stop(msg)
		return true
	})
	var err error
	for s.active.Load() > 0 && err == nil {
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	s.srv.Close()
	s.closePools()
	return err
}

func (s *Server) closePools() {
	for _, p := range s.pools {
		p.Close()
	}
}

// authorized checks a client key against the authorized_keys file,
// re-reading it when it changed (a teacher adds a student without a
// restart), and the teachers' keys.
func (s *Server) authorized(ctx ssh.Context, key ssh.PublicKey) bool {
	if s.teachers.has(key) {
		return true
	}
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	if fi, err := os.Stat(s.cfg.AuthorizedKeys); err == nil && !fi.ModTime().Equal(s.keysMod) {
		if keys, err := readAuthorizedKeys(s.cfg.AuthorizedKeys); err == nil {
			s.keys, s.keysMod = keys, fi.ModTime()
		} else {
			s.log.printf("authorized keys: %v (keeping the previous list)", err)
		}
	}
	for _, k := range s.keys {
		if ssh.KeysEqual(k, key) {
			return true
		}
	}
	s.log.printf("%s: key %s refused", ctx.RemoteAddr(), gossh.FingerprintSHA256(key))
	if ac, ok := ctx.Value(connKey{}).(*admittedConn); ok {
		ac.authFailed.Store(true)
	}
	return false
}

// sessionWithin is how long a connection has to open its explorer session
// (handshake and authentication included).
var sessionWithin = 30 * time.Second

// connKey finds a connection's *admittedConn in its context.
type connKey struct{}

// idleConn is the connection-level idle time-out for a session idle limit.
func idleConn(sessionIdle time.Duration) time.Duration {
	if sessionIdle <= 0 {
		return 0
	}
	return sessionIdle + time.Minute
}

// pool picks the model for a user name.
func (s *Server) pool(user string) (string, *Pool) {
	if p, ok := s.pools[user]; ok {
		return user, p
	}
	return s.names[0], s.pools[s.names[0]]
}

// modelList is the names for messages.
func (s *Server) modelList() string {
	n := append([]string(nil), s.names...)
	sort.Strings(n)
	return strings.Join(n, ", ")
}

type logger struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *logger) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
