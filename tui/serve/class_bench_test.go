package serve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"stylegan-tui/checkpoints"
	"stylegan-tui/latent"
)

// BenchmarkClassBroadcast: a teacher and 30 followers (STYLEGAN_CLASS_FOLLOWERS
// to change it), all real OpenSSH clients (ssh -tt on pipes, answering the
// explorer's queries as an 80x24 sixel terminal of 10x20 px cells; sixel
// forced), on the
// embedded default model. Each op is one teacher key that makes a new state
// (the cursor to a slot and space: the slots toggle in Gray code, so no
// state comes twice). It reports the time from the teacher's key to the
// complete new picture in each follower's stream (p50, p95, max over every
// follower and op), the renders and encodings per op (the bar: one render
// per state change), and the load average at the start and the end. The
// baseline, unshared, is the same class with every explorer rendering and
// encoding for itself.
//
//	go test -p 1 -run '^$' -bench ClassBroadcast -benchtime 20x ./serve
//
// (Each run of the function logs 31 clients in: give it a fixed count.)
func BenchmarkClassBroadcast(b *testing.B) {
	b.Run("shared", func(b *testing.B) { benchClass(b, true) })
	b.Run("unshared", func(b *testing.B) { benchClass(b, false) })
}

func benchClass(b *testing.B, shared bool) {
	defer func(old bool) { classShares = old }(classShares)
	classShares = shared
	if _, err := exec.LookPath("ssh"); err != nil {
		b.Skip("no OpenSSH client")
	}
	followers := 30
	if v := os.Getenv("STYLEGAN_CLASS_FOLLOWERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("STYLEGAN_CLASS_FOLLOWERS=%q: want a number >= 1", v)
		}
		followers = n
	}
	m, err := checkpoints.Default()
	if err != nil {
		b.Fatalf("the default model: %v", err)
	}
	load0 := loadAvg()
	dir := b.TempDir()
	_, tkey, tline := clientKey(b, dir, "id_teacher")
	_, skey, sline := clientKey(b, dir, "id_student")
	if err := writeFile(filepath.Join(dir, "teachers"), tline); err != nil {
		b.Fatal(err)
	}
	if err := writeFile(filepath.Join(dir, "students"), sline); err != nil {
		b.Fatal(err)
	}
	srv, err := New(Config{Models: []NamedModel{{"default", m}}, AuthorizedKeys: filepath.Join(dir, "students"),
		TeacherKeys: filepath.Join(dir, "teachers"), StateDir: dir, NoSave: true, MaxSessions: followers + 8,
		// Sixel forced, as TestLoad does: with 31 logins at once a DA1 reply
		// can miss the explorer's detection window (TestOpenSSH covers it).
		Graphics: "sixel"})
	if err != nil {
		b.Fatal(err)
	}
	a, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		srv.Shutdown(ctx, "bench over")
	}()
	addr := a.String()
	cls, pool := srv.classes["default"], srv.pools["default"]

	teacher := sshTB(b, addr, tkey, "teacher")
	var fs []*sshProc
	for i := 0; i < followers; i++ {
		fs = append(fs, sshTB(b, addr, skey, fmt.Sprintf("s%d", i)))
		time.Sleep(30 * time.Millisecond) // a room logging in, not one packet
	}
	all := append([]*sshProc{teacher}, fs...)
	for _, c := range all {
		if err := waitUntil(c.out, 120*time.Second, hasDA1Query); err != nil {
			b.Fatalf("%s: the explorer's queries: %v (%s)", c.name, err, c.stderr.String())
		}
		c.send(b, sixelReplies)
	}
	for _, c := range all {
		if err := waitUntil(c.out, 120*time.Second, func(p []byte) bool { return hasSixel(p, 0) }); err != nil {
			b.Fatalf("%s: the first picture: %v", c.name, err)
		}
	}
	teacher.send(b, "F")
	for _, c := range fs {
		if err := waitUntil(c.out, 60*time.Second, func(p []byte) bool { return bytes.Contains(p, []byte("following the teacher")) }); err != nil {
			b.Fatalf("%s: following: %v", c.name, err)
		}
	}

	// The states of the ops (one more: the first op is a warm-up) and
	// their pictures, rendered before the clock runs.
	refs := newRefs(m)
	n := len(startState(m).Styles)
	states := []latent.State{startState(m)}
	slots := []int{0}
	for i := 1; i <= b.N+1; i++ {
		k := 0
		for i>>k&1 == 0 {
			k++
		}
		k %= n
		states = append(states, states[i-1].ToggleStyle(k))
		slots = append(slots, k)
		refs.at(b, states[i], 1, 1)
	}
	var lat []time.Duration
	verdicts := map[[32]byte]bool{}
	cursor := 0
	op := func(i int) {
		from := make([]int, len(fs))
		for j, c := range fs {
			from[j] = c.out.len()
		}
		keys := strings.Repeat("h", max(0, cursor-slots[i])) + strings.Repeat("l", max(0, slots[i]-cursor)) + " "
		cursor = slots[i]
		at := time.Now()
		teacher.send(b, keys)
		for j, c := range fs {
			var got time.Duration
			err := waitUntil(c.out, 60*time.Second, func(p []byte) bool {
				for _, s := range sixelSpans(p, from[j]) {
					from[j] = s.end
					h := sha256.Sum256(p[s.start:s.end])
					ok, seen := verdicts[h]
					if !seen {
						ok = showsState(b, refs, p[s.start:s.end], states[i], states[i-1])
						verdicts[h] = ok
					}
					if ok {
						got = c.out.arrival(s.end - 1).Sub(at)
						return true
					}
				}
				return false
			})
			if err != nil {
				b.Fatalf("op %d, %s: no picture of %s: %v", i, c.name, states[i].Encode(), err)
			}
			if i > 1 {
				lat = append(lat, got)
			}
		}
	}
	op(1) // warm-up: the pair's palette is built
	r0, e0 := pool.renders.Load(), cls.encodes.Count()
	b.ResetTimer()
	for i := 2; i <= b.N+1; i++ {
		op(i)
	}
	b.StopTimer()
	renders, encodes := pool.renders.Load()-r0, cls.encodes.Count()-e0
	load1 := loadAvg()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(f float64) time.Duration { return lat[min(len(lat)-1, int(f*float64(len(lat))))] }
	b.ReportMetric(float64(q(0.5).Milliseconds()), "p50-ms")
	b.ReportMetric(float64(q(0.95).Milliseconds()), "p95-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Milliseconds()), "max-ms")
	b.ReportMetric(float64(renders)/float64(b.N), "renders/op")
	if shared { // (unshared, each explorer encodes its own: not counted)
		b.ReportMetric(float64(encodes)/float64(b.N), "encodes/op")
	}
	b.Logf("%d followers over OpenSSH, %s %dpx, %d CPUs, %d ops: teacher's key -> each follower's picture p50 %v p95 %v max %v; %d renders, %d encodings; load average %s at the start, %s at the end",
		followers, m.Cfg.Name, m.Cfg.Resolution(), runtime.NumCPU(), b.N, q(0.5).Round(time.Millisecond), q(0.95).Round(time.Millisecond),
		lat[len(lat)-1].Round(time.Millisecond), renders, encodes, load0, load1)
}

