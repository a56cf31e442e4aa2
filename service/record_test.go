package service

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRecordsDetectEveryFlippedBit(t *testing.T) {
	rec := SealRecord([]byte("term=3 vote=n1"), 0)
	payload, ok := OpenRecord(rec)
	require.True(t, ok)
	require.Equal(t, "term=3 vote=n1", string(payload))
	for bit := range len(rec) * 8 {
		bad := append([]byte(nil), rec...)
		bad[bit/8] ^= 1 << (bit % 8)
		_, ok := OpenRecord(bad)
		require.False(t, ok, "bit %d", bit)
	}
	_, ok = OpenRecord([]byte{1, 2})
	require.False(t, ok, "too short")
}

func TestSealFromAnOffsetCoversTheTail(t *testing.T) {
	head := []byte("key:")
	rec := SealRecord(append(head, "value"...), len(head))
	require.Equal(t, SealRecord([]byte("value"), 0)[5:], rec[9:], "the checksum is the tail's")
}

func TestFramesTellACutFromAFlippedBit(t *testing.T) {
	b, start := BeginFrame([]byte("before"))
	b = SealRecord(append(b, "entry"...), start+FrameHeaderSize)
	EndFrame(b, start)
	frame := b[start:]
	record, rest, status := NextFrame(frame)
	require.Equal(t, FrameWhole, status)
	require.Empty(t, rest)
	payload, ok := OpenRecord(record)
	require.True(t, ok)
	require.Equal(t, "entry", string(payload))
	for cut := range len(frame) {
		_, _, status := NextFrame(frame[:cut])
		require.Equal(t, FrameTorn, status, "cut at %d", cut)
	}
	for bit := range FrameHeaderSize * 8 {
		bad := append([]byte(nil), frame...)
		bad[bit/8] ^= 1 << (bit % 8)
		_, _, status := NextFrame(bad)
		require.Equal(t, FrameCorrupt, status, "header bit %d", bit)
	}
}
