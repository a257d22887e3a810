package tui

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"

	tea "github.com/charmbracelet/bubbletea"
)

// Run runs the explorer on a terminal (in, out) until the user quits. The
// terminal is restored on every path: q, Ctrl-C, and panics (bubbletea
// recovers those in Update, View and commands; anything else is recovered
// here after the program is killed, which restores the terminal).
func Run(opts Options, in io.Reader, out io.Writer) (err error) {
	if opts.Raw == nil {
		opts.Raw = out
	}
	m, err := New(opts)
	if err != nil {
		return err
	}
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
