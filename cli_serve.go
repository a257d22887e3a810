package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"stylegan-tui/tui/serve"
)

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// runServe serves the explorer over SSH until SIGINT or SIGTERM.
func runServe(args []string, stdout, stderr io.Writer) error {
	return serveMain(args, stdout, stderr, nil)
}

// serveMain is runServe with a hook that learns the listening address
// (tests); it returns when a signal (or ctx in tests) ends the server.
func serveMain(args []string, stdout, stderr io.Writer, ready func(addr net.Addr, stop func())) error {
	var f serveFlags
	if err := parseFlags(&f, newFlags("serve", "[--listen 127.0.0.1:2222] [--checkpoint F ...] [--authorized-keys FILE | --allow-anyone] [--teacher-keys FILE] [flags]", stderr), args); err != nil {
		return err
	}
	return f.run(stdout, stderr, ready)
}

// serveFlags are serve's flags; check fills bps and the defaults that
// depend on --state-dir.
type serveFlags struct {
	listen               string
	ckpts                multiFlag
	authKeys, teachers   string
	anyone, noSave       bool
	stateDir, outDir     string
	maxSessions, workers int
	idle                 time.Duration
	rate, graphics       string

	bps int64 // --max-output-rate
}

func (f *serveFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.listen, "listen", "127.0.0.1:2222", "address to listen on (loopback by default; 0.0.0.0:2222 for a class network)")
	fs.Var(&f.ckpts, "checkpoint", "generator checkpoint (repeat to offer several; ssh NAME@host picks one by file name), or \"default\" (embedded); default: default")
	fs.StringVar(&f.authKeys, "authorized-keys", "", "OpenSSH authorized_keys file: only these keys get in (default: STATE-DIR/authorized_keys)")
	fs.BoolVar(&f.anyone, "allow-anyone", false, "admit every client, with or without a key (prints a warning)")
	fs.StringVar(&f.teachers, "teacher-keys", "", "authorized_keys file of the teachers: a class, in which a teacher's F broadcasts to every student (B branches, F follows again)")
	fs.StringVar(&f.stateDir, "state-dir", serve.DefaultStateDir(), "directory of the host key (generated on first start)")
	fs.StringVar(&f.outDir, "out-dir", "", "directory the save key writes to, one sub-directory per client key (default: STATE-DIR/saved)")
	fs.BoolVar(&f.noSave, "no-save", false, "disable saving images")
	fs.IntVar(&f.maxSessions, "max-sessions", 32, "most concurrent sessions")
	fs.DurationVar(&f.idle, "idle-timeout", 10*time.Minute, "close a session after this long without a key (0 = never)")
	fs.StringVar(&f.rate, "max-output-rate", "4MiB", "per-session output limit in bytes a second (K, M, KiB, MiB suffixes; 0 = unlimited)")
	fs.IntVar(&f.workers, "workers", 0, "generators rendering for all sessions (0 = number of CPUs)")
	fs.StringVar(&f.graphics, "graphics", "auto", "image output: auto (sixel if the client's terminal answers DA1 with 4, else half-blocks), sixel or halfblock")
}

func (f *serveFlags) check(*flag.FlagSet) error {
	if f.authKeys != "" && f.anyone {
		return usageError{"--authorized-keys and --allow-anyone exclude each other"}
	}
	switch f.graphics {
	case "auto", "sixel", "halfblock":
	default:
		return usageError{"--graphics " + f.graphics + ": want auto, sixel or halfblock"}
	}
	var err error
	if f.bps, err = parseRate(f.rate); err != nil {
		return usageError{"--max-output-rate: " + err.Error()}
	}
	if f.maxSessions < 1 {
		return usageError{"--max-sessions: want at least 1"}
	}
	if f.idle < 0 {
		return usageError{"--idle-timeout: want a duration >= 0"}
	}
	if !f.anyone && f.authKeys == "" {
		f.authKeys = filepath.Join(f.stateDir, "authorized_keys")
		if _, err := os.Stat(f.authKeys); err != nil {
			return usageError{fmt.Sprintf("no --authorized-keys given and %s does not exist: pass --authorized-keys FILE (or --allow-anyone)", f.authKeys)}
		}
	}
	if f.outDir == "" {
		f.outDir = filepath.Join(f.stateDir, "saved")
	}
	if len(f.ckpts) == 0 {
		f.ckpts = multiFlag{"default"}
	}
	return nil
}

