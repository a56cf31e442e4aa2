// Package faults is simrun's nemesis: it decides when and where faults strike
// and applies them through the kernel's control API (sim.World.Crash, Restart,
// Cut, Partition, HealAll). The kernel provides mechanisms; this package
// provides the policy.
//
// # Plans and steps
//
// A Plan is a timeline of Steps. Each Step has one time (At, or a repeating
// window From/To/Every) and exactly one action:
//
//	partition  isolate a server (a number, random or the leader), split the
//	           servers into a random majority and minority (halves), or groups;
//	           a bridge (two halves joined by one server) or a majorities ring
//	           (each server sees its own majority), as in Jepsen
//	cut        lose every message on one directed link (a one-way partition)
//	clog       hold the messages of a server's links, or of one link, in order
//	link       change the latency, tail, loss or duplication of links
//	heal       end network faults ("network") or every fault condition ("all")
//	crash      crash a server, every server at once (all), or every server in
//	           turn (rolling); Down restarts it later, MaxDown caps how many
//	           servers may be down at once
//	pause      stop a server without losing its memory; Down and MaxDown as for crash
//	restart    restart a crashed server, or all of them ("all-down")
//	resume     resume a paused server, or all of them ("all-paused")
//	clock      make a server's clock drift (rate) or jump (skew)
//	disk       make a server's disk tear or reorder writes on a crash, or sync slowly
//	corrupt    flip a bit of one durable record of a server's disk
//	swizzle    clog servers one after another, then unclog them in another
//	           order (FoundationDB's swizzle-clogging)
//
// A crash with mid_step strikes inside a step (a torn step): the server
// crashes during its next handler with at least two effects, between two of
// them (sim.World.CrashMidStep). With recovery_crash, the restart that ends
// its down is cut the same way, inside the start-up where the server
// repairs what it found on its disk, and the server restarts again after
// down.
//
// For undoes a partition, cut, clog, link, clock rate, disk or swizzle fault after a
// while. Undos, restarts and resumes are claims: when a later step hits the
// same link or server, it owns it, and an earlier undo leaves it alone. At
// one instant the steps due then fire first, and then what earlier steps
// scheduled for it (restarts, resumes, undos, a swizzle's later rounds): a
// step at the instant a crash's down ends finds the server still down.
// Steps due at one instant fire in the order they were queued, which is
// not always the plan's: one-shot steps are all queued at the start, and a
// repeating step's next firing when its last one fires, so of two repeating
// steps due together the one queued first (often the one with the longer
// period) fires first, and a one-shot step before a repeating one. A pinned
// timeline keeps the order of the run, so it replays it.
//
// Steps decode from YAML (scenario files) with snake_case keys, for example
//
//	faults:
//	  - {at: 5s, partition: isolate-leader}
//	  - {at: 12s, heal: all}
//	  - {from: 15s, to: 40s, every: 5s, crash: random, down: 2s}
//	  - {at: 9s, partition: {groups: [[0, 1], [2, 3, 4]]}}
//	  - {at: 9s, cut: {from: 0, to: 1}}
//
// and marshal back to the same shape, so that a failing run can be exported as
// an editable scenario. The YAML methods follow the conventions of
// github.com/goccy/go-yaml without importing it.
//
// # One file per kind
//
// Each action is one descriptor (kinds.go: its scenario key, validation,
// description, injection, pinning) kept with its value type, its handler
// and its swarm draws in kind_<name>.go. Adding a kind takes that file, the
// Step field that is its scenario key, a line in actionKinds and, for the
// swarm, a line in swarmKinds (new swarm kinds go last, so that earlier
// kinds keep their draws); nothing else dispatches on an action's name.
//
// # Determinism
//
// Faults apply only to servers; clients are never partitioned or crashed.
// Every random choice (which node, which halves) is drawn when the action runs,
// from the world's "faults" stream, so adding or removing a fault never shifts
// what the network, the workload or a node draws. The current leader is the
// leader of the highest term announced by a sim.ObsLeader observation, as long
// as that node has not crashed since; a target of "leader" with no such leader
// falls back to a random server, and the trace says so. Every action writes a
// control line to the trace, followed by the kernel's own lines (crash, cut,
// heal...); a skipped or redirected action adds an explanatory control line.
package faults
