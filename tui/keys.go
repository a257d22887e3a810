package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
)

// KeyMap is every key the explorer reacts to. The same bindings drive
// Update and the help overlay (help.KeyMap), so the two cannot disagree.
type KeyMap struct {
	NewSeedA, NewSeedB   key.Binding
	TypeSeedA, TypeSeedB key.Binding
	PrevSeedA, NextSeedA key.Binding
	PrevSeedB, NextSeedB key.Binding

	Left, Right key.Binding
	Toggle      key.Binding
	Coarse      key.Binding
	Middle      key.Binding
	Fine        key.Binding
	ResetA      key.Binding
	Swap        key.Binding

	PsiUp, PsiDown       key.Binding
	CutoffUp, CutoffDown key.Binding

	NoiseResample, NoiseResampleAll key.Binding
	NoiseMode, NoiseModeAll         key.Binding

	Interp      key.Binding
	InterpSpace key.Binding
	TBack, TFwd key.Binding
	Play        key.Binding
	Nudge       key.Binding
	Undo, Redo  key.Binding
	Copy, Paste key.Binding
	Save        key.Binding
	Record      key.Binding
	SaveAnim    key.Binding
	Help        key.Binding
	Quit        key.Binding

	// Teaching (lesson.go): L and Q always; the rest only in a lesson or a
	// quiz, where n and p move through it and the walk and nudge keys are
	// P and N (which work everywhere).
	Lesson   key.Binding
	Quiz     key.Binding
	NextStep key.Binding
	PrevStep key.Binding
	More     key.Binding
	Answer   key.Binding

	// A class (follow.go): F is the teacher's broadcast on/off and a
	// student's follow; B a student's branch. Off outside a class.
	Follow key.Binding
	Branch key.Binding
}

// DefaultKeyMap returns the explorer's keys (listed in README.md).
func DefaultKeyMap() KeyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return KeyMap{
		NewSeedA:  b([]string{"a"}, "a", "new seed for A"),
		NewSeedB:  b([]string{"b"}, "b", "new seed for B"),
		TypeSeedA: b([]string{"s"}, "s", "type a seed for A"),
		TypeSeedB: b([]string{"S"}, "S", "type a seed for B"),
		PrevSeedA: b([]string{"["}, "[", "previous seed of A"),
		NextSeedA: b([]string{"]"}, "]", "next seed of A"),
		PrevSeedB: b([]string{"{"}, "{", "previous seed of B"),
		NextSeedB: b([]string{"}"}, "}", "next seed of B"),

		Left:   b([]string{"left", "h"}, "←/h", "layer cursor left"),
		Right:  b([]string{"right", "l"}, "→/l", "layer cursor right"),
		Toggle: b([]string{" ", "enter"}, "space", "layer takes A/B"),
		Coarse: b([]string{"1"}, "1", "coarse (4²-8²) from B"),
		Middle: b([]string{"2"}, "2", "middle (16²-32²) from B"),
		Fine:   b([]string{"3"}, "3", "fine (64²+) from B"),
		ResetA: b([]string{"0"}, "0", "all layers from A"),
		Swap:   b([]string{"x"}, "x", "swap A and B"),

		PsiUp:      b([]string{"+", "="}, "+", "psi +0.1"),
		PsiDown:    b([]string{"-", "_"}, "-", "psi -0.1"),
		CutoffUp:   b([]string{">"}, ">", "cutoff +1 layer"),
		CutoffDown: b([]string{"<"}, "<", "cutoff -1 layer"),

		NoiseResample:    b([]string{"r"}, "r", "new noise, this layer"),
		NoiseResampleAll: b([]string{"R"}, "R", "new noise, all layers"),
		NoiseMode:        b([]string{"m"}, "m", "noise mode, this layer"),
		NoiseModeAll:     b([]string{"M"}, "M", "noise mode, all layers"),

		Interp:      b([]string{"i"}, "i", "walk A→B on/off"),
		InterpSpace: b([]string{"z"}, "z", "lerp in W / slerp in Z"),
		TBack:       b([]string{","}, ",", "walk t -0.05"),
		TFwd:        b([]string{"."}, ".", "walk t +0.05"),
		Play:        b([]string{"p", "P"}, "p/P", "play/pause the walk"),
		Nudge:       b([]string{"n", "N"}, "n/N", "nudge z of A"),
		Undo:        b([]string{"u"}, "u", "undo"),
		Redo:        b([]string{"U", "ctrl+r"}, "U", "redo"),
		Copy:        b([]string{"c"}, "c", "copy state (OSC 52)"),
		Paste:       b([]string{"v"}, "v", "paste/load a state"),
		Save:        b([]string{"w"}, "w", "save result as PNG"),
		Record:      b([]string{"g"}, "g", "start/stop recording a GIF"),
		SaveAnim:    b([]string{"G"}, "G", "save a GIF: A/B mix sweep, or the walk"),
		Help:        b([]string{"?"}, "?", "help"),
		Quit:        b([]string{"q", "ctrl+c"}, "q", "quit"),

		Lesson:   b([]string{"L"}, "L", "built-in lesson on/off"),
		Quiz:     b([]string{"Q"}, "Q", "quiz from this model on/off"),
		NextStep: off([]string{"n"}, "n", "next step"),
		PrevStep: off([]string{"p"}, "p", "previous step"),
		More:     off([]string{"tab"}, "tab", "more of the caption"),
		Answer:   off([]string{"1", "2", "3", "4", "5", "6", "7", "8", "9"}, "1-3", "answer"),

		Follow: off([]string{"F"}, "F", "follow the teacher"),
		Branch: off([]string{"B"}, "B", "explore on your own"),
	}
}

// off is a binding that is enabled only in a lesson or a quiz.
func off(keys []string, k, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc), key.WithDisabled())
}

// ShortHelp is the one-line help under the status line.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.NextStep, k.PrevStep, k.Answer, k.Follow, k.Branch, k.Help, k.NewSeedA, k.NewSeedB, k.Toggle, k.Middle, k.PsiUp, k.Interp, k.Undo, k.Quit}
}

// FullHelp is the ? overlay, in columns. n and p share a row (the overlay
// fits 80x24 outside a lesson).
func (k KeyMap) FullHelp() [][]key.Binding {
	nav := k.NextStep
	nav.SetHelp("n/p", strings.Replace(k.NextStep.Help().Desc, "next", "next/previous", 1))
	return [][]key.Binding{
		{k.NewSeedA, k.NewSeedB, k.TypeSeedA, k.TypeSeedB, k.PrevSeedA, k.NextSeedA, k.PrevSeedB, k.NextSeedB, k.Swap, k.Nudge, nav},
		{k.Left, k.Right, k.Toggle, k.Coarse, k.Middle, k.Fine, k.ResetA, k.PsiUp, k.PsiDown, k.CutoffUp, k.CutoffDown},
		{k.NoiseResample, k.NoiseResampleAll, k.NoiseMode, k.NoiseModeAll, k.Interp, k.InterpSpace, k.TBack, k.TFwd, k.Play, k.Lesson, k.More},
		{k.Undo, k.Redo, k.Copy, k.Paste, k.Save, k.Record, k.SaveAnim, k.Help, k.Quit, k.Quiz, k.Answer, k.Follow, k.Branch},
	}
}