// showsState reports whether a sixel is st's picture (and not prev's).
func showsState(b *testing.B, refs *refCache, seq []byte, st, prev latent.State) bool {
	for _, s := range sixels(seq, 0) {
		bb := s.img.Bounds()
		db := psnr(s.img, refs.at(b, st, bb.Dx(), bb.Dy()))
		return db >= recognised && db >= psnr(s.img, refs.at(b, prev, bb.Dx(), bb.Dy()))
	}
	return false
}

// sixelSpans are the complete sixel sequences in p from offset from on.
func sixelSpans(p []byte, from int) []sixelAt {
	var out []sixelAt
	for off := from; ; {
		i := bytes.Index(p[off:], []byte("\x1bP"))
		if i < 0 {
			return out
		}
		s := off + i
		j := bytes.Index(p[s:], []byte("\x1b\\"))
		if j < 0 {
			return out
		}
		out = append(out, sixelAt{start: s, end: s + j + 2})
		off = s + j + 2
	}
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// sshProc is an OpenSSH client on pipes (for benchmarks: testing.TB).
type sshProc struct {
	name   string
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *tape
	stderr *lockedBuffer
}

func sshTB(tb testing.TB, addr, key, user string) *sshProc {
	tb.Helper()
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command("ssh", "-tt", "-i", key, "-l", user, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
		"-F", "/dev/null", "-p", port, host)
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	c := &sshProc{name: user, cmd: cmd, in: in, out: &tape{}, stderr: &lockedBuffer{}}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		c.out.readFrom(stdout)
		cmd.Wait()
		close(done)
	}()
	tb.Cleanup(func() {
		in.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return c
}

func (c *sshProc) send(tb testing.TB, s string) {
	tb.Helper()
	if _, err := io.WriteString(c.in, s); err != nil {
		tb.Fatalf("%s: ssh stdin: %v", c.name, err)
	}
}
