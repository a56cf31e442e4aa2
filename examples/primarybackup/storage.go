package primarybackup

import (
	"encoding/binary"
	"fmt"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Disk layout: "epoch" holds the primary's last epoch; "log/<index>" one
// entry, zero-padded so that Disk.Keys returns them in index order.
const (
	keyEpoch  = "epoch"
	logPrefix = "log/"
)

func logKey(idx uint64) string { return fmt.Sprintf("%s%020d", logPrefix, idx) }

func writeEntry(d *sim.Disk, idx uint64, e entry) {
	d.Put(logKey(idx), e.cmd.AppendBinary(binary.AppendUvarint(nil, e.epoch)))
}

// readLog returns the log on disk: the entries from index 1 up to the first
// gap (an unsynced write lost by a crash leaves nothing after it durable,
// since every write is synced before the next is acknowledged).
func readLog(d *sim.Disk) []entry {
	var log []entry
	for i, key := range d.Keys(logPrefix) {
		if key != logKey(uint64(i+1)) {
			break
		}
		raw, _ := d.Get(key)
		epoch, n := binary.Uvarint(raw)
		cmd, _, err := service.ReadCommand(raw[max(n, 0):])
		if n <= 0 || err != nil {
			panic(fmt.Sprintf("primary-backup: corrupt log record %s", key)) // no checksums: this example runs without disk corruption
		}
		log = append(log, entry{epoch: epoch, cmd: cmd})
	}
	return log
}

func readEpoch(d *sim.Disk) uint64 {
	raw, ok := d.Get(keyEpoch)
	if !ok {
		return 0
	}
	epoch, _ := binary.Uvarint(raw)
	return epoch
}
