package serve

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/ssh"
)

// Admission: which connections may start an SSH handshake, for a class that
// sits behind one NAT address. OpenSSH bounds unauthenticated connections
// with MaxStartups (start:rate:full, random early drop between start and
// full) and PerSourceMaxStartups, and PerSourcePenalties refuses an address
// whose connections misbehave. Refusing an address would refuse the whole
// room behind it, so here:
//
//   - A connection first waits in the lobby until it sends its SSH version
//     line (a real client sends it at once). Silent connections are the
//     flood's: past a source's share of the lobby, a new connection evicts
//     that source's oldest connection silent for over a second; a client
//     that has spoken is never evicted. Nobody is refused until the whole
//     lobby is full of connections younger than a second.
//   - Connections that spoke take part in the handshake under MaxStartups'
//     random early drop, whose start is --max-sessions: a room logging in at
//     once is never dropped.
//   - Penalties accumulate per source as OpenSSH's do (a silent connection
//     1 s, a failed key 5 s, no session within the grace time 10 s; over 15 s
//     the source is penalized, for at most 10 min), but cost the source only
//     patience with its silent connections (2 s instead of 10 s, 8 lobby
//     places before evicting instead of 2·--max-sessions), never a client
//     that speaks SSH.

// Admission limits and times (variables: tests shorten them).
var (
	bannerWithin   = 10 * time.Second // for the version line
	bannerPenalty  = 2 * time.Second  // ... from a penalized source
	staleAfter     = time.Second      // a silent connection this old may be evicted
	penaltyMin     = 15 * time.Second
	penaltyMax     = 10 * time.Minute
	penaltySilent  = time.Second
	penaltyAuth    = 5 * time.Second
	penaltyGrace   = 10 * time.Second
	lobbyPenalized = 8
)

// limits are the admission's bounds for a server of maxSessions sessions.
type limits struct {
	lobbySoft  int // per source: past it, its stale connections are evicted
	lobbySrc   int // per source: at most (when nothing is stale)
	lobbyAll   int // in all
	start      int // MaxStartups start:rate:full, handshakes under way
	rate       int // percent dropped at start
	full       int
	perSource  int // PerSourceMaxStartups
	perSrcKeep int // penalty records kept
}

func limitsFor(maxSessions int) limits {
	return limits{
		lobbySoft: 2 * maxSessions, lobbySrc: 3 * maxSessions, lobbyAll: 4*maxSessions + 64,
		start: maxSessions, rate: 30, full: 2*maxSessions + 8,
		perSource: maxSessions + 8, perSrcKeep: 4096,
	}
}

type admission struct {
	lim limits
	log *logger
	now func() time.Time

	mu        sync.Mutex
	closed    bool
	lobby     map[string][]*lobbyConn // per source, oldest first
	inLobby   int
	startups  map[string]int
	nStartups int
	pen       map[string]*penalty
	rng       *rand.Rand
	quiet     map[string]*logCount // log lines held back per (source, event)
}

type lobbyConn struct {
	c       net.Conn
	since   time.Time
	evicted atomic.Bool
}

type penalty struct {
	until time.Time
	on    bool
}

type logCount struct {
	last time.Time
	n    int
}

func newAdmission(maxSessions int, log *logger) *admission {
	return &admission{lim: limitsFor(maxSessions), log: log, now: time.Now,
		lobby: map[string][]*lobbyConn{}, startups: map[string]int{}, pen: map[string]*penalty{},
		rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x5eed)), quiet: map[string]*logCount{}}
}

// source is the address a connection comes from (its IP).
func source(c net.Conn) string {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	h, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return c.RemoteAddr().String()
	}
	return h
}

// admit is the server's ConnCallback: the lobby, then MaxStartups. It runs
// on the connection's own goroutine; nil closes the connection.
func (s *Server) admit(ctx ssh.Context, c net.Conn) net.Conn {
	a := s.adm
	src := source(c)
	if s.closing.Load() {
		return nil
	}
	lc, within, ok := a.enter(src, c)
	if !ok {
		return nil
	}
	line, err := readVersion(c, within)
	a.leave(src, lc)
	if err != nil {
		if lc.evicted.Load() {
			return nil // logged by enter
		}
		a.penalize(src, penaltySilent, "silent")
		a.note(src, "silent", "%s: closed: %v", src, err)
		return nil
	}
	if why := a.startup(src); why != "" {
		a.note(src, "drop", "%s: dropped: %s", src, why)
		return nil
	}
	ac := &admittedConn{Conn: c, adm: a, src: src, pre: line, skip: []byte(serverVersion + "\r\n")}
	ac.guard.Store(time.AfterFunc(sessionWithin, func() {
		if ac.started.Load() {
			return
		}
		a.penalize(src, penaltyGrace, "grace-exceeded")
		a.note(src, "grace", "%s: closed: no session within %v", src, sessionWithin)
		ac.Close()
	}))
	ctx.SetValue(connKey{}, ac)
	return ac
}

