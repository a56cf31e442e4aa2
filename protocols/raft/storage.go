package raft

import (
	"encoding/binary"
	"errors"
	"strconv"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Disk layout (Raft Figure 2, "persistent state on all servers"):
//
//	raft/hard                         uvarint currentTerm, varint votedFor (-1: none)
//	raft/log/<index, 20 digits>       uvarint term, then the command (service.Command.AppendBinary)
//
// One key per entry keeps an append one small write and a truncation a few
// deletes; zero-padded indexes make the disk's sorted key order the log order.
// The commit index and the state machine are volatile: a restarted server
// learns the commit index again from the leader (or, as leader, by counting)
// and rebuilds the state machine by re-applying the committed prefix.

const (
	hardStateKey = "raft/hard"
	logKeyPrefix = "raft/log/"
	indexDigits  = 20 // enough for any uint64
)

// logKey returns the disk key of the entry at index.
func logKey(index uint64) string {
	var buf [len(logKeyPrefix) + indexDigits]byte
	copy(buf[:], logKeyPrefix)
	digits := strconv.AppendUint(buf[len(logKeyPrefix):len(logKeyPrefix)], index, 10)
	pad := indexDigits - len(digits)
	copy(buf[len(logKeyPrefix)+pad:], digits)
	for i := len(logKeyPrefix); i < len(logKeyPrefix)+pad; i++ {
		buf[i] = '0'
	}
	return string(buf[:])
}

// parseLogKey returns the index of a log key.
func parseLogKey(key string) (uint64, bool) {
	if len(key) != len(logKeyPrefix)+indexDigits || key[:len(logKeyPrefix)] != logKeyPrefix {
		return 0, false
	}
	index, err := strconv.ParseUint(key[len(logKeyPrefix):], 10, 64)
	return index, err == nil
}

func encodeHardState(term uint64, vote sim.NodeID) []byte {
	b := binary.AppendUvarint(make([]byte, 0, 12), term)
	return binary.AppendVarint(b, int64(vote))
}

var errCorruptHardState = errors.New("raft: corrupt hard state on disk")

func decodeHardState(b []byte) (term uint64, vote sim.NodeID, err error) {
	term, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, sim.None, errCorruptHardState
	}
	v, m := binary.Varint(b[n:])
	if m <= 0 || n+m != len(b) {
		return 0, sim.None, errCorruptHardState
	}
	return term, sim.NodeID(v), nil
}

func encodeEntry(e Entry) []byte { return appendEncodedEntry(nil, e) }

func appendEncodedEntry(b []byte, e Entry) []byte {
	b = binary.AppendUvarint(b, e.Term)
	return e.Cmd.AppendBinary(b)
}

var errCorruptEntry = errors.New("raft: corrupt log entry on disk")

func decodeEntry(b []byte) (Entry, error) {
	term, n := binary.Uvarint(b)
	if n <= 0 {
		return Entry{}, errCorruptEntry
	}
	cmd, rest, err := service.ReadCommand(b[n:])
	if err != nil || len(rest) != 0 {
		return Entry{}, errCorruptEntry
	}
	return Entry{Term: term, Cmd: cmd}, nil
}

// durableState is what a server finds on its disk when it starts.
type durableState struct {
	term uint64
	vote sim.NodeID
	log  []Entry // log[0] is the sentinel entry at index 0 (term 0)
}

// loadState reads the hard state and the log. The log is the run of entries
// from index 1 up to the first missing or undecodable one; anything after such
// a gap is deleted. A gap can only come from writes that a crash cut short,
// which were never synced and so never acknowledged.
func loadState(d *sim.Disk) durableState {
	st := durableState{vote: sim.None, log: []Entry{{}}}
	if b, ok := d.Get(hardStateKey); ok {
		term, vote, err := decodeHardState(b)
		if err != nil {
			panic(err.Error()) // synced hard state cannot be half-written: a broken disk invariant
		}
		st.term, st.vote = term, vote
	}
	broken := false
	for _, key := range d.Keys(logKeyPrefix) {
		index, ok := parseLogKey(key)
		var e Entry
		if ok && !broken && index == uint64(len(st.log)) {
			b, _ := d.Get(key)
			var err error
			e, err = decodeEntry(b)
			ok = err == nil
		} else {
			ok = false
		}
		if !ok || broken {
			broken = true
			d.Delete(key)
			continue
		}
		st.log = append(st.log, e)
	}
	if broken {
		d.Sync()
	}
	return st
}
