//go:build unix && !aix

package cli

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// acquire opens path and takes an exclusive flock on it without waiting. The
// kernel drops the lock when its holder exits, however it exits, so a killed
// sweep never leaves a stale lock behind.
func acquire(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	switch {
	case err == nil:
		return f, nil
	case errors.Is(err, unix.EWOULDBLOCK):
		f.Close()
		return nil, &lockedError{dir: filepath.Dir(path), holder: holderOf(path)}
	default:
		f.Close()
		return nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
}

// release closes the file, which drops the flock. The file stays: removing
// it could let a third sweep lock a new file while a second holds the old.
func release(l *dirLock) { l.f.Close() }
