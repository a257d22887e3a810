package figures_test

import (
	"context"
	"fmt"
	"image"
	"os"
	"time"

	"stylegan-tui/checkpoints"
	"stylegan-tui/internal/testfix"
	"stylegan-tui/latent"
	"stylegan-tui/render/figures"
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

// The paper's Figure 3 for a model: every cell is a state, so each can be
// re-made with `stylegan-tui render --state`.
func ExampleMixing() {
	path, err := testfix.Lookup("rosinality/tiny_s5.safetensors")
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := checkpoints.Load(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	g, _ := m.Generator()
	f := figures.Mixing(g.Cfg, g.NewState(), []int64{11, 12, 13}, []int64{21, 22})
	img, err := f.Render(context.Background(), g, 32, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(img.Bounds().Dx() > 3*32, len(f.Cells), "rows")
	fmt.Println(f.RowLabels[1])
	fmt.Println(f.Cells[1][2].State.Encode()) // A 11 with the coarse slots of B 22
	// Output:
	// true 4 rows
	// A 11
	// coarse from B
	// slots 0-1 (4-8 px)
	// sg1:a=11:b=22:s=2B4A:p=0.7
}
