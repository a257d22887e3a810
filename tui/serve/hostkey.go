package serve

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"
)

// HostKeyFile is the host key's name in the state directory.
const HostKeyFile = "ssh_host_ed25519_key"

// loadHostKey reads the ed25519 host key from dir, generating it (0600, in
// a 0700 directory) on first start. created reports a new key.
func loadHostKey(dir string) (signer gossh.Signer, created bool, err error) {
	path := filepath.Join(dir, HostKeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, false, fmt.Errorf("serve: state dir: %w", err)
		}
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, false, fmt.Errorf("serve: host key: %w", err)
		}
		blk, err := gossh.MarshalPrivateKey(priv, "stylegan-tui serve host key")
		if err != nil {
			return nil, false, fmt.Errorf("serve: host key: %w", err)
		}
		b = pem.EncodeToMemory(blk)
		// O_EXCL: two servers starting at once must not overwrite each other.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, false, fmt.Errorf("serve: writing host key: %w", err)
		}
		if _, err := f.Write(b); err != nil {
			f.Close()
			return nil, false, fmt.Errorf("serve: writing host key: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, false, fmt.Errorf("serve: writing host key: %w", err)
		}
		created = true
	} else if err != nil {
		return nil, false, fmt.Errorf("serve: reading host key: %w", err)
	}
	signer, err = gossh.ParsePrivateKey(b)
	if err != nil {
		return nil, false, fmt.Errorf("serve: host key %s: %w", path, err)
	}
	if signer.PublicKey().Type() != gossh.KeyAlgoED25519 {
		return nil, false, fmt.Errorf("serve: host key %s: %s, want ed25519", path, signer.PublicKey().Type())
	}
	return signer, created, nil
}

// readAuthorizedKeys parses an OpenSSH authorized_keys file (options
// before a key are accepted and ignored).
func readAuthorizedKeys(path string) ([]gossh.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("serve: authorized keys: %w", err)
	}
	var keys []gossh.PublicKey
	for n, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		k, _, _, _, err := gossh.ParseAuthorizedKey(line)
		if err != nil {
			return nil, fmt.Errorf("serve: %s:%d: %w", path, n+1, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}
