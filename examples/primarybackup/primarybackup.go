package primarybackup

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Config is the protocol's options, decoded strictly from a scenario's
// protocol_options.
type Config struct {
	// HeartbeatInterval is how often the primary sends every backup the
	// entries it lacks and the commit index (at least 1ms).
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	// Silent leaves out every observation (for the vacuity example).
	Silent bool `yaml:"silent"`
}

// Validate reports an impossible setting.
func (c Config) Validate() error {
	if c.HeartbeatInterval < time.Millisecond {
		return fmt.Errorf("primary-backup: heartbeat_interval %v must be at least 1ms", c.HeartbeatInterval)
	}
	return nil
}

// Protocol is the value a user registers: its name in scenario files, what
// it is, and how to build its servers for a scenario.
func Protocol() runner.Protocol {
	return runner.Protocol{
		Name:        "primary-backup",
		Description: "a fixed primary replicates to backups and commits on a majority (the example of docs/PROTOCOLS.md)",
		Build:       build,
		// The coverage probes its code fires (sim.Probe): the sweep summary
		// names those no seed reached.
		Probes: []runner.Named{
			{Name: probeRedirect, Description: "a backup pointed a client at the primary"},
			{Name: probeDuplicate, Description: "the primary ignored a stale or already ordered request"},
			{Name: probeGap, Description: "a backup refused entries beyond a gap in its log and asked for the rest"},
			{Name: probeAlreadyHave, Description: "a backup skipped entries it already had (a resend)"},
			{Name: probeLowerAck, Description: "a backup reported less than the primary knew it had (it restarted)"},
		},
	}
}

func build(c runner.Cluster) (runner.Servers, error) {
	sc := c.Scenario
	cfg := Config{HeartbeatInterval: 20 * time.Millisecond}
	if err := runner.DecodeOptions(sc, &cfg); err != nil {
		return runner.Servers{}, err // every error names file:line:column
	}
	if err := runner.CrashFaultOnly(c, "primary-backup"); err != nil {
		return runner.Servers{}, err
	}
	factory := func(id sim.NodeID) sim.Node { return &server{cfg: cfg, newSM: c.NewStateMachine} }
	return runner.Servers{Factory: factory}, nil
}

// The coverage probes.
const (
	probeRedirect    = "primary-backup/request-redirected"
	probeDuplicate   = "primary-backup/request-already-ordered"
	probeGap         = "primary-backup/append-rejected-gap"
	probeAlreadyHave = "primary-backup/append-entry-already-held"
	probeLowerAck    = "primary-backup/ack-below-known-match"
)

// primary is the server that orders commands; there is no election.
const primary sim.NodeID = 0

// timerHeartbeat is the primary's only timer.
const timerHeartbeat sim.TimerKind = 0

// maxEntriesPerAppend bounds one Append, so a lagging backup catches up in chunks.
const maxEntriesPerAppend = 64

// entry is one log record: the primary's epoch when it appended the
// command, and the command.
type entry struct {
	epoch uint64
	cmd   service.Command
}

// server is one replica. Its memory is rebuilt from the disk on Start.
type server struct {
	cfg   Config
	newSM service.NewStateMachine
	env   sim.Env // valid during a handler only

	epoch    uint64  // the primary's incarnation, bumped and persisted at each start
	log      []entry // log[i-1] is index i
	commit   uint64
	applied  uint64
	sessions *service.Sessions
	match    map[sim.NodeID]uint64     // primary: highest index each backup has on disk
	waiting  map[sim.NodeID]sim.NodeID // primary: client -> node to answer (its own ID)
}

// Start recovers the log from the disk. The state machine restarts empty and
// is rebuilt by applying entries again as the commit index is learned.
func (s *server) Start(env sim.Env) {
	s.env = env
	s.sessions = service.NewSessions(s.newSM())
	s.match, s.waiting = map[sim.NodeID]uint64{}, map[sim.NodeID]sim.NodeID{}
	s.log = readLog(env.Disk())
	if env.ID() == primary {
		s.epoch = readEpoch(env.Disk()) + 1
		env.Disk().Put(keyEpoch, binary.AppendUvarint(nil, s.epoch))
		env.Disk().Sync() // the epoch is durable before anyone hears of it
		s.observe(sim.Observation{Kind: sim.ObsLeader, Term: s.epoch})
		s.maybeCommit() // a one-server cluster commits what it has at once
		s.heartbeat()
	}
}

// Receive handles client requests and replication messages.
func (s *server) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
	s.env = env
	switch m := m.(type) {
	case service.Request:
		s.request(from, m.Cmd)
	case Append:
		s.append(from, m)
	case Ack:
		s.ack(from, m)
	}
}

// Timer fires the primary's heartbeat.
func (s *server) Timer(env sim.Env, _ sim.TimerKind) {
	s.env = env
	s.heartbeat()
}

