package latent

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Version is the prefix of the current state string format.
const Version = "sg1"

// Encode returns the state string of s (see the package doc).
// Decode(s.Encode()) is Equal to s for every s that passes Validate; other
// states (a NaN psi, an unknown noise mode) encode to strings that Decode
// rejects rather than to a different valid state.
func (s State) Encode() string {
	var b strings.Builder
	b.WriteString(Version)
	field := func(key, value string) {
		b.WriteByte(':')
		b.WriteString(key)
		b.WriteByte('=')
		b.WriteString(value)
	}
	for _, src := range []struct {
		key string
		s   Source
	}{{"a", s.A}, {"b", s.B}} {
		field(src.key, encodeSeed(src.s))
		if src.s.Z != nil {
			field(src.key+"z", encodeVec(src.s.Z))
		}
		if src.s.W != nil {
			field(src.key+"w", encodeVec(src.s.W))
		}
	}
	field("s", encodeStyles(s.Styles))
	if s.Psi != 1 {
		field("p", formatFloat(s.Psi))
	}
	if s.Cutoff != len(s.Styles) {
		field("c", strconv.Itoa(s.Cutoff))
	}
	if !defaultNoise(s.Noise, len(s.Styles)) {
		field("n", encodeNoise(s.Noise))
	}
	if s.Interp != (Interp{}) {
		v := formatFloat(s.Interp.T) + spaceLetter(s.Interp.Space)
		if !s.Interp.On {
			v += ",off"
		}
		field("i", v)
	}
	return b.String()
}

// String returns s.Encode(), so a State prints as its state string.
func (s State) String() string { return s.Encode() }

func formatFloat(f float64) string {
	return strings.Replace(strconv.FormatFloat(f, 'g', -1, 64), "e+", "e", 1)
}

func encodeSeed(s Source) string {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(s.Seed, 10))
	for _, n := range s.Nudges {
		b.WriteByte(',')
		b.WriteString(strconv.FormatInt(n.Seed, 10))
		b.WriteByte('@')
		b.WriteString(formatFloat(n.Step))
	}
	return b.String()
}

func encodeVec(v []float32) string {
	buf := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	return base64.RawURLEncoding.EncodeToString(buf)
}

// encodeStyles writes runs of equal slots; a run of one has no count.
func encodeStyles(styles []uint8) string {
	var b strings.Builder
	for i := 0; i < len(styles); {
		j := i
		for j < len(styles) && styles[j] == styles[i] {
			j++
		}
		if j-i > 1 {
			b.WriteString(strconv.Itoa(j - i))
		}
		switch styles[i] {
		case FromA:
			b.WriteByte('A')
		case FromB:
			b.WriteByte('B')
		default:
			b.WriteByte('X') // invalid: Decode rejects it rather than guess
		}
		i = j
	}
	return b.String()
}

func defaultNoise(noise []Noise, numStyles int) bool {
	if len(noise) != numStyles {
		return false
	}
	for i, n := range noise {
		if n != (Noise{Mode: NoiseRandom, Seed: int64(i)}) {
			return false
		}
	}
	return true
}

// encodeNoise writes one token per slot (mode letter, then the seed unless it
// is the slot's index) and merges runs of equal tokens.
func encodeNoise(noise []Noise) string {
	tokens := make([]string, len(noise))
	for i, n := range noise {
		t := noiseLetter(n.Mode)
		if n.Seed != int64(i) {
			t += strconv.FormatInt(n.Seed, 10)
		}
		tokens[i] = t
	}
	var b strings.Builder
	for i := 0; i < len(tokens); {
		j := i
		for j < len(tokens) && tokens[j] == tokens[i] {
			j++
		}
		if i > 0 {
			b.WriteByte(',')
		}
		if j-i > 1 {
			b.WriteString(strconv.Itoa(j - i))
		}
		b.WriteString(tokens[i])
		i = j
	}
	return b.String()
}

func noiseLetter(m NoiseMode) string {
	switch m {
	case NoiseRandom:
		return "r"
	case NoiseConst:
		return "c"
	case NoiseOff:
		return "o"
	}
	return "x" // invalid: Decode rejects it
}

func spaceLetter(s Space) string {
	switch s {
	case SpaceW:
		return "W"
	case SpaceZ:
		return "Z"
	}
	return "X" // invalid: Decode rejects it
}