// serverVersion is the version line the server sends (wish.WithVersion).
const serverVersion = "SSH-2.0-stylegan-tui"

// readVersion sends the server's version line and reads the client's (RFC
// 4253 4.2: the client sends it first thing, at most 255 bytes with CR LF);
// it returns everything read, to be replayed to the SSH server.
func readVersion(c net.Conn, within time.Duration) ([]byte, error) {
	c.SetWriteDeadline(time.Now().Add(within))
	if _, err := c.Write([]byte(serverVersion + "\r\n")); err != nil {
		return nil, fmt.Errorf("writing the version line: %w", err)
	}
	c.SetWriteDeadline(time.Time{})
	c.SetReadDeadline(time.Now().Add(within))
	defer c.SetReadDeadline(time.Time{})
	buf := make([]byte, 0, 512)
	tmp := make([]byte, 512)
	for {
		n, err := c.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if len(buf) >= 4 && !bytes.HasPrefix(buf, []byte("SSH-")) || len(buf) < 4 && !bytes.HasPrefix([]byte("SSH-"), buf) {
			return nil, fmt.Errorf("not SSH (%q)", clip(buf, 16))
		}
		if bytes.IndexByte(buf, '\n') >= 0 {
			return buf, nil
		}
		if len(buf) > 255 {
			return nil, fmt.Errorf("a version line over 255 bytes")
		}
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return nil, fmt.Errorf("no SSH version line in %v", within)
			}
			return nil, fmt.Errorf("left silent: %v", err)
		}
	}
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// enter puts a connection in the lobby, evicting a stale one of the
// fullest source (its own first) when there is no room; ok is false when it
// is refused. within is how long it may stay silent.
func (a *admission) enter(src string, c net.Conn) (lc *lobbyConn, within time.Duration, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, 0, false
	}
	now := a.now()
	pen := a.penalizedLocked(src, now)
	soft, within := a.lim.lobbySoft, bannerWithin
	if pen {
		soft, within = lobbyPenalized, bannerPenalty
	}
	within = min(within, sessionWithin)
	mine := a.lobby[src]
	if len(mine) >= soft || a.inLobby >= a.lim.lobbyAll {
		from := src
		if len(mine) < soft {
			from = a.fullestLocked()
		}
		if v := a.staleLocked(from, now); v != nil {
			v.evicted.Store(true)
			v.c.Close()
			a.penalizeLocked(from, penaltySilent, now)
			a.noteLocked(from, "evict", now, "%s: evicted a connection silent for %v (%d waiting for their version line)",
				from, now.Sub(v.since).Round(time.Millisecond), len(a.lobby[from]))
		} else if a.inLobby >= a.lim.lobbyAll || len(mine) >= a.lim.lobbySrc {
			a.noteLocked(src, "full", now, "%s: refused: %d connections wait for their version line, none silent for %v", src, a.inLobby, staleAfter)
			return nil, 0, false
		}
	}
	lc = &lobbyConn{c: c, since: now}
	a.lobby[src] = append(a.lobby[src], lc)
	a.inLobby++
	return lc, within, true
}

// staleLocked is src's oldest connection silent for staleAfter, if any.
func (a *admission) staleLocked(src string, now time.Time) *lobbyConn {
	for _, lc := range a.lobby[src] {
		if lc.evicted.Load() {
			continue
		}
		if now.Sub(lc.since) >= staleAfter {
			return lc
		}
		return nil // the rest are younger
	}
	return nil
}

// fullestLocked is the source with the most connections in the lobby.
func (a *admission) fullestLocked() string {
	best, n := "", -1
	for s, l := range a.lobby {
		if len(l) > n {
			best, n = s, len(l)
		}
	}
	return best
}

// leave takes a connection out of the lobby.
func (a *admission) leave(src string, lc *lobbyConn) {
	a.mu.Lock()
	defer a.mu.Unlock()
	l := a.lobby[src]
	for i, x := range l {
		if x == lc {
			a.lobby[src] = append(l[:i:i], l[i+1:]...)
			a.inLobby--
			break
		}
	}
	if len(a.lobby[src]) == 0 {
		delete(a.lobby, src)
	}
}

