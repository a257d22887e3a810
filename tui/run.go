package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"golang.org/x/term"
)

// ErrNotTerminal is returned by Run when its input or output is a file
// or a pipe rather than a terminal.
var ErrNotTerminal = errors.New("needs a terminal")

// Run runs the explorer on a terminal (in, out) until the user quits. The
// terminal is restored on every path: q, Ctrl-C, and panics (bubbletea
// recovers those in Update, View and commands; anything else is recovered
// here after the program is killed, which restores the terminal).
//
// An *os.File in or out must be a terminal: anything else (</dev/null, a
// pipe) is refused before the screen is touched. Other readers and writers
// (tests) are taken as they are.
func Run(opts Options, in io.Reader, out io.Writer) (err error) {
	if err := checkTerminal(in, out); err != nil {
		return err
	}
	if opts.Raw == nil {
		opts.Raw = out
	}
	if f, ok := out.(*os.File); ok && opts.TTYSize == nil {
		opts.TTYSize = func() PtySize { return ttySize(f) }
	}
	if opts.TmuxAllowsPassthrough == nil && opts.Env != nil && opts.Env("TMUX") != "" {
		server, pane := opts.Env("TMUX"), opts.Env("TMUX_PANE")
		opts.TmuxAllowsPassthrough = func() (bool, bool) { return tmuxAllowsPassthrough(server, pane) }
	}
	m, err := New(opts)
	if err != nil {
		return err
	}
	if err := runProgram(m, in, out); err != nil {
		return err
	}
	for _, n := range m.ExitNotes() {
		fmt.Fprintln(out, "stylegan-tui: "+n)
	}
	return nil
}

// runProgram runs the program of m (the explorer, or a test's wrapper of
// it) on in and out, restoring the terminal on every path.
func runProgram(m tea.Model, in io.Reader, out io.Writer) (err error) {
	// 120 frames a second (bubbletea's most): a finished image waits at most
	// 8 ms for the next flush.
	p := tea.NewProgram(m, tea.WithInput(in), tea.WithOutput(out), tea.WithAltScreen(), tea.WithFPS(120))
	defer func() {
		if r := recover(); r != nil {
			p.Kill()
			err = fmt.Errorf("tui: panic: %v\n%s", r, debug.Stack())
		}
	}()
	_, err = p.Run()
	switch {
	case errors.Is(err, tea.ErrProgramPanic):
		return fmt.Errorf("tui: the explorer crashed (terminal restored): %w", err)
	case errors.Is(err, tea.ErrProgramKilled):
		return nil
	}
	return err
}

// checkTerminal refuses files and pipes: bubbletea would fail on them (epoll
// cannot wait on /dev/null) after switching the screen, or wait forever for
// the terminal's answers on a pipe.
func checkTerminal(in io.Reader, out io.Writer) error {
	for _, s := range []struct {
		v    any
		name string
	}{{in, "standard input"}, {out, "standard output"}} {
		f, ok := s.v.(*os.File)
		if ok && !term.IsTerminal(int(f.Fd())) {
			return fmt.Errorf("%w: %s is not one (use render to make images without a terminal)", ErrNotTerminal, s.name)
		}
	}
	return nil
}

// tmuxAllowsPassthrough asks the tmux server of $TMUX (its socket, then
// ",pid,session") for the pane's allow-passthrough ("on", or "all" in tmux
// 3.4). known is false when tmux could not be asked.
func tmuxAllowsPassthrough(server, pane string) (on, known bool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	socket, _, _ := strings.Cut(server, ",")
	args := []string{"-S", socket, "show", "-Apv"}
	if pane != "" {
		args = append(args, "-t", pane)
	}
	out, err := exec.CommandContext(ctx, "tmux", append(args, "allow-passthrough")...).Output()
	if err != nil {
		return false, false
	}
	switch strings.TrimSpace(string(out)) {
	case "on", "all":
		return true, true
	case "off":
		return false, true
	}
	return false, false
}
