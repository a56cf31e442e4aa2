package service

import (
	"fmt"
	"time"
)

// The shared rules of a protocol's Config (its protocol_options): each
// protocol validates the settings it shares with others, and turns its
// planted-bug names into switches, the same way, so that a scenario author
// reads the same error for the same mistake whatever the protocol. Errors
// start with the protocol's name and name each option as YAML spells it.

// CheckLeaderTimeouts validates the failure detector of a leader-based
// protocol: a server that hears nothing from a leader for a timeout drawn
// uniformly from [lo, hi] takes over (randomized, so that contenders do not
// collide in lockstep), and a leader's heartbeat must come more often than
// the shortest timeout, or servers depose a live leader. timeout is the
// options' name of the bounds without its suffix: "election_timeout" for
// election_timeout_min and election_timeout_max.
func CheckLeaderTimeouts(protocol, timeout string, lo, hi, heartbeat time.Duration) error {
	switch {
	case lo <= 0:
		return fmt.Errorf("%s: %s_min %v must be positive", protocol, timeout, lo)
	case hi <= lo:
		return fmt.Errorf("%s: %s_max %v must exceed %s_min %v (timeouts are randomized in between)",
			protocol, timeout, hi, timeout, lo)
	case heartbeat <= 0:
		return fmt.Errorf("%s: heartbeat_interval %v must be positive", protocol, heartbeat)
	case heartbeat >= lo:
		return fmt.Errorf("%s: heartbeat_interval %v must be below %s_min %v", protocol, heartbeat, timeout, lo)
	}
	return nil
}
