package serve

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"stylegan-tui/tui"
)

// ptyReq and winChange are the payloads OpenSSH sends (RFC 4254 6.2, 6.7).
type ptyReq struct {
	Term                 string
	Cols, Rows, PxW, PxH uint32
	Modes                string
}

type winChange struct{ Cols, Rows, PxW, PxH uint32 }

func TestParsePtyPixels(t *testing.T) {
	for _, tc := range []struct {
		typ     string
		payload []byte
		want    tui.PtySize
		ok      bool
	}{
		{"pty-req", gossh.Marshal(ptyReq{"xterm", 140, 45, 844, 589, ""}), tui.PtySize{Cols: 140, Rows: 45, Width: 844, Height: 589}, true},
		{"pty-req", gossh.Marshal(ptyReq{"xterm-256color", 80, 24, 0, 0, "\x00"}), tui.PtySize{Cols: 80, Rows: 24}, true},
		{"window-change", gossh.Marshal(winChange{100, 30, 604, 394}), tui.PtySize{Cols: 100, Rows: 30, Width: 604, Height: 394}, true},
		{"pty-req", gossh.Marshal(ptyReq{"xterm", 140, 45, 844, 589, ""})[:20], tui.PtySize{}, false},
		{"pty-req", []byte{0, 0, 1, 0, 'x'}, tui.PtySize{}, false}, // TERM longer than the payload
		{"window-change", []byte{0, 0, 0, 1}, tui.PtySize{}, false},
		{"env", gossh.Marshal(winChange{1, 2, 3, 4}), tui.PtySize{}, false},
	} {
		got, ok := parsePtyPixels(tc.typ, tc.payload)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s %q: %+v %v, want %+v %v", tc.typ, tc.payload, got, ok, tc.want, tc.ok)
		}
	}
}

// A client whose terminal answers DA1 with sixel but not its cell size (stock
// xterm behind OpenSSH): the pixel size of its pty request decides the cell
// size, and a window change with other pixels (a new font) changes it.
func TestSSHPtyPixels(t *testing.T) {
	_, addr := testServer(t, Config{AllowAnyone: true, NoSave: true})
	conn, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "student", HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	// x/crypto's RequestPty sends no pixels: the request as OpenSSH makes it.
	if ok, err := sess.SendRequest("pty-req", true, gossh.Marshal(ptyReq{"xterm", 140, 45, 140*6 + 4, 45*13 + 4, "\x00"})); !ok || err != nil {
		t.Fatalf("pty-req: %v %v", ok, err)
	}
	in, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	out := &tape{}
	go out.readFrom(stdout)
	waitFor(t, out, "the DA1 query", 20*time.Second, hasDA1Query)
	in.Write([]byte("\x1b[?63;1;2;4;6;9;15;16;22;28c"))
	waitFor(t, out, "sixel with 6x13 cells", 20*time.Second, func(b []byte) bool { return bytes.Contains(b, []byte("sixel 6x13")) })
	n := out.len()
	if _, err := sess.SendRequest("window-change", false, gossh.Marshal(winChange{140, 45, 140*10 + 4, 45*20 + 4})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out, "sixel with 10x20 cells after the window change", 20*time.Second, func(b []byte) bool { return bytes.Contains(b[n:], []byte("sixel 10x20")) })
	in.Write([]byte("q"))
}

// Saved files are named to the client relative to its save directory: the
// server's paths never reach it.
func TestSavedNameRelative(t *testing.T) {
	out := t.TempDir()
	_, addr := testServer(t, Config{AllowAnyone: true, OutDir: out})
	c, err := dialGo(t, addr, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	waitFor(t, c.out, "the DA1 query", 20*time.Second, hasDA1Query)
	c.send("\x1b[?62;22c") // no sixel: half-blocks
	waitFor(t, c.out, "the first render", 30*time.Second, func(b []byte) bool { return bytes.Contains(b, []byte("render ")) })
	// The first render may be A's or B's, not yet the result's: w then says
	// "no image yet" (seen under load), and is pressed again.
	n := c.out.len()
	for try := 0; ; try++ {
		m := c.out.len()
		c.send("w")
		waitFor(t, c.out, "saved", 20*time.Second, func(b []byte) bool {
			return bytes.Contains(b[m:], []byte("saved ")) || bytes.Contains(b[m:], []byte("no image yet"))
		})
		if bytes.Contains(c.out.bytes()[m:], []byte("saved ")) {
			break
		}
		if try == 10 {
			t.Fatal("the result never rendered: w said \"no image yet\" 10 times")
		}
		// Another message in between (c: "copied …"), so that the next
		// answer is drawn even if it is "no image yet" again.
		c.send("c")
		time.Sleep(time.Second)
	}
	files, _ := filepath.Glob(filepath.Join(out, "anonymous", "*.png"))
	if len(files) != 1 {
		t.Fatalf("saved %v, want one PNG under %s/anonymous", files, out)
	}
	b := c.out.bytes()
	if bytes.Contains(b, []byte(out)) || !bytes.Contains(b[n:], []byte("saved "+filepath.Base(files[0]))) {
		t.Errorf("the client saw %q, want \"saved %s\" and no server path", tail(b, 400), filepath.Base(files[0]))
	}
	c.send("q")
}
