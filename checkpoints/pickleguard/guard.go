// Package pickleguard puts a checking front-end before gopickle's Unpickler
// so that a hostile or damaged checkpoint produces an error instead of a
// panic, a hang or an allocation larger than the file. The opcode set and
// argument encodings are those of CPython's Lib/pickletools.py.
//
// gopickle (github.com/nlpodyssey/gopickle v0.2.0) trusts every length it
// reads: BINBYTES8, BINUNICODE8, BYTEARRAY8 and FRAME allocate the claimed
// size before reading, LONG1 with length 0 indexes out of range, opcode 0xff
// indexes past its dispatch table, and LONG4/LONG decode big integers in
// quadratic time. A Reader walks the stream one opcode at a time, checks
// each claimed length against the bytes that remain, rewrites or refuses the
// dangerous cases, and only then hands the opcode to gopickle. It also caps
// the opcode count and MARK nesting, which bound gopickle's own bookkeeping.
//
// Optionally (Options.LazyMin) large byte and string payloads are not handed
// to gopickle at all: the Reader skips them and substitutes a persistent id
// that resolves to a Lazy, the payload's place in the file, so a caller can
// read only the payloads it needs (nvpkl reads Gs and never G or D).
package pickleguard

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
)

// Limits on what a checkpoint pickle may contain. Real checkpoints are far
// below them: the official 1024 px FFHQ (G, D, Gs) pickle has about 10^4
// opcodes and nests MARKs a handful of levels deep; CPython's own pickler
// cannot nest deeper than its recursion limit of 1000.
const (
	MaxOps   = 1 << 21 // opcodes per pickle
	MaxDepth = 1000    // nested MARKs
	maxShort = 256     // line argument of I, L, F, g, p, P; each line of c and i
	maxLong  = 64      // bytes of a LONG1/LONG4 integer
)

// Kind says how a Lazy payload was spelled in the pickle.
type Kind uint8

const (
	Bytes     Kind = iota + 1 // BINBYTES, BINBYTES8: Python bytes
	ByteArray                 // BYTEARRAY8: Python bytearray (protocol 5 in-band buffers)
	Str                       // BINUNICODE, BINUNICODE8: Python str, UTF-8 encoded
	BinString                 // BINSTRING: Python 2 str, raw bytes
)