// Decode parses a state string made by Encode (see the package doc).
// Surrounding white space is ignored. Errors name the field and what is wrong
// with it. Decode checks the string on its own terms (lengths, finite floats,
// the cutoff against the style slots, the package limits); use Validate to
// check the result against a model.
func Decode(str string) (State, error) {
	str = strings.TrimSpace(str)
	if str == "" {
		return State{}, errors.New("latent: empty state string")
	}
	version, rest, more := strings.Cut(str, ":")
	if version != Version {
		return State{}, fmt.Errorf("latent: unknown version %q (want %q)", clip(version), Version)
	}
	d := decoder{
		s:    State{A: Source{Seed: 0}, B: Source{Seed: 1}, Psi: 1}, // New's sources; psi off
		seen: map[string]bool{},
	}
	for more { // Cut's "found" rather than rest != "" so a trailing ':' is seen
		var f string
		f, rest, more = strings.Cut(rest, ":")
		if err := d.field(f); err != nil {
			return State{}, err
		}
	}
	if !d.seen["s"] {
		return State{}, errors.New(`latent: state string has no "s" field (the style slots)`)
	}
	s := d.s
	n := len(s.Styles)
	if !d.seen["c"] {
		s.Cutoff = n
	} else if s.Cutoff < 0 || s.Cutoff > n {
		return State{}, fmt.Errorf(`latent: state field "c": cutoff %d is outside 0..%d (the style slots)`, s.Cutoff, n)
	}
	if !d.seen["n"] {
		s.Noise = New(n, n, 1, n).Noise // the default: one random slot per style slot
	}
	return s, nil
}

// decoder accumulates the fields of one state string.
type decoder struct {
	s    State
	seen map[string]bool // keys already given
}

func fieldErr(key, format string, args ...any) error {
	return fmt.Errorf("latent: state field %q: %s", clip(key), fmt.Sprintf(format, args...))
}

func (d *decoder) field(f string) error {
	if f == "" {
		return errors.New("latent: state string has an empty field (two ':' in a row or a trailing ':')")
	}
	key, v, ok := strings.Cut(f, "=")
	if !ok {
		return fmt.Errorf(`latent: state field %q has no "=" (want key=value)`, clip(f))
	}
	switch key {
	case "a", "az", "aw", "b", "bz", "bw", "s", "p", "c", "n", "i":
	default:
		return fmt.Errorf("latent: unknown state field %q", clip(key))
	}
	if d.seen[key] {
		return fieldErr(key, "given twice")
	}
	d.seen[key] = true
	src := &d.s.A
	if key[0] == 'b' {
		src = &d.s.B
	}
	var err error
	switch key {
	case "a", "b":
		err = decodeSeed(key, v, src)
	case "az", "bz":
		src.Z, err = decodeVec(key, v)
	case "aw", "bw":
		src.W, err = decodeVec(key, v)
	case "s":
		d.s.Styles, err = decodeStyles(v)
	case "p":
		d.s.Psi, err = parseFloat(key, "psi", v)
	case "c":
		d.s.Cutoff, err = strconv.Atoi(v)
		if err != nil {
			err = fieldErr(key, "%q is not an integer", clip(v))
		}
	case "n":
		d.s.Noise, err = decodeNoise(v)
	case "i":
		d.s.Interp, err = decodeInterp(v)
	}
	return err
}

// clip shortens hostile input quoted in an error message.
func clip(s string) string {
	const n = 40
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func parseFloat(key, what, v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fieldErr(key, "%s %q is not a number", what, clip(v))
	}
	if err != nil || !finite(f) {
		return 0, fieldErr(key, "%s %q is not a finite number", what, clip(v))
	}
	return f, nil
}

func parseSeed(key, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fieldErr(key, "seed %q is out of the int64 range", clip(v))
	}
	if err != nil {
		return 0, fieldErr(key, "seed %q is not an integer", clip(v))
	}
	return n, nil
}

func decodeSeed(key, v string, src *Source) error {
	if c := strings.Count(v, ","); c > MaxNudges {
		return fieldErr(key, "%d nudges, at most %d allowed", c, MaxNudges)
	}
	if strings.HasSuffix(v, ",") {
		return fieldErr(key, "ends with ','")
	}
	seed, nudges, _ := strings.Cut(v, ",")
	var err error
	if src.Seed, err = parseSeed(key, seed); err != nil {
		return err
	}
	for nudges != "" {
		var n string
		n, nudges, _ = strings.Cut(nudges, ",")
		ns, step, ok := strings.Cut(n, "@")
		if !ok {
			return fieldErr(key, "nudge %q is not seed@step", clip(n))
		}
		var nu Nudge
		if nu.Seed, err = parseSeed(key, ns); err != nil {
			return err
		}
		if nu.Step, err = parseFloat(key, "nudge step", step); err != nil {
			return err
		}
		src.Nudges = append(src.Nudges, nu)
	}
	return nil
}

