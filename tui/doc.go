// Package tui is the StyleGAN explorer: a bubbletea (v1) program that edits a
// latent.State by keyboard (style mixing by layer group, truncation, noise,
// A→B interpolation), renders it with model.Generator off the UI goroutine
// and draws the result inline with sixel graphics or Unicode half-blocks.
//
// How images share the screen with bubbletea's line renderer: each image's sixel is written once, wrapped in
// ESC 7 / ESC 8, on a line of its own (moved up with CSI A onto the image's
// first row when several images start on the same row) and every image row
// is otherwise cursor-forward moves, so the renderer never prints over
// pixels and re-sends only the image that changed.
//
// Rendering is asynchronous: a state change stamps a render request with a
// generation number and hands it to a per-image worker that renders only the
// newest request it has (superseded requests are skipped); results and
// low-resolution previews come back as messages, are encoded to terminal
// bytes in a tea.Cmd, and anything older than what is shown is dropped (the
// bookkeeping is one type, pipeline). Every render, local (a Generator per
// user) or through Options.Render (a server's), goes through one renderFunc.
package tui
