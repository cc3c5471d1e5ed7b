//! The long help texts of `drmsim` and its subcommands: what each does, its exit codes
//! and examples (`--help`).

/// Help text `ABOUT`.
pub const ABOUT: &str = "Deterministic discrete-event simulator of OMA DRM 2.x ROAP and its Secure Content Exchange extensions";

/// Help text `LONG_ABOUT`.
pub const LONG_ABOUT: &str = "\
Deterministic discrete-event simulator of OMA DRM 2.x ROAP and its Secure Content Exchange
extensions (DEA user domains, LRM import, pairing).

A scenario is a TOML file describing the population, network, workload, adversaries and
expectations of a run; its format is documented in docs/scenario-format.md. The same
scenario and seed always produce a byte-identical trace (same digest).";

/// Help text `EXAMPLES`.
pub const EXAMPLES: &str = "\
Exit status (each subcommand's --help lists its own):
  0    success
  1    invalid scenario, or an expectation or check mismatch
  2    a file could not be read or written, or the command line is wrong
  3    engine failure, or a trace that does not match its summary.json
  4    a run completed but missed an [expect] item
  130  interrupted (Ctrl-C or SIGTERM; results are partial)
  141  stdout was closed by its reader (`drmsim ... | head`); nothing more is printed

Examples:
  drmsim validate scenarios/quickstart.toml
  drmsim run scenarios/quickstart.toml
  drmsim run scenarios/quickstart.toml --seed 7 --out runs/qs7 --capture-pdus
  drmsim sweep scenarios/capacity.toml --out runs/capacity --jobs 2";

/// Help text `VALIDATE_LONG`.
pub const VALIDATE_LONG: &str = "\
Load a scenario, check it (syntax, unknown or misspelled fields, value ranges, group and
actor references, sweep axes) and print a short summary of what it describes.

Validation checks every limit `drmsim run` checks: it builds the network model as the run
does (group count, links, partitions), counts actors against the engine's id space,
looks up every adversary target, and applies the resource estimate (events, memory, live
queue entries) that `run` refuses without --force.

Errors are printed one per line as FILE:LINE:COL: [section] field: message, with a
suggestion for misspelled field names.

Exit status:
  0  the scenario is valid
  1  the scenario is invalid (every problem found is printed)
  2  the file could not be read, the command line is wrong, or the resource estimate is
     over what `drmsim run` accepts without --force (as `run` exits 2)";

