//go:build unix

package tui

import (
	"os"

	"golang.org/x/sys/unix"
)

// ttySize reads TIOCGWINSZ: the window in cells and, where the terminal
// emulator fills them in, pixels.
func ttySize(f *os.File) PtySize {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return PtySize{}
	}
	return PtySize{Cols: int(ws.Col), Rows: int(ws.Row), Width: int(ws.Xpixel), Height: int(ws.Ypixel)}
}
