package runner

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/sim"
	"github.com/simrun/simrun/workload"
)

// searched is a history of one key that only Porcupine's search decides:
// puts write one of two values, so the states the gets read do not name
// their writes (checkers' decision without a search needs values of their
// own), and the puts are all in flight at once. Client 0 then puts c0.2 and
// reads its own older c0.1, which read-your-writes refuses. Porcupine's time
// budget is a timer racing the search: with six concurrent puts it once
// decided the history before a 1ns budget's timer fired, on a loaded
// machine, so there are a few thousand, more work than any timer's delay.
func searched() *workload.History {
	op := func(client int, call, ret sim.Time, kind workload.OpKind, value string) workload.Operation {
		o := workload.Operation{Client: client, Call: call, Return: ret, Kind: kind, Key: "k", Status: workload.StatusOK}
		if kind == workload.OpGet {
			o.Output, o.Found = value, true
		} else {
			o.Value = value
		}
		return o
	}
	ops := []workload.Operation{op(0, 0, 10, workload.OpPut, "c0.1")}
	for i := 1; i <= 3000; i++ {
		ops = append(ops, op(1+i%(workload.MaxClients-1), 5, 100, workload.OpPut, "c9."+strconv.Itoa(1+i%2)))
	}
	return workload.NewHistory(append(ops, op(0, 20, 30, workload.OpPut, "c0.2"), op(0, 40, 50, workload.OpGet, "c0.1"))...)
}

// TestHistoryCheckOutOfTimeIsInconclusive pins that a history check that
// runs out of its wall-time budget gives no verdict: the run is
// inconclusive, never a pass, and says which check gave up.
func TestHistoryCheckOutOfTimeIsInconclusive(t *testing.T) {
	r := &run{sc: &scenarios.Scenario{Checks: []string{"linearizable"}}, opts: Options{LinearizabilityTimeout: time.Nanosecond}}
	rep := &Report{Class: Pass, History: searched()}
	r.checkHistory(rep)
	require.Equal(t, Inconclusive, rep.Class, rep.Reason)
	require.Contains(t, rep.Reason, "linearizable unknown")
	require.True(t, rep.Class.Failed())
}

// TestAFailedCheckOutranksAnEarlierUnknownOne pins the history checks'
// precedence: when an earlier check in the scenario's list gives no verdict
// (linearizable out of time) and a later one fails, the run is a safety
// violation by the failed check, not inconclusive.
func TestAFailedCheckOutranksAnEarlierUnknownOne(t *testing.T) {
	r := &run{sc: &scenarios.Scenario{Checks: []string{"linearizable", "read-your-writes"}},
		opts: Options{LinearizabilityTimeout: time.Nanosecond}}
	rep := &Report{Class: Pass, History: searched()}
	r.checkHistory(rep)
	require.Equal(t, "unknown", rep.Checks[0].Verdict, rep.Checks[0].Detail)
	require.Equal(t, Safety, rep.Class, rep.Reason)
	require.Contains(t, rep.Reason, "read-your-writes")
}
