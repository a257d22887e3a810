package serve

import (
	"image"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"stylegan-tui/internal/termimage"
	"stylegan-tui/latent"
)

// pane is the real OpenSSH client running in a detached tmux pane (a real
// terminal: it has a size, answers DA1 without sixel, keeps colours).
type pane struct {
	t    *testing.T
	sock string
}

func (p *pane) tmux(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-L", p.sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
	return string(out), err
}

func (p *pane) capture() string {
	out, _ := p.tmux("capture-pane", "-p", "-e", "-t", "sgt")
	return out
}

// cell is one screen cell: its character and the SGR sequences in force.
type cell struct {
	ch  string
	sgr string
}

// cells splits a capture-pane -e screen into cells.
func screenCells(s string) [][]cell {
	var rows [][]cell
	for _, line := range strings.Split(s, "\n") {
		var row []cell
		sgr := ""
		for i := 0; i < len(line); {
			if line[i] == 0x1b && i+1 < len(line) && line[i+1] == '[' {
				j := i + 2
				for j < len(line) && (line[j] < 0x40 || line[j] > 0x7e) {
					j++
				}
				if j < len(line) && line[j] == 'm' {
					if seq := line[i : j+1]; seq == "\x1b[0m" || seq == "\x1b[m" {
						sgr = ""
					} else {
						sgr += seq
					}
				}
				i = j + 1
				continue
			}
			r, n := utf8.DecodeRuneInString(line[i:])
			row = append(row, cell{string(r), sgr})
			i += n
		}
		rows = append(rows, row)
	}
	return rows
}

func plain(row []cell) string {
	var b strings.Builder
	for _, c := range row {
		b.WriteString(c.ch)
	}
	return b.String()
}

// resultImage decodes the half-block cells under the "result · " label.
func resultImage(rows [][]cell) (image.Image, bool) {
	for r, row := range rows {
		txt := plain(row)
		i := strings.Index(txt, "result · ")
		if i < 0 {
			continue
		}
		c := utf8.RuneCountInString(txt[:i])
		var lines []string
		for rr := r + 1; rr < len(rows) && c < len(rows[rr]) && rows[rr][c].ch == "▀"; rr++ {
			var b strings.Builder
			for cc := c; cc < len(rows[rr]) && rows[rr][cc].ch == "▀"; cc++ {
				b.WriteString("\x1b[0m" + rows[rr][cc].sgr + "▀")
			}
			lines = append(lines, b.String())
		}
		if len(lines) == 0 {
			return nil, false
		}
		im, err := termimage.DecodeHalfBlock(lines)
		return im, err == nil
	}
	return nil, false
}

// The real OpenSSH client in a real terminal (tmux: no sixel, so
// half-blocks): the picture under the result label decodes to the
// generator's, before and after a key, and after the window is resized
// (the new size travels as an SSH window-change).
func TestOpenSSHHalfBlockInTmux(t *testing.T) {
	needSSH(t)
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("no tmux")
	}
	dir := t.TempDir()
	_, key, line := clientKey(t, dir, "id")
	ak := filepath.Join(dir, "authorized_keys")
	if err := writeFile(ak, line); err != nil {
		t.Fatal(err)
	}
	_, addr := testServer(t, Config{AuthorizedKeys: ak, NoSave: true})
	m := loadFixture(t, fixtureTiny)
	refs := newRefs(m)
	host, port, _ := strings.Cut(addr, ":")
	p := &pane{t: t, sock: "sgt-serve-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10)}
	cmd := strings.Join([]string{"ssh", "-tt", "-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
		"-F", "/dev/null", "-p", port, host}, " ")
	if out, err := p.tmux("new-session", "-d", "-s", "sgt", "-x", "100", "-y", "30", cmd); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	t.Cleanup(func() { p.tmux("kill-server") })

	var last image.Image
	check := func(st latent.State, label string) int {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		best, w := 0.0, 0
		var screen string
		for time.Now().Before(deadline) {
			screen = p.capture()
			if strings.Contains(screen, "half-blocks") && strings.Contains(screen, "result · "+label) {
				if im, ok := resultImage(screenCells(screen)); ok {
					b := im.Bounds()
					if db := psnr(im, refs.at(t, st, b.Dx(), b.Dy())); db > best {
						best, w = db, b.Dx()
					}
					if best >= 28 {
						last = im
						t.Logf("%s: half-block image %dx%d px, PSNR %.1f dB vs the generator", label, b.Dx(), b.Dy(), best)
						return w
					}
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("%s: no half-block image of the state (best PSNR %.1f dB); screen:\n%s", label, best, screen)
		return 0
	}
	start := startState(m)
	w0 := check(start, "A")
	lo, hi, _ := m.Cfg.GroupSlots("fine")
	p.tmux("send-keys", "-t", "sgt", "3")
	check(start.WithStyles(lo, hi, latent.FromB), "A + fine from B")
	if b := last.Bounds(); psnr(last, refs.at(t, start, b.Dx(), b.Dy())) > 60 {
		t.Error("the fine mix looks exactly like the start: the key changed nothing")
	}
	if out, err := p.tmux("resize-window", "-t", "sgt", "-x", "140", "-y", "44"); err != nil {
		t.Fatalf("resize: %v %s", err, out)
	}
	p.tmux("send-keys", "-t", "sgt", "0")
	if w1 := check(start, "A"); w1 <= w0 {
		t.Errorf("after resizing the window the image is %d px wide, was %d", w1, w0)
	}
	p.tmux("send-keys", "-t", "sgt", "q")
}
