package serve

import (
	"context"
	"image"
	"math"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"stylegan-tui/latent"
)

// The render cache: sessions asking for one state at once get one render
// (the generator's picture), later asks none; an ask given up by everyone
// is not joined by the next.
func TestRenderCache(t *testing.T) {
	m := loadFixture(t, fixtureTiny)
	p, err := NewPool(m, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := newRenderCache()
	st := startState(m)
	st.A = latent.Source{Seed: 77}
	imgs := make([]*image.RGBA, 8)
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range imgs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cl := p.NewClient()
			defer cl.Close()
			imgs[i], _, errs[i] = c.render(context.Background(), cl, st, nil)
		}(i)
	}
	wg.Wait()
	for i := range imgs {
		if errs[i] != nil || imgs[i] != imgs[0] {
			t.Fatalf("ask %d: %v, same picture %v", i, errs[i], imgs[i] == imgs[0])
		}
	}
	if n := p.renders.Load(); n != 1 {
		t.Errorf("8 asks at once: %d renders, want 1", n)
	}
	refs := newRefs(m)
	if db := psnr(imgs[0], refs.at(t, st, 128, 128)); !math.IsInf(db, 1) {
		t.Errorf("the cached picture differs from the generator's: %.1f dB", db)
	}
	cl := p.NewClient()
	defer cl.Close()
	if img, _, err := c.render(context.Background(), cl, st, nil); err != nil || img != imgs[0] || p.renders.Load() != 1 {
		t.Errorf("asked again: %v, %d renders", err, p.renders.Load())
	}

	// Given up before it is done: the next ask renders afresh.
	st.A.Seed = 78
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c.render(ctx, cl, st, nil)
	img, _, err := c.render(context.Background(), cl, st, nil)
	if err != nil || img == nil {
		t.Fatalf("after an ask given up: %v", err)
	}
	if db := psnr(img, refs.at(t, st, 128, 128)); !math.IsInf(db, 1) {
		t.Errorf("seed 78: %.1f dB from the generator's", db)
	}
}

// tpane is one OpenSSH client in a window of a tmux server.
type tpane struct {
	sock, name string
}

func (p tpane) tmux(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-L", p.sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
	return string(out), err
}

func (p tpane) keys(t *testing.T, keys ...string) {
	t.Helper()
	if out, err := p.tmux(append([]string{"send-keys", "-t", p.name}, keys...)...); err != nil {
		t.Fatalf("send-keys %s: %v %s", p.name, err, out)
	}
}

func (p tpane) screen() string {
	out, _ := p.tmux("capture-pane", "-p", "-e", "-t", p.name)
	return out
}

func (p tpane) text() string {
	var b strings.Builder
	for _, row := range screenCells(p.screen()) {
		b.WriteString(plain(row))
		b.WriteByte('\n')
	}
	return b.String()
}

