package cli

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/simrun/simrun/internal/plural"
)

// unfinished describes the seeds of the ranges the tally's results were
// swept in that have no result, or "" if there are none (or the results
// name no range: older sweeps did not store it). Shards merged together
// must cover their sweep's range: a shard that never ran, or was cut short,
// leaves seeds without a result, which a summary of the others would hide.
func (t *tally) unfinished() string {
	spans := mergedSpans(slices.Collect(maps.Keys(t.ranges)))
	var missing uint64
	var first []uint64
	seeds := slices.Sorted(maps.Keys(t.bySeed)) // once: a span counts its seeds by two binary searches
	for _, sp := range spans {
		lo, _ := slices.BinarySearch(seeds, sp.from)
		hi, _ := slices.BinarySearch(seeds, sp.end)
		present := uint64(hi - lo)
		here := sp.end - sp.from - present
		missing += here
		// The first few missing seeds: the scan stops once it found them
		// all, so it costs at most the results present, not the range.
		for seed, found := sp.from, uint64(0); seed < sp.end && len(first) < 3 && found < here; seed++ {
			if _, ok := t.bySeed[seed]; !ok {
				first = append(first, seed)
				found++
			}
		}
	}
	if missing == 0 {
		return ""
	}
	line := fmt.Sprintf("%s of the range swept %s no result (%s %s", plural.Of(missing, "seed"), hasOrHave(missing), plural.Noun(len(first), "seed"), joinSeeds(first))
	if uint64(len(first)) < missing {
		line += ", ..."
	}
	line += ")"
	if silent := t.silentShards(); len(silent) > 0 {
		line += "; no result from shard " + strings.Join(silent, ", ")
	}
	return line + ": a shard is missing, was cut short or swept a shorter range"
}

// span is a half-open range of seeds.
type span struct{ from, end uint64 }

// mergedSpans is the union of the ranges, as disjoint spans in order.
func mergedSpans(ranges []sweptRange) []span {
	spans := make([]span, 0, len(ranges))
	for _, r := range ranges {
		spans = append(spans, span{r.From, r.end()})
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.from, b.from) })
	var out []span
	for _, sp := range spans {
		if n := len(out); n > 0 && sp.from <= out[n-1].end {
			out[n-1].end = max(out[n-1].end, sp.end)
			continue
		}
		out = append(out, sp)
	}
	return out
}

// silentShards names the shards K/N that no result came from, in order:
// shards of one sweep share its --from and N (their --seeds should agree,
// but a shard swept over a shorter range still sent results).
func (t *tally) silentShards() []string {
	type sweep struct{ from, of uint64 }
	seen := map[sweep]map[uint64]bool{}
	most := map[sweep]uint64{} // the longest range of the sweep: shard k has seeds if k < seeds
	for r := range t.ranges {
		s := sweep{r.From, r.Of}
		most[s] = max(most[s], r.Seeds)
		if seen[s] == nil {
			seen[s] = map[uint64]bool{}
		}
		seen[s][r.Shard] = true
	}
	var silent []string
	for _, s := range slices.SortedFunc(maps.Keys(seen), func(a, b sweep) int {
		return cmp.Or(cmp.Compare(a.from, b.from), cmp.Compare(a.of, b.of))
	}) {
		for k := uint64(0); k < min(s.of, most[s]) && len(silent) < 8; k++ {
			if !seen[s][k] {
				silent = append(silent, fmt.Sprintf("%d/%d", k, s.of))
			}
		}
	}
	return silent
}

func joinSeeds(seeds []uint64) string {
	parts := make([]string, len(seeds))
	for i, s := range seeds {
		parts[i] = strconv.FormatUint(s, 10)
	}
	return strings.Join(parts, ", ")
}

// hasOrHave agrees with a count of n.
func hasOrHave(n uint64) string {
	if n == 1 {
		return "has"
	}
	return "have"
}
