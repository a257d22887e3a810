package tui

import (
	"context"
	"image"
	"io"
	"runtime"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"stylegan-tui/latent"
	"stylegan-tui/model"
)

// After a program ends, Close ends the goroutine still waiting for
// rendered images (it would hold the program and the model forever).
func TestCloseEndsListener(t *testing.T) {
	fix := loadFixture(t, fixtureNV32)
	base := runtime.NumGoroutine()
	for i := 0; i < 5; i++ {
		m, err := New(Options{Model: fix, Graphics: "halfblock", Width: 80, Height: 24,
			Render: func(ctx context.Context, st latent.State, _ func(*image.RGBA)) (*image.RGBA, model.Stats, error) {
				return image.NewRGBA(image.Rect(0, 0, 32, 32)), model.Stats{}, nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		pr, pw := io.Pipe()
		p := tea.NewProgram(m, tea.WithInput(pr), tea.WithOutput(io.Discard), tea.WithoutSignalHandler())
		done := make(chan struct{})
		go func() { p.Run(); close(done) }()
		time.Sleep(50 * time.Millisecond)
		p.Quit()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Quit did not end the program")
		}
		pw.Close()
		m.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base+2 {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after 5 programs, %d before\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}
