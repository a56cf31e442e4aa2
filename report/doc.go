// Package report turns a run's artifacts, or a sweep's results, into one
// self-contained HTML page that a person can read offline: no network, no
// script or style from elsewhere, inline SVG drawn by this package.
//
// For one failing run (a directory holding report.json, trace.jsonl and
// history.jsonl, as runner.WriteArtifacts leaves it) the page shows:
//
//   - a space-time (Lamport) diagram of the messages around the first
//     violation: a lane per node, an arrow per delivery, drops and
//     duplicates marked, crashes, pauses, cut and clogged links as bands,
//     the violating event highlighted, with a time window and filters by
//     node and message kind (a small inline script);
//   - each server's role and term over the whole run;
//   - the client operations on a timeline, linking Porcupine's view;
//   - latency percentiles per operation kind (gonum/stat).
//
// For a sweep (a directory of results.jsonl files) it shows the failure
// classes with their rates and 95% confidence intervals (Wilson and
// Clopper-Pearson, from gonum/stat/distuv), seeds per second, the slowest
// seeds, the distributions of events and simulated time across seeds, and a
// link to each failure's own page. It finds the results files (FindResults)
// but does not count them: the command line reads them as its sweep and
// merge do and hands over each scenario version's seeds (Scenario), so that
// the page and merge's summary cannot disagree.
//
// The output depends only on the input files: no clock, no map order, no
// machine path, so the same artifacts give the same bytes and tests compare
// them. The SVG is written by hand rather than with a plotting library: the
// few shapes needed (lines, rectangles, text) cost less than a dependency, and
// hand-written markup is byte-for-byte deterministic and small.
package report