func decodeVec(key, v string) ([]float32, error) {
	if v == "" {
		return nil, fieldErr(key, "empty vector")
	}
	// Check the length before decoding so a huge field costs nothing.
	if len(v) > base64.RawURLEncoding.EncodedLen(4*MaxVectorLen) {
		return nil, fieldErr(key, "vector longer than %d components", MaxVectorLen)
	}
	buf, err := base64.RawURLEncoding.Strict().DecodeString(v)
	if err != nil {
		return nil, fieldErr(key, "not unpadded base64url: %v", err)
	}
	if len(buf)%4 != 0 {
		return nil, fieldErr(key, "%d bytes is not a whole number of float32", len(buf))
	}
	if len(buf) == 0 {
		return nil, fieldErr(key, "empty vector")
	}
	out := make([]float32, len(buf)/4)
	for i := range out {
		x := math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
		if !finite(float64(x)) {
			return nil, fieldErr(key, "component %d is %v", i, x)
		}
		out[i] = x
	}
	return out, nil
}

// runCount reads the optional decimal count at the start of v, returning it
// (1 if absent) and the rest. It stops at MaxSlots so no input overflows.
func runCount(key, v string) (int, string, error) {
	i, n := 0, 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		n = n*10 + int(v[i]-'0')
		if n > MaxSlots {
			return 0, "", fieldErr(key, "run count %q is more than %d slots", clip(v[:i+1]), MaxSlots)
		}
		i++
	}
	if i == 0 {
		return 1, v, nil
	}
	if n == 0 {
		return 0, "", fieldErr(key, "run count 0")
	}
	return n, v[i:], nil
}

func decodeStyles(v string) ([]uint8, error) {
	var styles []uint8
	for v != "" {
		count, rest, err := runCount("s", v)
		if err != nil {
			return nil, err
		}
		if rest == "" {
			return nil, fieldErr("s", "ends with a count and no A or B")
		}
		var src uint8
		switch rest[0] {
		case 'A':
			src = FromA
		case 'B':
			src = FromB
		default:
			return nil, fieldErr("s", "%q is not a source (want A or B, each after an optional count)", rest[:1])
		}
		if len(styles)+count > MaxSlots {
			return nil, fieldErr("s", "more than %d style slots", MaxSlots)
		}
		for range count {
			styles = append(styles, src)
		}
		v = rest[1:]
	}
	if len(styles) == 0 {
		return nil, fieldErr("s", "no style slots")
	}
	return styles, nil
}

func decodeNoise(v string) ([]Noise, error) {
	noise := []Noise{} // n= is zero slots, not "no field"
	if strings.HasSuffix(v, ",") {
		return nil, fieldErr("n", "ends with ','")
	}
	for v != "" {
		var item string
		item, v, _ = strings.Cut(v, ",")
		if item == "" {
			return nil, fieldErr("n", "empty item (want [count]mode[seed], mode r, c or o)")
		}
		count, rest, err := runCount("n", item)
		if err != nil {
			return nil, err
		}
		if rest == "" {
			return nil, fieldErr("n", "item %q has no mode (want r, c or o)", clip(item))
		}
		var mode NoiseMode
		switch rest[0] {
		case 'r':
			mode = NoiseRandom
		case 'c':
			mode = NoiseConst
		case 'o':
			mode = NoiseOff
		default:
			return nil, fieldErr("n", "item %q: %q is not a mode (want r, c or o)", clip(item), rest[:1])
		}
		explicit, seedStr := false, rest[1:]
		var seed int64
		if seedStr != "" {
			explicit = true
			if seed, err = parseSeed("n", seedStr); err != nil {
				return nil, err
			}
		}
		if len(noise)+count > MaxSlots {
			return nil, fieldErr("n", "more than %d noise slots", MaxSlots)
		}
		for range count {
			s := seed
			if !explicit {
				s = int64(len(noise))
			}
			noise = append(noise, Noise{Mode: mode, Seed: s})
		}
	}
	return noise, nil
}

func decodeInterp(v string) (Interp, error) {
	in := Interp{On: true}
	if body, ok := strings.CutSuffix(v, ",off"); ok {
		in.On, v = false, body
	}
	if v == "" {
		return Interp{}, fieldErr("i", "empty (want t then W or Z, e.g. i=0.25Z)")
	}
	if strings.Contains(v, ",") {
		return Interp{}, fieldErr("i", "%q: only \",off\" may follow the space letter", clip(v))
	}
	switch v[len(v)-1] {
	case 'W':
		in.Space = SpaceW
	case 'Z':
		in.Space = SpaceZ
	default:
		return Interp{}, fieldErr("i", "%q does not end in a space letter (want t then W or Z, e.g. i=0.25Z)", clip(v))
	}
	var err error
	if in.T, err = parseFloat("i", "t", v[:len(v)-1]); err != nil {
		return Interp{}, err
	}
	return in, nil
}
