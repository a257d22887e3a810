package safetensors

import (
	"os"
	"testing"

	"stylegan-tui/internal/testfix"
)

func FuzzParse(f *testing.F) {
	for _, p := range []string{"rosinality/tiny_s3.safetensors", "nvlabs/tf_stylegan1_32.safetensors"} {
		b, err := os.ReadFile(testfix.Path(f, p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	if b, err := sample().Marshal(); err == nil {
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add(lenOnly(1 << 63))
	f.Add(build(`{}`, nil))
	f.Add(build(`{"__metadata__":{"a":"b"}}`, nil))
	f.Add(build(`{"x":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, []byte{0, 0x3c, 0, 0xc0}))
	f.Add(build(`{"x":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]},"y":{"dtype":"F64","shape":[1,1],"data_offsets":[2,10]}}`, make([]byte, 10)))
	f.Add(build(`{"x":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Add(build(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}`, make([]byte, 24)))
	f.Add(build(`{"x":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,16]}}`, make([]byte, 16)))

	f.Fuzz(func(t *testing.T, in []byte) {
		file, err := Parse(in)
		if err != nil {
			return
		}
		var allocated int
		for _, tn := range file.Tensors {
			allocated += 4 * cap(tn.Data)
		}
		if allocated > 4*len(in)+1024 {
			t.Fatalf("allocated %d tensor bytes for a %d-byte input", allocated, len(in))
		}
		out, err := file.Marshal()
		if err != nil {
			t.Fatalf("re-marshal of a parsed file: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of marshalled file: %v", err)
		}
		equalFiles(t, again, file)
	})
}
