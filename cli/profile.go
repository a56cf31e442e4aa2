package cli

import (
	"bytes"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// profileFlags write Go's CPU and allocation profiles of a run or a sweep
// (go tool pprof reads them): where a protocol's time and allocations go
// under simrun, its own handlers beside the kernel, the workload and the
// checkers. Profiling changes no run: the same seed gives the same trace.
type profileFlags struct {
	cpu, mem string
}

func (p *profileFlags) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&p.cpu, "cpuprofile", "", "write a CPU profile of the command to this file (go tool pprof)")
	cmd.Flags().StringVar(&p.mem, "memprofile", "",
		"write an allocation profile of the command to this file when it ends (go tool pprof; -sample_index=alloc_space)")
}

// start creates both files, so that a path that cannot be written is
// reported at once as bad input, and starts the CPU profile. stop ends the
// CPU profile and writes the allocation profile, once the work is done,
// whatever its outcome: deferred, with the command's error, which it sets
// if the profiles fail and nothing else did.
func (p profileFlags) start() (stop func(cmdErr *error), err error) {
	cpuFile, err := createOptional("--cpuprofile", p.cpu)
	if err != nil {
		return nil, err
	}
	memFile, err := createOptional("--memprofile", p.mem)
	if err != nil {
		closeQuietly(cpuFile)
		return nil, err
	}
	// The CPU profile goes to memory first: runtime/pprof drops the errors
	// of its own writes, so a full disk would leave a cut profile unsaid.
	var cpu bytes.Buffer
	if cpuFile != nil {
		if err := pprof.StartCPUProfile(&cpu); err != nil {
			closeQuietly(cpuFile)
			closeQuietly(memFile)
			return nil, badInput("--cpuprofile: %v", err)
		}
	}
	return func(cmdErr *error) {
		if err := stopProfiles(cpuFile, &cpu, memFile); *cmdErr == nil {
			*cmdErr = err
		}
	}, nil
}

func stopProfiles(cpuFile *os.File, cpu *bytes.Buffer, memFile *os.File) error {
	if cpuFile != nil {
		pprof.StopCPUProfile()
		_, err := cpuFile.Write(cpu.Bytes())
		if closeErr := cpuFile.Close(); err == nil {
			err = closeErr
		}
		if err != nil {
			closeQuietly(memFile)
			return badInput("--cpuprofile: %v", err)
		}
	}
	if memFile == nil {
		return nil
	}
	runtime.GC() // the profile's in-use figures as of the end, not the last collection
	err := pprof.Lookup("allocs").WriteTo(memFile, 0)
	if closeErr := memFile.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return badInput("--memprofile: %v", err)
	}
	return nil
}
