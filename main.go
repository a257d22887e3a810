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
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"render": {"render a state to PNG (or raw tensors)", runRender},
	"info":   {"describe a checkpoint", runInfo},
	"bench":  {"time the forward pass on random weights of real sizes", runBench},
	"eval":   {"measure a toyfaces model against issue 5's bar (label distributions, style mixing, noise)", runEval},
	"ppl":    {"measure the paper's perceptual path length (z slerp vs w lerp): LPIPS on VGG16 for any model, or the toyfaces classifier's distance", runPPL},

	"train-classifier": {"train the toyfaces classifier that measures generated images", runTrainClassifier},
}

// usageError is a mistake in the command line: exit code 2 with a hint.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes a command line and returns the exit code: 0 ok, 2 for
// any error (bad flags, unreadable or corrupt files), printed as one line.
func run(args []string, stdout, stderr io.Writer) int {
	name := "explore"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if name == "help" {
		usage(stdout)
		return 0
	}
	cmd, ok := commands[name]
	if !ok || cmd.run == nil {
		fmt.Fprintf(stderr, "stylegan-tui: unknown command %q (try stylegan-tui help)\n", name)
		return 2
	}
	err := cmd.run(args, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	}
	fmt.Fprintf(stderr, "stylegan-tui %s: %s\n", name, oneLine(err.Error()))
	return 2
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func usage(w io.Writer) {
	fmt.Fprintln(w, "stylegan-tui: a terminal explorer for StyleGAN v1")
	fmt.Fprintln(w, "\nUsage: stylegan-tui [command] [flags]\n\nCommands:")
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-16s %s\n", n, commands[n].summary)
	}
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
	if fs.NArg() > 0 && fs.Name() != "info" && fs.Name() != "import" && fs.Name() != "lpips" {
		return usageError{fmt.Sprintf("unexpected argument %q (see --help)", fs.Arg(0))}
	}
	return nil
}
