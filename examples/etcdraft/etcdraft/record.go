package etcdraft

import (
	"encoding/binary"
	"hash/crc32"
	"math/bits"
)

// A record is how every value reaches the disk:
//
//	uint32 n, uint32 ^n, n payload bytes, uint32 CRC-32C of the payload
//
// all big-endian. The doubled length tells the two ways a record goes bad
// apart. A torn write (sim's torn_writes: the last unsynced write that
// reached the disk, cut short) leaves a sound header and fewer bytes than it
// announces: the write was never synced, so nothing depended on it and it may
// be dropped. A flipped bit (sim's corrupt) leaves the length alone and fails
// the header or the checksum: a synced, possibly acknowledged record is
// gone, which no local repair can undo (etcd's WAL refuses to start on a CRC
// mismatch too). Bits flipped at the same place in both copies of the length
// leave a consistent header by which the record looks longer (torn) or
// shorter (corrupt) than it is. One that looks torn but is whole (it ends in
// the checksum of the bytes between, one length bit short of its header) is
// corrupt too (wholeRecord): dropped as torn, it would take a synced entry
// above the local commit index with it, which the cluster may have committed.

// recordState is what reading a record found.
type recordState uint8

const (
	recordOK recordState = iota
	recordTorn
	recordCorrupt
)

const recordOverhead = 12

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// sealRecord frames payload as a record.
func sealRecord(payload []byte) []byte {
	b := make([]byte, 8, len(payload)+recordOverhead)
	n := uint32(len(payload))
	binary.BigEndian.PutUint32(b, n)
	binary.BigEndian.PutUint32(b[4:], ^n)
	b = append(b, payload...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(payload, castagnoli))
}

// openRecord checks a record and returns its payload.
func openRecord(b []byte) ([]byte, recordState) {
	if len(b) < 8 {
		return nil, recordTorn // the cut fell inside the header
	}
	n := binary.BigEndian.Uint32(b)
	if ^n != binary.BigEndian.Uint32(b[4:]) {
		return nil, recordCorrupt
	}
	want := uint64(n) + recordOverhead
	switch {
	case uint64(len(b)) < want && wholeRecord(b, n):
		// Shorter than its header says by one bit of the length, and its
		// last four bytes are the checksum of the bytes between: a whole
		// record whose length had the same bit flipped in n and ^n, not a
		// torn prefix, which passes both tests only by a tiny chance.
		return nil, recordCorrupt
	case uint64(len(b)) < want:
		return nil, recordTorn
	case uint64(len(b)) > want:
		return nil, recordCorrupt
	}
	payload := b[8 : 8+n]
	if binary.BigEndian.Uint32(b[8+n:]) != crc32.Checksum(payload, castagnoli) {
		return nil, recordCorrupt
	}
	return payload, recordOK
}

// wholeRecord reports whether b is a whole record whose header's length n
// differs from its true payload length in one bit, as the same bit flipped
// in both copies of the length leaves it: b ends in the CRC-32C of the bytes
// between its header and that checksum.
func wholeRecord(b []byte, n uint32) bool {
	if len(b) < recordOverhead {
		return false
	}
	end := len(b) - 4
	return bits.OnesCount32(uint32(end-8)^n) == 1 &&
		binary.BigEndian.Uint32(b[end:]) == crc32.Checksum(b[8:end], castagnoli)
}
