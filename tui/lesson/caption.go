package lesson

import (
	"strings"

	"github.com/charmbracelet/glamour"
	"github.com/charmbracelet/glamour/styles"
	"github.com/muesli/termenv"
)

// Render renders a caption's Markdown with glamour for a terminal: wrapped
// to width columns, coloured for profile on a dark or light background,
// without glamour's margins and blank edges, no line ending in blanks.
// Should glamour fail, the caption comes back as its plain text.
func Render(md string, width int, profile termenv.Profile, dark bool) []string {
	cfg := styles.LightStyleConfig
	if dark {
		cfg = styles.DarkStyleConfig
	}
	// The caption sits under the step's title: no margin, no blank lines
	// around the document.
	zero := uint(0)
	cfg.Document.Margin = &zero
	cfg.Document.BlockPrefix, cfg.Document.BlockSuffix = "", ""
	r, err := glamour.NewTermRenderer(glamour.WithStyles(cfg), glamour.WithColorProfile(profile),
		glamour.WithWordWrap(max(width, 10)))
	var out string
	if err == nil {
		out, err = r.Render(md)
	}
	if err != nil {
		out = Plain(md)
	}
	if profile == termenv.Ascii {
		// As lipgloss does for it: no styles at all (glamour keeps bold
		// and italics).
		out = stripANSI(out)
	}
	lines := strings.Split(strings.Trim(out, "\n"), "\n")
	for i, l := range lines {
		if lines[i] = trimBlanks(l); isBlank(lines[i]) {
			lines[i] = ""
		}
	}
	// Glamour ends blocks with blank lines: keep one between paragraphs,
	// none at the ends.
	keep := []string{}
	for i, l := range lines {
		blank := isBlank(l)
		if blank && (len(keep) == 0 || isBlank(keep[len(keep)-1]) || i == len(lines)-1) {
			continue
		}
		keep = append(keep, l)
	}
	for len(keep) > 0 && isBlank(keep[len(keep)-1]) {
		keep = keep[:len(keep)-1]
	}
	return keep
}

// trimBlanks drops the trailing blanks glamour pads every line with, each
// often in a colour sequence of its own: the line is cut after its last
// visible character and, if it had any, its styles are reset there.
func trimBlanks(l string) string {
	end, styled := 0, false
	for i := 0; i < len(l); i++ {
		if l[i] == 0x1b && i+1 < len(l) && l[i+1] == '[' {
			j := i + 2
			for j < len(l) && (l[j] < 0x40 || l[j] > 0x7e) {
				j++
			}
			i, styled = j, true
			continue
		}
		if l[i] != ' ' {
			end = i + 1
		}
	}
	// end may fall inside a multi-byte rune's continuation bytes: they are
	// never ' ', so end is after the rune's last byte.
	if !styled {
		return l[:end]
	}
	return l[:end] + "\x1b[0m"
}

func isBlank(l string) bool { return strings.TrimSpace(stripANSI(l)) == "" }

// stripANSI drops SGR sequences (the only ones glamour writes).
func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ascii is how a caption's non-ASCII characters are written in the bitmap
// font of burnt-in captions (render.Label), which has ASCII only.
var ascii = strings.NewReplacer(
	"²", "^2", "→", "->", "←", "<-", "ψ", "psi", "·", "*", "×", "x", "–", "-", "—", "--",
	"−", "-", "μ", "mu", "σ", "sigma", "ε", "eps", "≈", "~", "…", "...", "Δ", "d", "’", "'", "‘", "'",
	"“", `"`, "”", `"`, "≤", "<=", "≥", ">=", "\u00a0", " ",
)

// Plain is a caption as plain ASCII text for a burnt-in caption: emphasis
// and code marks dropped, a paragraph's lines joined (render.Label wraps
// them), list items and code lines on lines of their own.
func Plain(md string) string {
	var out []string
	var para []string
	flush := func() {
		if len(para) > 0 {
			out = append(out, strings.Join(para, " "))
			para = nil
		}
	}
	inCode := false
	for _, line := range strings.Split(md, "\n") {
		t := strings.TrimSpace(line)
		if _, _, ok := fenceOpen(line); ok && !inCode {
			flush()
			inCode = true
			continue
		}
		if inCode {
			if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
				inCode = false
				continue
			}
			out = append(out, "  "+strings.TrimRight(line, " "))
			continue
		}
		switch {
		case t == "":
			flush()
			continue
		case strings.HasPrefix(t, "- "), strings.HasPrefix(t, "* "), strings.HasPrefix(t, "+ "):
			flush()
			para = append(para, "- "+unmark(t[2:]))
			flush()
			continue
		case strings.HasPrefix(t, "#"):
			flush()
			para = append(para, unmark(strings.TrimLeft(t, "# ")))
			flush()
			continue
		}
		para = append(para, unmark(t))
	}
	flush()
	return ascii.Replace(strings.Join(out, "\n"))
}

// unmark drops Markdown's emphasis and code marks.
func unmark(s string) string {
	return strings.NewReplacer("**", "", "__", "", "`", "", "*", "").Replace(s)
}