func (k Kind) String() string {
	switch k {
	case Bytes:
		return "bytes"
	case ByteArray:
		return "bytearray"
	case Str:
		return "str"
	case BinString:
		return "binstring"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Lazy is a payload the Reader skipped: Len bytes at absolute offset Off of
// the underlying io.ReaderAt, still encoded as Kind says.
type Lazy struct {
	Off, Len int64
	Kind     Kind
}

// Options configures a Reader.
type Options struct {
	// LazyMin, if positive, makes payloads of bytes, bytearray and str
	// opcodes of at least LazyMin bytes come out of the Unpickler as *Lazy
	// values (via PersistentLoad, which must be set by Unpickler). It
	// cannot be combined with PersistentIDs.
	LazyMin int64
	// PersistentIDs lets the pickle's own PERSID/BINPERSID opcodes through
	// (torch uses them for storages); otherwise they are refused.
	PersistentIDs bool
	// Rename replaces the module and name of GLOBAL and INST opcodes before
	// gopickle sees them. gopickle resolves a few globals itself, before
	// FindClass: collections.OrderedDict among them, with a constructor that
	// takes no arguments, while Python 2's OrderedDict pickles its items as
	// the argument. Renaming it lets FindClass supply a complete one.
	Rename map[Global]Global
}

// Global is a module-level name a pickle refers to.
type Global struct{ Module, Name string }

// Reader is the checked opcode stream of one pickle; it implements the
// io.Reader and io.ByteReader that pickle.NewUnpickler wants. It stops after
// the STOP opcode, so several pickles written back to back (torch's legacy
// format) are read by consecutive Readers starting at each other's Offset.
type Reader struct {
	ra       io.ReaderAt
	pos, end int64 // absolute offsets: next unread source byte, end of the allowed region

	buf    []byte // source buffer holding [bufOff, bufOff+len(buf))
	bufOff int64

	out    []byte // opcode (possibly rewritten) waiting for gopickle
	outPos int
	pass   int64 // payload bytes to copy straight from the source after out

	opt     Options
	ops     int
	depth   int
	stopped bool
	err     error
	lazy    []*Lazy
}

// New returns a Reader for the pickle that starts at absolute offset start
// of ra and may extend up to (not including) end.
func New(ra io.ReaderAt, start, end int64, opt Options) *Reader {
	if opt.LazyMin > 0 && opt.PersistentIDs {
		panic("pickleguard: LazyMin and PersistentIDs are exclusive")
	}
	return &Reader{ra: ra, pos: start, end: end, bufOff: start, opt: opt, buf: make([]byte, 0, 16<<10)}
}

// Offset is the absolute offset of the first source byte not yet consumed;
// once gopickle has returned, the byte after the pickle's STOP.
func (r *Reader) Offset() int64 { return r.pos }

// Err is the error that made the Reader stop the stream, if any. It is more
// precise than what gopickle reports for the same failure.
func (r *Reader) Err() error { return r.err }

// Lazy resolves a persistent id that the Reader substituted for a payload.
func (r *Reader) Lazy(id any) (*Lazy, bool) {
	i, ok := id.(int)
	if !ok || i < 0 || i >= len(r.lazy) {
		return nil, false
	}
	return r.lazy[i], true
}

// Unpickler returns a gopickle Unpickler reading from r. If lazy payloads
// are on, its PersistentLoad resolves them; callers set FindClass.
func (r *Reader) Unpickler() *pickle.Unpickler {
	u := pickle.NewUnpickler(r)
	if r.opt.LazyMin > 0 {
		u.PersistentLoad = func(id any) (any, error) {
			if l, ok := r.Lazy(id); ok {
				return l, nil
			}
			return nil, errors.New("unknown persistent id")
		}
	}
	return &u
}

// Load runs u (which must read from r) to the pickle's STOP. Errors are one
// line: an error of u.FindClass (a refused global) comes back as it is; the
// Reader's own error takes precedence over gopickle's echo of it; any other
// error, and a panic inside gopickle or the callbacks it calls, is reported
// as a malformed pickle near the offset reached.
func Load(u *pickle.Unpickler, r *Reader) (v any, err error) {
	if findClass := u.FindClass; findClass != nil {
		u.FindClass = func(module, name string) (any, error) {
			c, err := findClass(module, name)
			if err != nil {
				return nil, refusal{err}
			}
			return c, nil
		}
	}
	defer func() {
		if p := recover(); p != nil {
			v = nil
			err = fmt.Errorf("gopickle panicked: %v", p)
		}
		var rf refusal
		switch {
		case r.Err() != nil:
			v, err = nil, r.Err()
		case errors.As(err, &rf):
			err = rf.err
		case err != nil:
			err = fmt.Errorf("malformed pickle near offset %d: %w", r.pos, err)
		}
		if err != nil {
			v, err = nil, OneLine(err)
		}
	}()
	return u.Load()
}

// refusal marks an error of FindClass.
type refusal struct{ err error }

func (r refusal) Error() string { return r.err.Error() }

// LoadFile opens path and hands it and its size to load; an error comes
// back on one line as "pkg: path: ..." (the readers' shared entry point).
func LoadFile(pkg, path string, load func(ra io.ReaderAt, size int64) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", pkg, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", pkg, err)
	}
	if err := load(f, fi.Size()); err != nil {
		return OneLine(fmt.Errorf("%s: %s: %w", pkg, path, err))
	}
	return nil
}

// OneLine keeps an error message on one line and of readable length:
// gopickle formats whole objects into some of its messages with %#v, and
// names taken from a file may hold line breaks.
func OneLine(err error) error {
	const max = 400
	msg := err.Error()
	if len(msg) <= max && !strings.ContainsAny(msg, "\n\r") {
		return err
	}
	msg = strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(msg)
	if len(msg) > max {
		msg = strings.ToValidUTF8(msg[:max], "") + "..."
	}
	return errors.New(msg)
}

// Read implements io.Reader for gopickle.
func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if r.err != nil {
			return 0, r.err
		}
		if r.outPos < len(r.out) {
			n := copy(p, r.out[r.outPos:])
			r.outPos += n
			return n, nil
		}
		if r.pass > 0 {
			if int64(len(p)) > r.pass {
				p = p[:r.pass]
			}
			n, err := r.srcRead(p)
			r.pass -= int64(n)
			if n == 0 {
				r.fail(r.pos, "truncated inside a payload (%v)", err)
				return 0, r.err
			}
			return n, nil
		}
		if r.stopped {
			return 0, io.EOF
		}
		r.step()
	}
}

// ReadByte implements io.ByteReader for gopickle.
func (r *Reader) ReadByte() (byte, error) {
	var b [1]byte
	if _, err := r.Read(b[:]); err != nil {
		return 0, err
	}
	return b[0], nil
}

func (r *Reader) fail(off int64, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("pickle offset %d: %s", off, fmt.Sprintf(format, args...))
	}
}

