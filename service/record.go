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
