// Command stylegan-tui is a terminal explorer for StyleGAN v1 (Karras et
// al. 2019): it swaps coarse, middle and fine styles between images,
// resamples noise, applies the truncation trick and walks interpolations,
// drawing the result inline with sixel graphics.
//
// Usage:
//
//	stylegan-tui [explore] [--checkpoint F]   the explorer (default)
//	stylegan-tui render --checkpoint F --seed N -o out.png
//	stylegan-tui info F
//	stylegan-tui bench --config rosinality-256
//	stylegan-tui eval --checkpoint default      the toyfaces bar
//	stylegan-tui ppl --checkpoint default       perceptual path length
//	stylegan-tui lesson [FILE]                  a lesson in the explorer (none: the built-in one)
//	stylegan-tui train --out DIR                train a toyfaces model
//
// Run a subcommand with --help for its flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// command is one subcommand: its name, a one-line summary, how many
// positional arguments its flags may leave (-1: any; a command that takes
// a kind or a file before its flags reads it itself) and what runs it.
type command struct {
	name    string
	summary string
	args    int
	run     func(args []string, stdout, stderr io.Writer) error
}

// commandTable is every command, in the order help lists them.
func commandTable() []command {
	return []command{
		{"explore", "open the explorer (the default command)", 0, runExplore},
		{"lesson", "open a lesson (Markdown, one ## step each; none: the built-in one) in the explorer", 1, runLesson},
		{"serve", "serve the explorer over SSH", 0, runServe},
		{"render", "render a state to PNG/JPEG (or raw tensors)", 0, runRender},
		{"figure", "draw one of the paper's figures as a labelled PNG grid", 0, runFigure},
		{"gif", "render an animation (walk, mix sweep, truncation sweep, noise) or a lesson as a GIF", 0, runGIF},
		{"info", "describe a checkpoint", 1, runInfo},
		{"import", "convert a checkpoint (.pt, .pkl, safetensors) to the native format", -1, runImport},
		{"bench", "time the forward pass on random weights of real sizes", 0, runBench},
		{"eval", "measure a toyfaces model against the default model's quality bar (label distributions, style mixing, noise)", 0, runEval},
		{"ppl", "measure the paper's perceptual path length (z slerp vs w lerp): LPIPS on VGG16 for any model, or the toyfaces classifier's distance", 0, runPPL},
		{"lpips", "the LPIPS distance (VGG16) between two PNGs or between image pairs in a safetensors file", 2, runLPIPS},
		{"train", "train a StyleGAN on toyfaces (progressive growing, resumable)", 0, runTrain},
		{"train-classifier", "train the toyfaces classifier that measures generated images", 0, runTrainClassifier},
		{"dataset", "write a labelled grid of toyfaces training images", 0, runDataset},
	}
}

// lookup finds a command by name.
func lookup(name string) (command, bool) {
	for _, c := range commandTable() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// usageError is a mistake in the command line: exit code 2 with a hint.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes a command line and returns the exit code (exitCode).
func run(args []string, stdout, stderr io.Writer) int {
	name := "explore"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	} else if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		name = "help" // the commands; "explore --help" gives the explorer's flags
	}
	if name == "help" {
		usage(stdout)
		return 0
	}
	cmd, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stderr, "stylegan-tui: unknown command %q (try stylegan-tui help)\n", name)
		return 2
	}
	return exitCode(name, cmd.run(args, stdout, stderr), stderr)
}

// exitCode reports command name's error on stderr as one line and returns
// the exit code: 0 ok, 130 interrupted, 2 any other error.
func exitCode(name string, err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, context.Canceled):
		// Ctrl-C or SIGTERM stopped a long command (eval, ppl, figure,
		// gif): say so, not the context's "context canceled".
		fmt.Fprintf(stderr, "stylegan-tui %s: interrupted\n", name)
		return 130
	}
	fmt.Fprintf(stderr, "stylegan-tui %s: %s\n", name, oneLine(err.Error()))
	return 2
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func usage(w io.Writer) {
	fmt.Fprintln(w, "stylegan-tui: a terminal explorer for StyleGAN v1")
	fmt.Fprintln(w, "\nUsage: stylegan-tui [command] [flags]\n\nCommands:")
	for _, c := range commandTable() {
		fmt.Fprintf(w, "  %-16s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-16s %s\n", "help", "this list")
	fmt.Fprintln(w, "\nRun 'stylegan-tui COMMAND --help' for a command's flags.")
}

// newFlags makes a FlagSet that reports errors instead of exiting.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: stylegan-tui %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags; parse errors become usage errors (flag already
// printed the details and usage).
func parse(fs *flag.FlagSet, args []string) error {
	out, usage := fs.Output(), fs.Usage
	// Errors are reported once, on one line, by run.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	if errors.Is(err, flag.ErrHelp) {
		fs.Usage()
		return err
	}
	if err != nil {
		return usageError{err.Error() + " (see --help)"}
	}
	if c, ok := lookup(fs.Name()); ok && c.args >= 0 && fs.NArg() > c.args {
		return usageError{fmt.Sprintf("unexpected argument %q (see --help)", fs.Arg(c.args))}
	}
	return nil
}
