package figures_test

import (
	"fmt"
	"image"
	"os"
	"time"

	"stylegan-tui/figures"
	"stylegan-tui/latent"
)

// A program records what it shows: Add for every frame on screen (it never
// blocks), Stop when done (it encodes: call it off the UI goroutine).
func ExampleRecorder() {
	dir, _ := os.MkdirTemp("", "rec")
	defer os.RemoveAll(dir)
	rec := figures.NewRecorder(figures.RecorderOptions{Dir: dir, Name: "demo"})
	st := latent.New(4, 4, 1, 4)
	start := time.Now()
	for i := 0; i < 3; i++ {
		st.Interp = latent.Interp{On: true, T: float64(i) / 2}
		frame := image.NewRGBA(image.Rect(0, 0, 32, 32)) // the picture shown
		rec.Add(frame, start.Add(time.Duration(i)*200*time.Millisecond), st)
	}
	r, err := rec.Stop(start.Add(time.Second))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Frames, "frames,", r.Duration)
	fmt.Println(r.States[2])
	// Output:
	// 3 frames, 1s
	// sg1:a=0:b=1:s=4A:i=1W
}
