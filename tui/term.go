package tui

import (
	"encoding/base64"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"stylegan-tui/render"
)

// Terminal queries, sent in one write with DA1 last (every terminal answers
// DA1, so its reply is the sentinel that the others have had their chance):
// CSI 16 t (cell size in pixels), CSI 14 t (text area in pixels),
// XTSMGRAPHICS (the largest sixel image), OSC 11 (the background colour),
// DA1. xterm answers the first two only with allowWindowOps, which is off by
// default; see cellSize for what stands in for them.
const (
	queryCellSize = "\x1b[16t"
	queryAreaSize = "\x1b[14t"
	queryGfxSize  = "\x1b[?2;1;0S"
	queryBg       = "\x1b]11;?\x07"
	queryDA1      = "\x1b[c"
)

// detectTimeout is how long auto mode waits for the DA1 reply before it falls
// back to half-blocks (a terminal that never answers). Every terminal answers
// DA1, usually within milliseconds; the margin is for SSH round trips on a
// loaded server (600 ms was missed under load).
const detectTimeout = 1500 * time.Millisecond

// The cell size the layout assumes until the terminal has answered (no
// image is drawn before: the mode is not known yet).
const defaultCellW, defaultCellH = 10, 20

// detectTimeoutMsg ends the wait for the terminal's replies.
type detectTimeoutMsg struct{}

// termReply is one reply to a terminal query.
type termReply struct {
	kind         byte // 'c' DA1, 't' cell size, 'T' text area, 'S' XTSMGRAPHICS
	sixel        bool // DA1 lists 4 (sixel graphics)
	cellW, cellH int  // CSI 6;h;w t
	areaW, areaH int  // CSI 4;h;w t
	gfxW, gfxH   int  // CSI ? 2;0;w;h S
}

// parseReply reads a terminal reply that bubbletea v1 delivered as an
// unknown CSI sequence message (an unexported []byte type). ok is false for
// anything else.
func parseReply(msg tea.Msg) (termReply, bool) {
	v := reflect.ValueOf(msg)
	if !v.IsValid() || v.Kind() != reflect.Slice || v.Type().Elem().Kind() != reflect.Uint8 ||
		!strings.HasSuffix(v.Type().String(), "unknownCSISequenceMsg") {
		return termReply{}, false
	}
	return parseCSI(string(v.Bytes()))
}

// parseCSI reads "ESC [ ? 63;1;4 c" (DA1), "ESC [ 6;h;w t" (cell size),
// "ESC [ 4;h;w t" (text area size) and "ESC [ ? 2;0;w;h S" (XTSMGRAPHICS:
// the sixel geometry; status 0 is success).
func parseCSI(s string) (termReply, bool) {
	if !strings.HasPrefix(s, "\x1b[") || len(s) < 3 {
		return termReply{}, false
	}
	final := s[len(s)-1]
	body := s[2 : len(s)-1]
	switch final {
	case 'c':
		if !strings.HasPrefix(body, "?") {
			return termReply{}, false
		}
		r := termReply{kind: 'c'}
		for _, p := range strings.Split(body[1:], ";") {
			if p == "4" {
				r.sixel = true
			}
		}
		return r, true
	case 'S':
		f := strings.Split(strings.TrimPrefix(body, "?"), ";")
		if !strings.HasPrefix(body, "?") || len(f) != 4 || f[0] != "2" || f[1] != "0" {
			return termReply{}, false
		}
		w, err1 := strconv.Atoi(f[2])
		h, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil || w <= 0 || h <= 0 {
			return termReply{}, false
		}
		return termReply{kind: 'S', gfxW: w, gfxH: h}, true
	case 't':
		f := strings.Split(body, ";")
		if len(f) != 3 {
			return termReply{}, false
		}
		h, err1 := strconv.Atoi(f[1])
		w, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || h <= 0 || w <= 0 {
			return termReply{}, false
		}
		switch f[0] {
		case "6":
			return termReply{kind: 't', cellW: w, cellH: h}, true
		case "4":
			return termReply{kind: 'T', areaW: w, areaH: h}, true
		}
	}
	return termReply{}, false
}

// oscReply reassembles an OSC reply, which bubbletea v1 does not know: it
// delivers "ESC ] 11;rgb:… BEL" as the keys alt+], the text as runes (one
// message or several), then ctrl+g (or alt+\ for an ST ending).
type oscReply struct {
	on   bool
	text []rune
}

// key feeds one key message. consumed reports that it belonged to a reply;
// text is the reply's body once its end has come.
func (o *oscReply) key(k tea.KeyMsg) (text string, done, consumed bool) {
	switch {
	case k.Type == tea.KeyRunes && k.Alt && len(k.Runes) > 0 && k.Runes[0] == ']':
		o.on, o.text = true, append([]rune(nil), k.Runes[1:]...)
		return "", false, true
	case !o.on:
		return "", false, false
	case k.Type == tea.KeyRunes && !k.Alt:
		o.text = append(o.text, k.Runes...)
		if len(o.text) > 256 {
			o.on = false // not a reply after all
		}
		return "", false, true
	case k.Type == tea.KeyCtrlG, k.Type == tea.KeyRunes && k.Alt && string(k.Runes) == "\\":
		o.on = false
		return string(o.text), true, true
	}
	o.on = false
	return "", false, false
}

// parseBackground reads the body of the reply to OSC 11, "11;rgb:R/G/B"
// with 1-4 hex digits a channel. dark is true for a background darker than
// mid-grey.
func parseBackground(body string) (dark, ok bool) {
	s, found := strings.CutPrefix(body, "11;rgb:")
	if !found {
		return false, false
	}
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return false, false
	}
	var c [3]float64
	for i, p := range parts {
		if len(p) == 0 || len(p) > 4 {
			return false, false
		}
		v, err := strconv.ParseUint(p, 16, 16)
		if err != nil {
			return false, false
		}
		c[i] = float64(v) / float64(uint64(1)<<(4*len(p))-1)
	}
	// Rec. 709 luma of the (gamma-encoded) colour is enough to tell the two.
	return 0.2126*c[0]+0.7152*c[1]+0.0722*c[2] < 0.5, true
}

// rawWriter writes escape sequences that are not part of the view (queries,
// OSC 52) straight to the terminal. Each write is one Write call, which an
// *os.File (and the tests' writer) does atomically, so it never lands inside
// a frame of bubbletea's renderer.
type rawWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (r *rawWriter) cmd(s string) tea.Cmd {
	if r == nil || r.w == nil {
		return nil
	}
	return func() tea.Msg {
		r.mu.Lock()
		defer r.mu.Unlock()
		io.WriteString(r.w, s)
		return nil
	}
}

// osc52 sets the system clipboard (OSC 52); inside tmux with passthrough it
// is wrapped so the outer terminal sees it too.
func osc52(text string, tmux bool) string {
	s := "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(text)) + "\a"
	if tmux {
		s = render.TmuxPassthrough(s)
	}
	return s
}
