package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestHelp: `help`, `--help` and `-h` list every command of the table with
// its summary; `explore --help` gives the explorer's flags; every command
// answers --help with its own usage and exit 0; an unknown command is an
// error naming it; positional arguments beyond a command's count are
// refused.
func TestHelp(t *testing.T) {
	var list string
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		var out, errb strings.Builder
		if code := run(args, &out, &errb); code != 0 || errb.Len() != 0 {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errb.String())
		}
		if list != "" && out.String() != list {
			t.Errorf("%v lists differently from help", args)
		}
		list = out.String()
	}
	for _, c := range commandTable() {
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(c.name) + ` +` + regexp.QuoteMeta(c.summary) + `$`).MatchString(list) {
			t.Errorf("help does not list %s with its summary", c.name)
		}
		var out, errb strings.Builder
		if code := run([]string{c.name, "--help"}, &out, &errb); code != 0 {
			t.Errorf("%s --help: exit %d (%s)", c.name, code, errb.String())
		}
		if !strings.Contains(errb.String()+out.String(), "Usage: stylegan-tui "+c.name) {
			t.Errorf("%s --help prints %q", c.name, errb.String()+out.String())
		}
		// A flag whose absence means "the model's" or "none" is unset, not
		// a sentinel number that --help would print as its default.
		if m := regexp.MustCompile(`\(default -\d+\)`).FindString(errb.String() + out.String()); m != "" {
			t.Errorf("%s --help shows a sentinel default %s", c.name, m)
		}
	}
	// One file per command: every cli_NAME.go holds the command NAME
	// (train_classifier: train-classifier), and every command has its file.
	files, err := filepath.Glob("cli_*.go")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		name := strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(f, "cli_"), ".go"), "_", "-")
		if _, ok := lookup(name); !ok {
			t.Errorf("%s holds no command of the table", f)
		}
		have[name] = true
	}
	for _, c := range commandTable() {
		if !have[c.name] {
			t.Errorf("command %s has no file cli_%s.go", c.name, strings.ReplaceAll(c.name, "-", "_"))
		}
	}
	var out, errb strings.Builder
	if code := run([]string{"explore", "--help"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "--checkpoint") {
		t.Errorf("explore --help: exit %d, %q", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"frobnicate"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, %q", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"render", "stray"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unexpected argument "stray"`) {
		t.Errorf("render with a stray argument: exit %d, %q", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"info", "a", "b"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unexpected argument "b"`) {
		t.Errorf("info with two files: exit %d, %q", code, errb.String())
	}
}

// TestExitCode: an interrupted command (its context cancelled by Ctrl-C)
// says so and exits 130, not 2 with "context canceled"; other errors are
// one line and exit 2.
func TestExitCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int
		want string
	}{
		{nil, 0, ""},
		{fmt.Errorf("ppl: samples: %w", context.Canceled), 130, "stylegan-tui ppl: interrupted\n"},
		{errors.New("a.pt:\n  truncated"), 2, "stylegan-tui ppl: a.pt: truncated\n"},
	} {
		var stderr bytes.Buffer
		if code := exitCode("ppl", c.err, &stderr); code != c.code || stderr.String() != c.want {
			t.Errorf("%v: exit %d, %q; want %d, %q", c.err, code, stderr.String(), c.code, c.want)
		}
	}
}