// srcByte and srcRead read the underlying file through a small buffer.
func (r *Reader) srcByte() (byte, error) {
	if r.pos < r.bufOff || r.pos >= r.bufOff+int64(len(r.buf)) {
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	b := r.buf[r.pos-r.bufOff]
	r.pos++
	return b, nil
}

func (r *Reader) fill() error {
	if r.pos >= r.end {
		return io.EOF
	}
	n := int64(cap(r.buf))
	if rest := r.end - r.pos; rest < n {
		n = rest
	}
	r.buf = r.buf[:n]
	m, err := r.ra.ReadAt(r.buf, r.pos)
	r.buf = r.buf[:m]
	r.bufOff = r.pos
	if m == 0 {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

func (r *Reader) srcRead(p []byte) (int, error) {
	if int64(len(p)) > r.end-r.pos {
		p = p[:r.end-r.pos]
		if len(p) == 0 {
			return 0, io.ErrUnexpectedEOF
		}
	}
	if r.pos >= r.bufOff && r.pos < r.bufOff+int64(len(r.buf)) {
		n := copy(p, r.buf[r.pos-r.bufOff:])
		r.pos += int64(n)
		return n, nil
	}
	if len(p) >= cap(r.buf)/2 { // big payload: straight into gopickle's buffer
		n, err := r.ra.ReadAt(p, r.pos)
		r.pos += int64(n)
		if n == len(p) {
			err = nil
		}
		return n, err
	}
	if err := r.fill(); err != nil {
		return 0, err
	}
	return r.srcRead(p)
}

// arg reads n argument bytes into out.
func (r *Reader) arg(n int) ([]byte, bool) {
	start := len(r.out)
	for i := 0; i < n; i++ {
		b, err := r.srcByte()
		if err != nil {
			return nil, false
		}
		r.out = append(r.out, b)
	}
	return r.out[start:], true
}

// line reads a newline-terminated argument of at most max bytes into out.
func (r *Reader) line(max int64) bool {
	for i := int64(0); ; i++ {
		if i > max {
			return false
		}
		b, err := r.srcByte()
		if err != nil {
			return false
		}
		r.out = append(r.out, b)
		if b == '\n' {
			return true
		}
	}
}

// step reads one opcode and its arguments from the source, checks them and
// queues what gopickle should see.
func (r *Reader) step() {
	r.out, r.outPos = r.out[:0], 0
	start := r.pos
	op, err := r.srcByte()
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			r.fail(start, "truncated: the pickle ends without a STOP opcode")
		} else {
			r.fail(start, "%v", err)
		}
		return
	}
	if r.ops++; r.ops > MaxOps {
		r.fail(start, "more than %d opcodes", MaxOps)
		return
	}
	truncated := func() { r.fail(start, "truncated inside opcode 0x%02x", op) }
	r.out = append(r.out, op)
	switch op {
	case '.': // STOP
		r.stopped = true
	case '(': // MARK
		if r.depth++; r.depth > MaxDepth {
			r.fail(start, "MARKs nested deeper than %d", MaxDepth)
		}
	case 't', 'l', 'd', 'u', 'e', '1', 'o', 0x90, 0x91: // TUPLE LIST DICT SETITEMS APPENDS POP_MARK OBJ ADDITEMS FROZENSET
		if r.depth > 0 {
			r.depth--
		}
	case '0', '2', 'N', ')', ']', '}', 'a', 'b', 'R', 's', // POP DUP NONE EMPTY_TUPLE EMPTY_LIST EMPTY_DICT APPEND BUILD REDUCE SETITEM
		0x81, 0x85, 0x86, 0x87, 0x88, 0x89, // NEWOBJ TUPLE1-3 NEWTRUE NEWFALSE
		0x8f, 0x92, 0x93, 0x94, 0x98: // EMPTY_SET NEWOBJ_EX STACK_GLOBAL MEMOIZE READONLY_BUFFER
	case 'K', 'h', 'q': // BININT1 BINGET BINPUT
		if _, ok := r.arg(1); !ok {
			truncated()
		}
	case 0x80: // PROTO
		if a, ok := r.arg(1); !ok {
			truncated()
		} else if a[0] > pickle.HighestProtocol {
			r.fail(start, "pickle protocol %d is newer than %d", a[0], pickle.HighestProtocol)
		}
	case 'M': // BININT2
		if _, ok := r.arg(2); !ok {
			truncated()
		}
	case 'J', 'j', 'r': // BININT LONG_BINGET LONG_BINPUT
		if _, ok := r.arg(4); !ok {
			truncated()
		}
	case 'G': // BINFLOAT
		if _, ok := r.arg(8); !ok {
			truncated()
		}
	case 'I', 'L', 'F', 'g', 'p': // INT LONG FLOAT GET PUT (decimal text)
		if !r.line(maxShort) {
			r.fail(start, "bad or overlong text argument of opcode %q", op)
		}
	case 'S', 'V': // STRING UNICODE (text, bounded by the file)
		if !r.line(r.end - r.pos) {
			truncated()
		}
	case 'c', 'i': // GLOBAL INST: module and name lines
		if !r.line(maxShort) || !r.line(maxShort) {
			r.fail(start, "bad or overlong module/name of opcode %q", op)
			return
		}
		if r.opt.Rename != nil {
			m, n, _ := strings.Cut(strings.TrimSuffix(string(r.out[1:]), "\n"), "\n")
			if to, ok := r.opt.Rename[Global{m, n}]; ok {
				r.out = append(append(append(append(r.out[:1], to.Module...), '\n'), to.Name...), '\n')
			}
		}
	case 'P', 'Q': // PERSID BINPERSID
		if !r.opt.PersistentIDs {
			r.fail(start, "persistent ids are not used by this kind of file")
			return
		}
		if op == 'P' && !r.line(maxShort) {
			truncated()
		}
	case 'U', 'C', 0x8c: // SHORT_BINSTRING SHORT_BINBYTES SHORT_BINUNICODE
		if a, ok := r.arg(1); !ok {
			truncated()
		} else {
			r.payload(start, int64(a[0]), 0)
		}
	case 'T', 'X', 'B': // BINSTRING BINUNICODE BINBYTES: 4-byte length
		a, ok := r.arg(4)
		if !ok {
			truncated()
			return
		}
		n := int64(binary.LittleEndian.Uint32(a))
		if op == 'T' && n > 1<<31-1 {
			r.fail(start, "BINSTRING with negative length")
			return
		}
		r.payload(start, n, payloadKind(op))
	case 0x8d, 0x8e, 0x96: // BINUNICODE8 BINBYTES8 BYTEARRAY8: 8-byte length
		a, ok := r.arg(8)
		if !ok {
			truncated()
			return
		}
		n := binary.LittleEndian.Uint64(a)
		if n > uint64(r.end-r.pos) {
			r.fail(start, "opcode 0x%02x claims %d bytes, only %d remain", op, n, r.end-r.pos)
			return
		}
		r.payload(start, int64(n), payloadKind(op))
	case 0x8a, 0x8b: // LONG1 LONG4
		var n int64
		if op == 0x8a {
			a, ok := r.arg(1)
			if !ok {
				truncated()
				return
			}
			n = int64(a[0])
		} else {
			a, ok := r.arg(4)
			if !ok {
				truncated()
				return
			}
			n = int64(int32(binary.LittleEndian.Uint32(a)))
		}
		switch {
		case n < 0 || n > maxLong:
			r.fail(start, "integer of %d bytes (limit %d)", n, maxLong)
		case n == 0: // Python's encoding of 0; gopickle's decodeLong panics on it
			r.out = append(r.out[:0], 'K', 0)
		default:
			if _, ok := r.arg(int(n)); !ok {
				truncated()
			}
		}
	case 0x95: // FRAME: checked and dropped, so gopickle never allocates the claimed frame
		a, ok := r.arg(8)
		if !ok {
			truncated()
			return
		}
		if n := binary.LittleEndian.Uint64(a); n > uint64(r.end-r.pos) {
			r.fail(start, "FRAME claims %d bytes, only %d remain", n, r.end-r.pos)
			return
		}
		r.out = r.out[:0]
	case 0x82, 0x83, 0x84: // EXT1 EXT2 EXT4
		r.fail(start, "pickle uses the copyreg extension registry (opcode 0x%02x)", op)
	case 0x97: // NEXT_BUFFER
		r.fail(start, "pickle refers to an out-of-band buffer (protocol 5 NEXT_BUFFER); only in-band data is supported")
	default:
		r.fail(start, "unknown opcode 0x%02x", op)
	}
}

// payload handles the n data bytes after a counted opcode already in out.
// kind is 0 for payloads that are never lazy.
func (r *Reader) payload(start, n int64, kind Kind) {
	if rest := r.end - r.pos; n > rest {
		r.fail(start, "opcode 0x%02x claims %d bytes, only %d remain", r.out[0], n, rest)
		return
	}
	if kind != 0 && r.opt.LazyMin > 0 && n >= r.opt.LazyMin {
		id := len(r.lazy)
		if id > 1<<31-1 {
			r.fail(start, "too many payloads")
			return
		}
		r.lazy = append(r.lazy, &Lazy{Off: r.pos, Len: n, Kind: kind})
		r.pos += n
		// BININT id, BINPERSID: gopickle calls PersistentLoad(id).
		r.out = append(r.out[:0], 'J', 0, 0, 0, 0, 'Q')
		binary.LittleEndian.PutUint32(r.out[1:5], uint32(id))
		return
	}
	r.pass = n
}

// payloadKind is how a counted opcode's payload comes out of gopickle.
func payloadKind(op byte) Kind {
	switch op {
	case 'T':
		return BinString
	case 'X', 0x8d:
		return Str
	case 'B', 0x8e:
		return Bytes
	case 0x96:
		return ByteArray
	}
	return 0
}
