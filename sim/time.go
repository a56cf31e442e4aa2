package sim

import (
	"strconv"
	"time"
)

// Time is a point on the virtual clock, in nanoseconds since the world started.
// Durations stay time.Duration so that scenario files and options can say "150ms".
type Time int64

// Forever is a time that never comes: the return time of an operation without a
// definite answer, and the deadline of a run without a time bound.
const Forever Time = 1<<63 - 1

// Add returns t moved forward by d. It saturates at Forever: a timer or a
// latency too long to represent never comes, rather than wrapping into the past
// and moving the clock back.
func (t Time) Add(d time.Duration) Time {
	u := t + Time(d)
	if d > 0 && u < t {
		return Forever
	}
	return u
}

// Sub returns the duration from u to t.
func (t Time) Sub(u Time) time.Duration { return time.Duration(t - u) }

// Duration returns t as the duration since the world started.
func (t Time) Duration() time.Duration { return time.Duration(t) }

// String formats t like a duration since start ("1.5s"), or "forever".
func (t Time) String() string {
	if t == Forever {
		return "forever"
	}
	return time.Duration(t).String()
}

// appendTime appends t in nanoseconds: the canonical, locale-free trace form.
func appendTime(b []byte, t Time) []byte { return strconv.AppendInt(b, int64(t), 10) }
