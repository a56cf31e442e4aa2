//go:build !unix || aix

package cli

import (
	"errors"
	"os"
	"path/filepath"
)

// acquire creates path exclusively: where flock is not available (Windows,
// AIX, ...), the lock
// is the file's existence. A sweep that is killed leaves it behind, so the
// refusal says how to clear it.
func acquire(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil, &lockedError{dir: filepath.Dir(path), holder: holderOf(path),
			stale: "if no sweep is running (one was killed), delete " + path}
	}
	return f, err
}

// release removes the lock file, which is the lock.
func release(l *dirLock) {
	l.f.Close()
	os.Remove(l.path)
}
