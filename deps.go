//go:build tools

package main

import (
	_ "github.com/charmbracelet/bubbles/key"
	_ "github.com/charmbracelet/bubbletea"
	_ "github.com/charmbracelet/lipgloss"
	_ "github.com/mattn/go-sixel"
	_ "github.com/nlpodyssey/gopickle/pickle"
	_ "github.com/soniakeys/quant/median"
	_ "gorgonia.org/gorgonia"
	_ "gorgonia.org/tensor"
)