// request orders a client command (primary) or points the client at the
// primary (backup). A retry of an applied command gets its cached result.
func (s *server) request(from sim.NodeID, cmd service.Command) {
	if s.env.ID() != primary {
		sim.Probe(s.env, probeRedirect)
		s.env.Send(from, service.Reply{Client: cmd.Client, Seq: cmd.Seq, Status: service.StatusNotLeader, Leader: primary})
		return
	}
	if cmd.IsNoop() || cmd.Seq < s.sessions.LastApplied(cmd.Client) || s.inLog(cmd) {
		sim.Probe(s.env, probeDuplicate)
		return // not a command, or stale, or already ordered: its reply follows the apply
	}
	s.waiting[cmd.Client] = from
	e := entry{epoch: s.epoch, cmd: cmd}
	s.log = append(s.log, e)
	writeEntry(s.env.Disk(), uint64(len(s.log)), e)
	s.env.Disk().Sync() // on disk before any backup hears of it or it counts
	s.maybeCommit()
	s.heartbeat()
}

// inLog reports whether cmd is in the log and not applied yet.
func (s *server) inLog(cmd service.Command) bool {
	for i := s.applied; i < uint64(len(s.log)); i++ {
		if c := s.log[i].cmd; c.Client == cmd.Client && c.Seq == cmd.Seq {
			return true
		}
	}
	return false
}

// heartbeat sends every backup the entries after what it has, with the
// commit index, and arms the next heartbeat.
func (s *server) heartbeat() {
	for _, b := range s.env.Servers() {
		if b == primary {
			continue
		}
		from := s.match[b] + 1
		to := min(uint64(len(s.log)), from+maxEntriesPerAppend-1)
		m := Append{Index: from, Commit: s.commit}
		for i := from; i <= to; i++ {
			m.Entries = append(m.Entries, s.log[i-1])
		}
		s.env.Send(b, m)
	}
	s.env.SetTimer(timerHeartbeat, s.cfg.HeartbeatInterval)
}

// append stores entries that extend the backup's log (the primary syncs
// before it sends, so its log is the only log and never conflicts), syncs,
// acknowledges, and applies what is committed.
func (s *server) append(from sim.NodeID, m Append) {
	if m.Index > uint64(len(s.log))+1 {
		sim.Probe(s.env, probeGap)
		s.env.Send(from, Ack{Last: uint64(len(s.log))}) // a gap: ask for what is missing
		return
	}
	for i, e := range m.Entries {
		idx := m.Index + uint64(i)
		if idx <= uint64(len(s.log)) {
			sim.Probe(s.env, probeAlreadyHave)
			continue // already here, and the same by construction
		}
		s.log = append(s.log, e)
		writeEntry(s.env.Disk(), idx, e)
	}
	s.env.Disk().Sync() // the acknowledgement promises the entries are durable
	s.env.Send(from, Ack{Last: uint64(len(s.log))})
	s.learnCommit(min(m.Commit, uint64(len(s.log))))
}

// ack records what a backup has on disk and commits what a majority has.
func (s *server) ack(from sim.NodeID, m Ack) {
	if s.env.ID() != primary {
		return
	}
	if m.Last < s.match[from] {
		sim.Probe(s.env, probeLowerAck)
	}
	s.match[from] = m.Last // a restarted backup may report less: it lost nothing synced, so this only resends
	s.maybeCommit()
}

// maybeCommit commits the highest index held by a majority, the primary
// included.
func (s *server) maybeCommit() {
	n := len(s.env.Servers())
	for idx := uint64(len(s.log)); idx > s.commit; idx-- {
		have := 1 // the primary synced it
		for _, b := range s.env.Servers() {
			if b != primary && s.match[b] >= idx {
				have++
			}
		}
		if 2*have > n {
			s.learnCommit(idx)
			return
		}
	}
}

// learnCommit announces and applies every entry up to idx, and answers the
// clients waiting for them (primary only).
func (s *server) learnCommit(idx uint64) {
	for s.commit < idx {
		s.commit++
		e := s.log[s.commit-1]
		s.observe(sim.Observation{Kind: sim.ObsCommit, Term: e.epoch, Index: s.commit, Digest: e.cmd.Digest()})
	}
	for s.applied < s.commit {
		s.applied++
		e := s.log[s.applied-1]
		result, outcome := s.sessions.Apply(e.cmd)
		s.observe(sim.Observation{Kind: sim.ObsApply, Term: e.epoch, Index: s.applied, Digest: e.cmd.Digest()})
		to, waiting := s.waiting[e.cmd.Client]
		if waiting && (outcome == service.Applied || outcome == service.Duplicate) {
			delete(s.waiting, e.cmd.Client)
			s.env.Send(to, service.Reply{Client: e.cmd.Client, Seq: e.cmd.Seq, Status: service.StatusOK, Result: result})
		}
	}
}

// observe announces o unless the protocol was asked to stay silent.
func (s *server) observe(o sim.Observation) {
	if !s.cfg.Silent {
		s.env.Observe(o)
	}
}

// Append carries entries from Index on, and the primary's commit index.
// Messages are values: the kernel may deliver the same one twice.
type Append struct {
	Index   uint64
	Commit  uint64
	Entries []entry
}

// AppendTrace implements sim.Message: one canonical line, no pointers.
func (m Append) AppendTrace(b []byte) []byte {
	return sim.TraceLine(b).Kind("Append").Uint("index", m.Index).Uint("commit", m.Commit).
		Int("entries", int64(len(m.Entries)))
}

// Ack tells the primary the backup's last durable index.
type Ack struct{ Last uint64 }

// AppendTrace implements sim.Message.
func (m Ack) AppendTrace(b []byte) []byte {
	return strconv.AppendUint(append(b, "Ack last="...), m.Last, 10)
}