// run serves until a signal, or ready's stop, ends the server.
func (f *serveFlags) run(stdout, stderr io.Writer, ready func(addr net.Addr, stop func())) error {
	var models []serve.NamedModel
	for _, c := range f.ckpts {
		m, err := loadModel(c)
		if err != nil {
			return err
		}
		models = append(models, serve.NamedModel{Name: serveModelName(c), Model: m})
	}
	srv, err := serve.New(serve.Config{
		Models: models, AuthorizedKeys: f.authKeys, AllowAnyone: f.anyone, TeacherKeys: f.teachers,
		StateDir: f.stateDir, OutDir: f.outDir, NoSave: f.noSave,
		MaxSessions: f.maxSessions, IdleTimeout: f.idle, MaxOutputRate: f.bps,
		Workers: f.workers, Graphics: f.graphics, Log: stderr,
	})
	if err != nil {
		return err
	}
	addr, err := srv.Listen(f.listen)
	if err != nil {
		return err
	}
	f.announce(srv, addr, stdout, stderr)
	return serveUntilStopped(srv, addr, stderr, ready)
}

// announce prints what a client needs to connect (stdout) and the warnings
// about who can (stderr).
func (f *serveFlags) announce(srv *serve.Server, addr net.Addr, stdout, stderr io.Writer) {
	if f.anyone {
		fmt.Fprintln(stderr, "WARNING: --allow-anyone: every client that can reach", addr, "gets a session, with or without a key")
	}
	if tcp, ok := addr.(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		fmt.Fprintln(stderr, "note: listening on", addr, "(not loopback): reachable from the network")
	}
	verb := "host key"
	if srv.NewHostKey() {
		verb = "new host key"
	}
	fmt.Fprintf(stdout, "stylegan-tui serve: listening on %s\n  %s %s\n  fingerprint %s\n  models: %s\n  connect: ssh -p %d HOST\n",
		addr, verb, srv.HostKeyPath(), srv.Fingerprint(), strings.Join(srv.Models(), ", "), addr.(*net.TCPAddr).Port)
	if f.teachers != "" {
		fmt.Fprintf(stdout, "  class: the keys in %s are teachers (F broadcasts); students connect as ssh -p %d NAME@HOST\n", f.teachers, addr.(*net.TCPAddr).Port)
	}
}

// serveUntilStopped serves until SIGINT, SIGTERM or ready's stop, then
// shuts down, giving open sessions a goodbye and up to 10 s.
func serveUntilStopped(srv *serve.Server, addr net.Addr, stderr io.Writer, ready func(addr net.Addr, stop func())) error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	stopCh := make(chan struct{})
	stop := sync.OnceFunc(func() { close(stopCh) }) // safe from any goroutine
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	if ready != nil {
		ready(addr, stop)
	}
	select {
	case err := <-errc:
		return err
	case s := <-sig:
		fmt.Fprintf(stderr, "stylegan-tui serve: %v: closing %d sessions\n", s, srv.Sessions())
	case <-stopCh:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx, "stylegan-tui: the server is shutting down; bye"); err != nil {
		return err
	}
	return <-errc
}

// serveModelName is the name a checkpoint is offered under: its file name
// without extension.
func serveModelName(path string) string {
	if path == "default" {
		return "default"
	}
	b := filepath.Base(path)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// parseRate reads "4MiB", "500K", "1000000" (bytes a second).
func parseRate(s string) (int64, error) {
	s = strings.TrimSuffix(strings.TrimSpace(s), "/s")
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"K", 1000}, {"M", 1000000}, {"G", 1000000000}, {"B", 1}} {
		if strings.HasSuffix(s, u.suf) {
			s, mult = strings.TrimSuffix(s, u.suf), u.m
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q: want bytes a second like 4MiB or 0", s)
	}
	return int64(v * float64(mult)), nil
}
