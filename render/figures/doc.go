// Package figures makes the paper's figures and animations (Karras et al.
// 2019, arXiv:1812.04948: Figures 3, 4, 5 and 8, and interpolation walks) as
// functions of latent states.
//
// Every cell of a Figure and every panel of an animation Frame is a
// latent.State: the same value the explorer edits and prints as a state
// string, so a picture made here can be made again with
// `stylegan-tui render --state S`, and the explorer's current state can be
// turned into a figure or an animation (the Walk, MixSweep, TruncationSweep
// and NoiseSweep presets take it as their base). Rendering goes through
// model.Generator, grids and labels through render.Grid and render.Label,
// and GIFs through render's encoder with one global palette whose paletted
// frames can also feed render.Sixel.
//
// A Recorder captures the frames an interactive program shows, with their
// times, without ever blocking it, and writes them as a GIF when stopped.
package figures
