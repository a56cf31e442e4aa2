package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// lockName is the file a sweep locks in its scenario's results directory.
const lockName = "sweep.lock"

// dirLock is a sweep's exclusive hold on one results directory. Two sweeps
// sharing one would run the same seeds twice and interleave their lines; the
// second one is refused at once instead.
type dirLock struct {
	f    *os.File
	path string
}

// lockedError says that another sweep holds a results directory.
type lockedError struct {
	dir    string
	holder string // the holder's pid as it wrote it, "" if unknown
	stale  string // how to clear a lock a killed sweep left, where one can be left
}

func (e *lockedError) Error() string {
	who := "another sweep"
	if e.holder != "" {
		who += " (pid " + e.holder + ")"
	}
	msg := fmt.Sprintf("--out: %s is in use by %s: wait for it to finish, or choose another --out", e.dir, who)
	if e.stale != "" {
		msg += "; " + e.stale
	}
	return msg
}

// lockDir takes the lock on dir, or fails at once if another sweep holds it.
// It writes this process's pid into the lock file, for the other sweep's
// message.
func lockDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, lockName)
	f, err := acquire(path)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0) // only for messages
	}
	return &dirLock{f: f, path: path}, nil
}

func (l *dirLock) unlock() { release(l) }

// holderOf reads the pid a lock holder wrote, for the refusal message.
func holderOf(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}
