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
// CSI 16 t (cell size in pixels), CSI 14 t (text area in pixels), DA1.
const (
	queryCellSize = "\x1b[16t"
	queryAreaSize = "\x1b[14t"
	queryDA1      = "\x1b[c"
)

// detectTimeout is how long auto mode waits for the DA1 reply before it falls
// back to half-blocks (a terminal that never answers). Every terminal answers
// DA1, usually within milliseconds; the margin is for SSH round trips on a
// loaded server (600 ms was missed under load).
const detectTimeout = 1500 * time.Millisecond

// Default cell size when the terminal does not say (TERMINAL.md).
const defaultCellW, defaultCellH = 10, 20

// detectTimeoutMsg ends the wait for the terminal's replies.
type detectTimeoutMsg struct{}

// termReply is one reply to a terminal query.
type termReply struct {
	kind         byte // 'c' DA1, 'c'+cell 't' sizes
	sixel        bool // DA1 lists 4 (sixel graphics)
	cellW, cellH int  // CSI 6;h;w t
	areaW, areaH int  // CSI 4;h;w t
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

// parseCSI reads "ESC [ ? 63;1;4 c" (DA1), "ESC [ 6;h;w t" (cell size) and
// "ESC [ 4;h;w t" (text area size).
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
