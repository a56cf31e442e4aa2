package service

import (
	"encoding/binary"
	"hash/crc32"
)

// Checksummed disk records. The simulated disk can flip a bit of a durable
// record (a corrupt fault), so a protocol that runs under corruption must
// notice and treat a bad record as lost, never use its bytes. Every shipped
// protocol seals its records the same way: the payload, then the CRC-32C of
// it (or of its tail from an offset), big-endian.

// RecordChecksumSize is the bytes SealRecord appends.
const RecordChecksumSize = 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// SealRecord appends to b the checksum of b[from:] (0: the whole record).
func SealRecord(b []byte, from int) []byte {
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[from:], castagnoli))
}

// OpenRecord checks a record sealed from offset 0 and returns its payload;
// ok is false if the record is too short or its checksum does not match.
func OpenRecord(b []byte) (payload []byte, ok bool) {
	if len(b) < RecordChecksumSize {
		return nil, false
	}
	payload = b[:len(b)-RecordChecksumSize]
	return payload, binary.BigEndian.Uint32(b[len(payload):]) == crc32.Checksum(payload, castagnoli)
}

// Framed records: a stream of sealed records in one disk value that grows by
// appends (sim.Disk.PutOver), such as a log chunk. A crash may tear the last
// append, leaving a record cut short, and a corrupt fault may flip a bit
// anywhere; the two mean different things. A torn record was never synced,
// so never acknowledged: the reader drops it. A corrupted one may have been
// acknowledged: the reader must treat it as a loss. A bare length prefix
// cannot tell them apart (a flipped bit that makes a length too long reads
// as a cut record), so each frame's header carries the record's length and
// a checksum of that length: with the length trusted, a value that ends
// before the record does was cut, and a bit flip never shortens a value.

// FrameHeaderSize is the bytes a frame adds before its record: the record's
// length (4 bytes, big-endian) and the CRC-32C of those 4 bytes.
const FrameHeaderSize = 8

// maxFramedRecord is the longest record a frame holds.
const maxFramedRecord uint64 = 1<<32 - 1

// BeginFrame appends room for a frame header to b and returns where the
// frame starts; the caller appends the sealed record, then calls EndFrame.
func BeginFrame(b []byte) (framed []byte, start int) {
	return append(b, make([]byte, FrameHeaderSize)...), len(b)
}

// EndFrame fills in the header of the frame that starts at start, whose
// record runs to the end of b.
func EndFrame(b []byte, start int) {
	size := len(b) - start - FrameHeaderSize
	if size < 0 || uint64(size) > maxFramedRecord {
		panic("service: a frame's record is longer than a frame holds")
	}
	header := b[start : start+FrameHeaderSize]
	binary.BigEndian.PutUint32(header, uint32(size))
	binary.BigEndian.PutUint32(header[4:], crc32.Checksum(header[:4], castagnoli))
}

// FrameStatus says what NextFrame found at the start of a value.
type FrameStatus uint8

const (
	// FrameWhole: a frame whose header checks out and whose record is all
	// there (the record's own checksum is the caller's to check).
	FrameWhole FrameStatus = iota
	// FrameTorn: the value ends inside a frame whose header, as far as it
	// goes, is sound: the tail of an append a crash cut.
	FrameTorn
	// FrameCorrupt: the header's checksum does not match.
	FrameCorrupt
)

// NextFrame reads the frame at the start of b: its record and what follows
// it, when the status is FrameWhole.
func NextFrame(b []byte) (record, rest []byte, status FrameStatus) {
	if len(b) < FrameHeaderSize {
		return nil, nil, FrameTorn
	}
	if binary.BigEndian.Uint32(b[4:]) != crc32.Checksum(b[:4], castagnoli) {
		return nil, nil, FrameCorrupt
	}
	size, body := uint64(binary.BigEndian.Uint32(b)), b[FrameHeaderSize:]
	if size > uint64(len(body)) {
		return nil, nil, FrameTorn
	}
	return body[:size], body[size:], FrameWhole
}
