package tui

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

func TestParseGfxAndBackground(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want termReply
		ok   bool
	}{
		{"\x1b[?2;0;480;312S", termReply{kind: 'S', gfxW: 480, gfxH: 312}, true},
		{"\x1b[?2;3;0;0S", termReply{}, false},       // failure status
		{"\x1b[?1;0;256S", termReply{}, false},       // colour registers, not the size
		{"\x1b[2;0;480;312S", termReply{}, false},    // not a reply (no ?)
		{"\x1b[?2;0;480S", termReply{}, false},       // short
		{"\x1b[?2;0;-480;312S", termReply{}, false},  // negative
		{"\x1b[?2;0;480;312;1S", termReply{}, false}, // long
	} {
		got, ok := parseCSI(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseCSI(%q) = %+v %v, want %+v %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		body     string
		dark, ok bool
	}{
		{"11;rgb:ffff/ffff/ffff", false, true},
		{"11;rgb:0000/0000/0000", true, true},
		{"11;rgb:ff/ff/dd", false, true},
		{"11;rgb:1e1e/1e1e/2e2e", true, true},
		{"11;rgb:f/f/f", false, true},
		{"11;rgb:ffff/ffff", false, false},
		{"11;rgb:gggg/0000/0000", false, false},
		{"10;rgb:ffff/ffff/ffff", false, false}, // the foreground
	} {
		dark, ok := parseBackground(tc.body)
		if dark != tc.dark || ok != tc.ok {
			t.Errorf("parseBackground(%q) = %v %v, want %v %v", tc.body, dark, ok, tc.dark, tc.ok)
		}
	}
	// The keys bubbletea makes of the reply, ended by BEL or by ST.
	for _, end := range []tea.KeyMsg{{Type: tea.KeyCtrlG}, {Type: tea.KeyRunes, Alt: true, Runes: []rune(`\`)}} {
		var o oscReply
		keys := []tea.KeyMsg{{Type: tea.KeyRunes, Alt: true, Runes: []rune("]")},
			{Type: tea.KeyRunes, Runes: []rune("11;rgb:ffff/")}, {Type: tea.KeyRunes, Runes: []rune("ffff/ffff")}, end}
		for i, k := range keys {
			text, done, consumed := o.key(k)
			if !consumed || done != (i == len(keys)-1) {
				t.Fatalf("key %d %v: consumed %v done %v", i, k, consumed, done)
			}
			if done && text != "11;rgb:ffff/ffff/ffff" {
				t.Errorf("reassembled %q", text)
			}
		}
	}
	var o oscReply
	if _, _, consumed := o.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")}); consumed {
		t.Error("a typed key taken for a reply")
	}
}

// The replies of stock xterm, as bubbletea's input reader delivers them to
// the explorer: the background (OSC 11), the sixel geometry and DA1 decide a
// light background and sixel with 6x13 cells.
func TestRepliesThroughBubbletea(t *testing.T) {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	m, err := New(Options{Model: loadFixture(t, fixtureNV32), Width: 140, Height: 45, Raw: &tape{}, Renderer: r, RandSeed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !r.HasDarkBackground() {
		t.Fatal("the background is taken as dark until the terminal answers")
	}
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := tea.NewProgram(m, tea.WithInput(pr), tea.WithOutput(&tape{}), tea.WithContext(ctx), tea.WithoutSignalHandler())
	done := make(chan error, 1)
	go func() { _, err := p.Run(); done <- err }()
	// Writes off the test goroutine: a pipe write waits for a reader, and a
	// program that ended reads no more (the deferred Close ends the write).
	go pw.Write([]byte("\x1b]11;rgb:ffff/ffff/ffff\x07\x1b[?2;0;840;585S\x1b[?63;1;2;4;6;9;15;16;22;28c"))
	// Keys are ignored until DA1's reply is in: q repeats until it quits.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if r.HasDarkBackground() {
				t.Error("a white background (OSC 11) left the colours for a dark one")
			}
			if m.term.mode != gfxSixel || m.term.cellW != 6 || m.term.cellH != 13 || m.term.cellFrom != fromXTSMG {
				t.Errorf("mode %v %dx%d from %q, want sixel 6x13 from XTSMGRAPHICS", m.term.mode, m.term.cellW, m.term.cellH, m.term.cellFrom)
			}
			return
		case <-tick.C:
			go pw.Write([]byte("q"))
		case <-ctx.Done():
			t.Fatal("the explorer did not quit")
		}
	}
}

// Standard input or output that is not a terminal is refused before the
// screen is touched: nothing is written, no wait for answers.
func TestRunNeedsTerminal(t *testing.T) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	opts := Options{Model: loadFixture(t, fixtureNV32), Width: 80, Height: 24}
	for _, tc := range []struct {
		name string
		in   io.Reader
		out  io.Writer
		want string
	}{
		{"stdin /dev/null", devnull, &tape{}, "standard input"},
		{"stdin a pipe", pr, &tape{}, "standard input"},
		{"stdout a pipe", strings.NewReader(""), pw, "standard output"},
	} {
		out, _ := tc.out.(*tape)
		done := make(chan error, 1)
		go func() { done <- Run(opts, tc.in, tc.out) }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrNotTerminal) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: Run = %v, want needs a terminal (%s)", tc.name, err, tc.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: Run waited", tc.name)
		}
		if out != nil && out.String() != "" {
			t.Errorf("%s: wrote %q before refusing", tc.name, out.String())
		}
	}
}

// The binary with standard input from /dev/null: exit status 2, one line
// saying it needs a terminal, and nothing on standard output (no alternate
// screen, no hidden cursor left behind).
func TestBinaryNeedsTerminal(t *testing.T) {
	bin := buildBinary(t)
	for _, stdin := range []string{"devnull", "pipe"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, bin)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if stdin == "pipe" {
			cmd.Stdin = strings.NewReader("") // exec feeds it through a pipe
		}
		err := cmd.Run()
		cancel()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("stdin %s: %v, want exit status 2", stdin, err)
		}
		if !strings.Contains(stderr.String(), "needs a terminal") || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("stdin %s: stderr %q, want one line saying it needs a terminal", stdin, stderr.String())
		}
		if stdout.Len() != 0 {
			t.Errorf("stdin %s: stdout %q, want nothing", stdin, stdout.String())
		}
	}
}