/// Help text `VALIDATE_EXAMPLES`.
pub const VALIDATE_EXAMPLES: &str = "\
Examples:
  drmsim validate scenarios/quickstart.toml
  drmsim validate scenarios/examples/*.toml
  drmsim validate --points scenarios/examples/lossy-wan-sweep.toml
  drmsim validate --force scenarios/lifecycle-1m.toml";

/// Help text `RUN_LONG`.
pub const RUN_LONG: &str = "\
Run a scenario once and write the results to an output directory:
  scenario.toml  copy of the scenario that was run
  trace.jsonl    one JSON record per event (unless [trace] enabled = false)
  summary.json   counts, trace digest, expectation results, \"interrupted\": true/false

The summary table, the trace digest and the exact command that reproduces the run are
printed on stdout. A progress bar is shown on stderr for runs longer than a second when
stderr is a terminal. Ctrl-C stops the run within a few thousand events, closes the trace and
still writes summary.json with \"interrupted\": true; a second Ctrl-C aborts at once.

A [sweep] section is ignored by `run`: it runs the base scenario.

Exit status:
  0    the run completed and every [expect] item was met
  1    the scenario is invalid
  2    a file could not be read or written, or the command line is wrong
  3    the engine failed
  4    the run completed but an [expect] item was not met
  130  the run was interrupted (results are partial)";

/// Help text `RUN_EXAMPLES`.
pub const RUN_EXAMPLES: &str = "\
Examples:
  drmsim run scenarios/quickstart.toml
  drmsim run scenarios/quickstart.toml --seed 42 --out /tmp/qs42
  drmsim run scenarios/examples/metering-spoof.toml --capture-pdus";

/// Help text `SWEEP_LONG`.
pub const SWEEP_LONG: &str = "\
Run every point of a scenario's [sweep] (the product of its axes times its seeds) in
parallel and collect one row per run.

Output directory layout:
  runs/<point-id>/     scenario.toml (the concrete point), trace.jsonl, summary.json
  results.csv          one row per run, sorted by point index (stable column order)
  results.jsonl        the same rows as JSON objects
  results_long.csv     the same numbers in tidy long form (run x subject x metric)
  charts/              capacity charts (p99, p50, completion rate vs the x axis) + capacity.json
  report.html          one self-contained page: every chart and the results table
  sweep.toml           copy of the sweep file; sweep.json: seeds, point count, shard

Before anything runs, every point's resource estimate (events, memory, live queue entries)
is checked as `drmsim run` checks it: a point that does not fit stops the sweep with exit
status 2 and the estimate (--force runs it anyway). Parallel runs share the memory, so
--jobs is lowered to what the largest point's estimate leaves room for (a note says so).

Point ids look like agents=5000-loss=0.01-seed=103: each axis as <short name>=<value>,
then the seed. An id names what the point is, never its position, so adding seeds or
axis values keeps every existing point's id. Axes are taken in lexicographic order of
their paths; the first varies slowest, the seed fastest.

Resuming and growing: run the same command again, or with more seeds or axis values. A
point is skipped when runs/<id>/summary.json says \"interrupted\": false and was made
by this drmsim version, runs/<id>/scenario.toml is exactly this point, and the SHA-256
of its trace equals the digest in summary.json; every other point runs. A run directory
under another name holding exactly a point's scenario is renamed and reused; complete
runs of other directories of the sweep (--reuse-from, e.g. other shards or a merge) are
copied instead of run. results.csv is written only once every point (of the shard) is
complete, and is byte-identical to an uninterrupted sweep's.

Orphans: run directories that are no point of the sweep (a removed seed or axis value)
are listed after the sweep and kept; --remove-orphans deletes them.

Sharding: --shard K/N runs only the points whose index % N == K-1 (K counts from 1),
so N machines can share a sweep; combine their directories with `drmsim merge`.
See docs/sweeps.md (Slurm: scenarios/slurm/sweep.sbatch).

Ctrl-C stops starting new runs and interrupts the running ones (their summaries say
\"interrupted\": true, so they are redone on resume); a second Ctrl-C aborts at once.

Exit status:
  0    every point is complete; results and charts written
  1    the scenario or one of its points is invalid
  2    a file could not be read or written, the command line is wrong, or a point's
       resource estimate is over what `drmsim run` accepts without --force
  3    some runs failed (listed on stderr; rerun to retry them)
  130  interrupted (rerun the same command to resume)";

/// Help text `SWEEP_EXAMPLES`.
pub const SWEEP_EXAMPLES: &str = "\
Examples:
  drmsim sweep scenarios/capacity.toml --out runs/capacity
  drmsim sweep scenarios/capacity.toml --out runs/capacity --jobs 2 --seeds 5
  drmsim sweep scenarios/capacity.toml --out runs/capacity --seeds 2 --remove-orphans
  drmsim sweep scenarios/capacity.toml --out runs/capacity-3 --reuse-from runs/capacity --seeds 3
  drmsim sweep scenarios/examples/lossy-wan-sweep.toml --out /tmp/wan --protocol registration
  drmsim sweep scenarios/capacity.toml --out /scratch/cap/shard-3 --shard 3/8 --no-charts";

/// Help text `MERGE_LONG`.
pub const MERGE_LONG: &str = "\
Combine the output directories of the shards of one sweep (drmsim sweep --shard K/N)
into one directory, as if the sweep had run unsharded: the union of their runs, then
results.csv, results.jsonl and the capacity charts.

All inputs must come from the same sweep file and seed count (sweep.toml / sweep.json).
Every run is verified before it is used (not interrupted, concrete scenario, trace
SHA-256 equal to the digest in summary.json); incomplete runs are ignored. The same
point complete in two inputs with different digests is an error, as is a point with no
complete run anywhere. Runs are copied (not linked), so the output stays valid if a shard
is rerun later. The output may be one of the inputs, and merging again is cheap.
Run directories of the output that are no point of the sweep (orphans) are listed;
--remove-orphans deletes them.

Exit status:
  0    merged; results and charts written
  1    the sweep file recorded in the inputs is invalid
  2    an input is not a sweep directory, inputs come from different sweeps, a point is
       missing or conflicting, a file could not be read or written, or the command line
       is wrong
  3    a verified trace could not be analysed";

/// Help text `MERGE_EXAMPLES`.
pub const MERGE_EXAMPLES: &str = "\
Examples:
  drmsim merge runs/cap/shard-1 runs/cap/shard-2 --out runs/cap/all
  drmsim merge /scratch/cap/shard-* --out /scratch/cap/merged --jobs 4";

/// Help text `REPORT_LONG`.
pub const REPORT_LONG: &str = "\
Read a run directory (the output of `drmsim run`) and write into it:
  metrics.json     per protocol, actor kind, server class, message type and time bucket
  charts/          throughput, latency CDF, servers, failures (SVG and PNG)
  report.html      one self-contained page: run info, tables, the charts inline
  timeseries.csv   per time bucket: completions/s, failures/s, queue length and
                   utilisation per server class

Given a sweep directory (the output of `drmsim sweep` or `merge`: it holds sweep.json),
write its report.html again from results.csv and charts/: every chart inline and one
table row per results row (a sweep writes this page itself when it completes).

Before anything is read, the trace is checked against the SHA-256 digest and record
count in summary.json: a damaged, truncated, reordered or appended-to trace is refused
(its figures would mislead) unless --allow-unverified is given, which only warns.

Exit status:
  0  written
  1  a chart could not be drawn (the rest was written)
  2  a file could not be read or written, the trace is malformed, or the command line
     is wrong
  3  the trace does not match summary.json (not written; see --allow-unverified)";

/// Help text `REPORT_EXAMPLES`.
pub const REPORT_EXAMPLES: &str = "\
Examples:
  drmsim run scenarios/quickstart.toml --out runs/qs
  drmsim report runs/qs
  drmsim report runs/damaged --allow-unverified
  drmsim report runs/capacity                  # a sweep directory: report.html";

/// Help text `EXPORT_EXIT`.
pub const EXPORT_EXIT: &str = "\
The trace is first checked against the digest in summary.json (as for `drmsim report`).

Exit status:
  0  written
  2  a file could not be read or written, the trace is malformed, the actor is unknown,
     or the command line is wrong
  3  the trace does not match summary.json (see --allow-unverified)";

/// Help text `CHROME_EXAMPLES`.
pub const CHROME_EXAMPLES: &str = "\
Examples:
  drmsim export chrome runs/qs
  drmsim export chrome runs/qs --from 1s --to 5s --no-messages";

/// Help text `MSC_EXAMPLES`.
pub const MSC_EXAMPLES: &str = "\
Examples:
  drmsim export msc runs/qs --actor agent/3
  drmsim export msc runs/qs --actor 5 --from 0s --to 2s";

/// Help text `JSONL_EXAMPLES`.
pub const JSONL_EXAMPLES: &str = "\
Examples:
  drmsim export jsonl runs/big              # runs/big/trace.jsonl.gz -> runs/big/trace.jsonl
  drmsim export jsonl runs/big -o - | grep '\"ev\":\"outcome\"' | head";

/// Help text `C14N_LONG`.
pub const C14N_LONG: &str = "\
Print the Exclusive XML Canonical form (without comments, empty InclusiveNamespaces
PrefixList) of a document, or of one element with some descendants excluded, as octets
on stdout.

NAME is `{uri}local` or `local` (no namespace); the first element of that name in
document order is selected; --exclude removes every such element inside it with its
subtree (XPath node-set semantics, seed 002 interpretation 2). The bundled sample
scenarios/examples/pdus/joinDomainResponse.xml is a ROAP Join Domain response with a
<domainKey> carrying a <mac>.

Exit status:
  0  printed
  1  the file is not well-formed XML, or NAME selects nothing
  2  the file could not be read (or exceeds the input size limit), or the command line is
     wrong";

/// Help text `C14N_EXAMPLES`.
pub const C14N_EXAMPLES: &str = "\
Examples:
  drmsim xml c14n scenarios/examples/pdus/joinDomainResponse.xml
  drmsim xml c14n scenarios/examples/pdus/joinDomainResponse.xml --select '{urn:oma:bac:dldrm:roap-1.0}domainKey' --exclude mac
  drmsim xml c14n scenarios/examples/pdus/joinDomainResponse.xml --select '{urn:oma:bac:dldrm:roap-1.0}domainKey' --exclude mac --variant substring";

/// Help text `BENCH_LONG`.
pub const BENCH_LONG: &str = "\
The bare-engine workload: N actors, each rescheduling itself after a uniform 1-1000 tick
delay; prints events per second (wall clock, one core), to compare with other engines
from the shell. Criterion benchmarks (cargo bench -p benches) are the reference figures.

Exit status:
  0  measured
  2  the command line is wrong (e.g. --actors 0)";

/// Help text `BENCH_EXAMPLES`.
pub const BENCH_EXAMPLES: &str = "\
Examples:
  drmsim bench engine
  drmsim bench engine --compare
  drmsim bench engine --actors 100000 --events 5000000";

/// Help text `CHECK_EXAMPLES`.
pub const CHECK_EXAMPLES: &str = "\
Examples:
  drmsim check scenarios/attacks
  drmsim check scenarios/attacks/replay-ro.toml --seeds 5 --no-shrink
  drmsim check scenarios/attacks --format junit > check.xml";

/// Help text `EXPORT_GROUP`.
pub const EXPORT_GROUP: &str = "\
Exit status: 0 written; 2 a file could not be read or written, or the command line is
wrong; 3 the trace does not match summary.json (see each command's --help).

Examples:
  drmsim export chrome runs/qs
  drmsim export msc runs/qs --actor agent/3
  drmsim export jsonl runs/big -o - | head";

/// Help text `XML_GROUP`.
pub const XML_GROUP: &str = "\
Exit status: 0 printed; 2 the file could not be read or parsed, or the command line is wrong.

Examples:
  drmsim xml c14n scenarios/examples/pdus/joinDomainResponse.xml";

/// Help text `BENCH_GROUP`.
pub const BENCH_GROUP: &str = "\
Exit status: 0 measured; 2 the command line is wrong.

Examples:
  drmsim bench engine --compare";
