package testenv

import (
	"io/fs"
	"os"
	"path/filepath"
)

// Damage corrupts the stored bytes of an object on the server's drive (its metadata and data files), as a
// failing disk would. The server keeps serving every other object; reading this one then fails with a 5xx
// answer (InternalError for a CRC mismatch, SlowDownRead for an unreadable inline object), which is what a
// client sees as a transient error that never heals.
func (m *MinIO) Damage(bucket, key string) {
	m.tb.Helper()
	dir := filepath.Join(m.proc.args[len(m.proc.args)-1], bucket, filepath.FromSlash(key))
	damaged := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i := len(b) / 2; i < len(b) && i < len(b)/2+64; i++ {
			b[i] ^= 0xff
		}
		damaged++
		return os.WriteFile(path, b, 0o600)
	})
	if err != nil || damaged == 0 {
		m.tb.Fatalf("testenv: damage %s/%s: %d files damaged, %v", bucket, key, damaged, err)
	}
}
