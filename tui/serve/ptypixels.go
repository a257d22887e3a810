package serve

import (
	"encoding/binary"
	"sync"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"

	"stylegan-tui/tui"
)

// OpenSSH sends its terminal's size in pixels (its own TIOCGWINSZ) in the
// pty request and in every window change (RFC 4254 6.2, 6.7). The
// explorer needs it when the terminal will not say its cell size in-band
// (stock xterm), but charmbracelet/ssh parses only the columns and rows. So
// the session channel's requests are read on their way to it.

// ptyPixels is a session's last pty size, pixels included.
type ptyPixels struct {
	mu   sync.Mutex
	size tui.PtySize
}

func (p *ptyPixels) get() tui.PtySize {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.size
}

func (p *ptyPixels) set(s tui.PtySize) {
	p.mu.Lock()
	p.size = s
	p.mu.Unlock()
}

// pixelsKey finds a session's *ptyPixels in its context.
type pixelsKey struct{}

// pixelsOf returns the pixel record of a session (nil if it has none).
func pixelsOf(sess ssh.Session) *ptyPixels {
	p, _ := sess.Context().Value(pixelsKey{}).(*ptyPixels)
	return p
}

// sessionHandler is ssh.DefaultSessionHandler with the channel's pty
// requests and window changes read for their pixel sizes first.
func sessionHandler(srv *ssh.Server, conn *gossh.ServerConn, newChan gossh.NewChannel, ctx ssh.Context) {
	px := &ptyPixels{}
	ssh.DefaultSessionHandler(srv, conn, pixelChannel{NewChannel: newChan, px: px}, pixelContext{Context: ctx, px: px})
}

// pixelContext is a session's context: the connection's, plus its pixels
// (a connection may carry several sessions, each with its own pty).
type pixelContext struct {
	ssh.Context
	px *ptyPixels
}

func (c pixelContext) Value(key any) any {
	if key == (pixelsKey{}) {
		return c.px
	}
	return c.Context.Value(key)
}

// pixelChannel is a new session channel whose requests pass through
// readPixels.
type pixelChannel struct {
	gossh.NewChannel
	px *ptyPixels
}

func (c pixelChannel) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	ch, reqs, err := c.NewChannel.Accept()
	if err != nil {
		return ch, reqs, err
	}
	out := make(chan *gossh.Request)
	go func() {
		defer close(out)
		for r := range reqs {
			if s, ok := parsePtyPixels(r.Type, r.Payload); ok {
				c.px.set(s)
			}
			out <- r
		}
	}()
	return ch, out, nil
}

// parsePtyPixels reads the size from a "pty-req" (string TERM, then uint32
// columns, rows, width and height in pixels) or a "window-change" (the four
// uint32s alone) payload.
func parsePtyPixels(typ string, p []byte) (tui.PtySize, bool) {
	switch typ {
	case "pty-req":
		if len(p) < 4 {
			return tui.PtySize{}, false
		}
		n := binary.BigEndian.Uint32(p)
		if uint64(len(p)) < 4+uint64(n) {
			return tui.PtySize{}, false
		}
		p = p[4+n:]
	case "window-change":
	default:
		return tui.PtySize{}, false
	}
	if len(p) < 16 {
		return tui.PtySize{}, false
	}
	u := func(i int) int { return int(min(binary.BigEndian.Uint32(p[4*i:]), 1<<20)) }
	return tui.PtySize{Cols: u(0), Rows: u(1), Width: u(2), Height: u(3)}, true
}
