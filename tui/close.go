package tui

import "time"

// closedMsg wakes the command that waits for rendered images after the
// program has ended (the program drops it).
type closedMsg struct{}

// Close lets go of what a finished program leaves behind: the command that
// waits for the next rendered image would otherwise wait forever, holding
// the program and this model. Call it after the program's Run returned when
// the process goes on (a server running one program per session); it does
// not stop renders in flight (their results are dropped). A recording
// still running (the program ended without q) is written in the background.
func (m *Model) Close() {
	if rec := m.gifs.rec; rec != nil {
		m.gifs.rec = nil
		end := time.Now()
		go rec.Stop(end) //nolint:errcheck // nobody is left to tell
	}
	select {
	case m.out <- closedMsg{}:
	default: // the buffer is full, so nothing waits on it
	}
}