// waitText waits for the pane's text to match re.
func (p tpane) waitText(t *testing.T, what, re string) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(30 * time.Second)
	var s string
	for time.Now().Before(deadline) {
		if s = p.text(); rx.MatchString(s) {
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %s: no %q on screen in 30 s:\n%s", p.name, what, re, s)
	return ""
}

// waitImage waits for the pane's result picture to be st's.
func (p tpane) waitImage(t *testing.T, refs *refCache, st latent.State, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	best := 0.0
	for time.Now().Before(deadline) {
		if im, ok := resultImage(screenCells(p.screen())); ok {
			b := im.Bounds()
			if db := psnr(im, refs.at(t, st, b.Dx(), b.Dy())); db >= 28 {
				return
			} else if db > best {
				best = db
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %s: the result is not the picture of %s (best %.1f dB); screen:\n%s", p.name, what, st.Encode(), best, p.text())
}

// End to end over real OpenSSH clients in tmux (half-blocks): a teacher
// and three students. F broadcasts and the students follow; B branches and
// the branch's keys reach nobody else; a follower's keys change nothing;
// F follows again; the students' answers to a quiz show on the teacher's
// screen; a student dropping mid-broadcast leaves the others running.
func TestClassOpenSSH(t *testing.T) {
	needSSH(t)
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("no tmux")
	}
	dir := t.TempDir()
	_, tkey, tline := clientKey(t, dir, "id_teacher")
	tk := filepath.Join(dir, "teachers")
	if err := writeFile(tk, tline); err != nil {
		t.Fatal(err)
	}
	names := []string{"ann", "ben", "cat"}
	keys := map[string]string{"teacher": tkey}
	var ak []byte
	for _, n := range names {
		_, k, line := clientKey(t, dir, "id_"+n)
		keys[n] = k
		ak = append(ak, line...)
	}
	akf := filepath.Join(dir, "authorized_keys")
	if err := writeFile(akf, ak); err != nil {
		t.Fatal(err)
	}
	var log lockedBuffer
	srv, addr := testServer(t, Config{AuthorizedKeys: akf, TeacherKeys: tk, NoSave: true, Workers: 2, Log: &log})
	defer func() {
		if t.Failed() {
			t.Logf("server log:\n%s", log.String())
		}
	}()
	m := loadFixture(t, fixtureTiny)
	refs := newRefs(m)
	host, port, _ := strings.Cut(addr, ":")
	sock := "sgt-class-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	panes := map[string]tpane{}
	for _, n := range append([]string{"teacher"}, names...) {
		p := tpane{sock, n}
		cmd := strings.Join([]string{"ssh", "-tt", "-i", keys[n], "-l", n, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
			"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
			"-F", "/dev/null", "-p", port, host}, " ")
		if out, err := p.tmux("new-session", "-d", "-s", n, "-x", "110", "-y", "34", cmd); err != nil {
			t.Fatalf("tmux: %v %s", err, out)
		}
		panes[n] = p
	}
	t.Cleanup(func() { tpane{sock, ""}.tmux("kill-server") })
	tp, ann, ben, cat := panes["teacher"], panes["ann"], panes["ben"], panes["cat"]
	tp.waitText(t, "the class row", `○ class · 3 students · F broadcasts`)
	for _, n := range names {
		panes[n].waitText(t, "the class row", `○ class · the teacher is not broadcasting`)
	}

	start := startState(m)
	lo, hi, _ := m.Cfg.GroupSlots("middle")
	mid := start.WithStyles(lo, hi, latent.FromB)
	flo, fhi, _ := m.Cfg.GroupSlots("fine")
	annFine := start.WithStyles(flo, fhi, latent.FromB) // a group key takes that group alone from B

	tp.keys(t, "F")
	tp.waitText(t, "broadcast on", `● broadcasting · 3 following · 0 on their own`)
	for _, n := range names {
		panes[n].waitText(t, "following", `● following the teacher`)
	}
	tp.keys(t, "2")
	for _, n := range names {
		panes[n].waitImage(t, refs, mid, "following the teacher's 2")
	}

	// Ann branches; her keys are hers. Ben's keys, following, change nothing.
	ann.keys(t, "B")
	tp.waitText(t, "ann branched", `2 following · 1 on their own: ann`)
	ann.waitText(t, "ann's class row", `○ on your own`)
	ann.keys(t, "3")
	ann.waitImage(t, refs, annFine, "ann's own 3")
	ben.keys(t, "a", "x", "0")
	ben.waitText(t, "a follower's refused key", `following the teacher: B explores on your own`)
	time.Sleep(time.Second) // anything they changed would show by now
	for _, p := range []tpane{tp, ben, cat} {
		p.waitImage(t, refs, mid, "after ann's and ben's keys")
	}

	// The teacher goes on: the followers follow, ann stays; then F again.
	tp.keys(t, "0")
	ben.waitImage(t, refs, start, "the teacher's 0")
	cat.waitImage(t, refs, start, "the teacher's 0")
	ann.waitImage(t, refs, annFine, "ann on her own")
	ann.keys(t, "F")
	ann.waitImage(t, refs, start, "ann follows again")
	tp.waitText(t, "ann follows again", `● broadcasting · 3 following · 0 on their own`)

	// A quiz: the students answer, the teacher sees the counts.
	tp.keys(t, "Q")
	for _, n := range names {
		panes[n].waitText(t, "the quiz", `quiz 1/6`)
	}
	tp.waitText(t, "no answers yet", `answers to question 1 · 0 answers`)
	ann.keys(t, "1")
	ben.keys(t, "2")
	cat.keys(t, "1")
	tp.waitText(t, "the answers", `answers to question 1 · 3 answers +1\) █+ 2 +2\) █+ 1 +3\)  0`)

	// Cat drops mid-broadcast: the others go on.
	if out, err := cat.tmux("kill-session", "-t", "cat"); err != nil {
		t.Fatalf("kill cat: %v %s", err, out)
	}
	tp.waitText(t, "cat gone", `● broadcasting · 2 following`)
	tp.keys(t, "n")
	ann.waitText(t, "the next question", `quiz 2/6`)
	ben.waitText(t, "the next question", `quiz 2/6`)
	tp.waitText(t, "the next question's answers", `answers to question 2 · 0 answers`)
	if n := srv.Sessions(); n != 3 {
		t.Errorf("%d sessions open, want 3", n)
	}
	tp.keys(t, "Q", "F")
	ann.waitText(t, "broadcast off", `the teacher is not broadcasting`)
	ann.keys(t, "q")
	waitCond(t, "ann's session ended", 15*time.Second, func() bool { return srv.Sessions() == 2 })
	l := log.String()
	for _, want := range []string{"(ann) branched", "(ann) follows again", "(teacher, teacher) broadcasts to 3 students", "ended (client left)", "ended (quit)"} {
		if !strings.Contains(l, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
}