// startup admits a handshake: PerSourceMaxStartups, then MaxStartups with
// random early drop. It returns why not, or "".
func (a *admission) startup(src string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	n, l := a.nStartups, a.lim
	switch {
	case a.closed:
		return "shutting down"
	case a.startups[src] >= l.perSource:
		return fmt.Sprintf("%d handshakes from it under way (PerSourceMaxStartups %d)", a.startups[src], l.perSource)
	case n >= l.full:
		return fmt.Sprintf("%d handshakes under way (MaxStartups %d:%d:%d)", n, l.start, l.rate, l.full)
	case n >= l.start:
		if p := l.rate + (100-l.rate)*(n-l.start)/(l.full-l.start); a.rng.IntN(100) < p {
			return fmt.Sprintf("%d handshakes under way: random early drop, p=%d%% (MaxStartups %d:%d:%d)", n, p, l.start, l.rate, l.full)
		}
	}
	a.startups[src]++
	a.nStartups++
	return ""
}

// done ends a handshake's place (its session started, or it closed).
func (a *admission) done(src string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.nStartups--
	if a.startups[src]--; a.startups[src] <= 0 {
		delete(a.startups, src)
	}
}

// close refuses everything from now on and closes the lobby.
func (a *admission) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	for _, l := range a.lobby {
		for _, lc := range l {
			lc.evicted.Store(true)
			lc.c.Close()
		}
	}
}

func (a *admission) penalize(src string, d time.Duration, why string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if a.penalizeLocked(src, d, now) {
		a.log.printf("%s: penalized (%s and more) for %v: its silent connections get %v and %d lobby places; clients that speak SSH are not affected",
			src, why, a.pen[src].until.Sub(now).Round(time.Second), bannerPenalty, lobbyPenalized)
	}
}

// penalizeLocked adds d to src's penalty; true when that turns it on.
func (a *admission) penalizeLocked(src string, d time.Duration, now time.Time) bool {
	p := a.pen[src]
	if p == nil || !now.Before(p.until) {
		if len(a.pen) >= a.lim.perSrcKeep {
			for s, q := range a.pen {
				if !now.Before(q.until) {
					delete(a.pen, s)
				}
			}
			if len(a.pen) >= a.lim.perSrcKeep {
				return false
			}
		}
		p = &penalty{until: now}
		a.pen[src] = p
	}
	p.until = p.until.Add(d)
	if p.until.Sub(now) > penaltyMax {
		p.until = now.Add(penaltyMax)
	}
	if !p.on && p.until.Sub(now) >= penaltyMin {
		p.on = true
		return true
	}
	return false
}

func (a *admission) penalizedLocked(src string, now time.Time) bool {
	p := a.pen[src]
	return p != nil && p.on && now.Before(p.until)
}

// note logs an admission event, at most one line per source and event a
// few seconds (a flood would fill the log), saying how many were held back.
func (a *admission) note(src, event, format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.noteLocked(src, event, a.now(), format, args...)
}

func (a *admission) noteLocked(src, event string, now time.Time, format string, args ...any) {
	k := src + " " + event
	q := a.quiet[k]
	if q != nil && now.Sub(q.last) < 5*time.Second {
		q.n++
		return
	}
	if len(a.quiet) > 4096 {
		clear(a.quiet)
	}
	msg := fmt.Sprintf(format, args...)
	if q != nil && q.n > 0 {
		msg += fmt.Sprintf(" (and %d more like it in %v)", q.n, now.Sub(q.last).Round(time.Second))
	}
	a.quiet[k] = &logCount{last: now}
	a.log.printf("%s", msg)
}

// admittedConn is a connection past the lobby: the bytes read there are
// read again first, and the SSH server's version line (sent already) is
// not sent twice. It holds a handshake place until its session starts or
// it closes, and is closed if no session starts within sessionWithin.
type admittedConn struct {
	net.Conn
	adm        *admission
	src        string
	pre        []byte // read by Read only
	skip       []byte // written by Write only
	guard      atomic.Pointer[time.Timer]
	started    atomic.Bool
	authFailed atomic.Bool
	once       sync.Once
	release    sync.Once
}

func (c *admittedConn) Read(p []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(p, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

func (c *admittedConn) Write(p []byte) (int, error) {
	if c.skip != nil {
		skip := c.skip
		c.skip = nil
		if bytes.HasPrefix(p, skip) {
			if len(p) == len(skip) {
				return len(p), nil
			}
			n, err := c.Conn.Write(p[len(skip):])
			return n + len(skip), err
		}
	}
	return c.Conn.Write(p)
}

// sessionStarted frees the handshake place and disarms the grace timer.
func (c *admittedConn) sessionStarted() {
	c.started.Store(true)
	if t := c.guard.Load(); t != nil {
		t.Stop()
	}
	c.release.Do(func() { c.adm.done(c.src) })
}

func (c *admittedConn) Close() error {
	c.once.Do(func() {
		if t := c.guard.Load(); t != nil {
			t.Stop()
		}
		if !c.started.Load() && c.authFailed.Load() {
			c.adm.penalize(c.src, penaltyAuth, "authfail")
		}
		c.release.Do(func() { c.adm.done(c.src) })
	})
	return c.Conn.Close()
}
