"""Benchmark: the same ≥100 MB proxy log merged on one machine and on Dask.

    pip install '.[bench,dask]' && python benches/dask_scale.py [--mb 110] [--blocksize 64]

The log is benches/log.py's (generated once, cached in benches/data/). Side by side:

* single machine: ``merge_log`` consumed to the end (2 threads), and ``merge_log_arrow``
  (the same rows as the Dask DataFrame, as one Arrow table);
* Dask (``chatchunk.dask.merge_logs``) on a ``distributed.LocalCluster`` of 1 and of 2 worker
  processes (1 thread each): the whole DataFrame computed back to this process (through the
  scheduler, as ``compute()`` fetches it by default, and with ``direct=True``, from the
  worker itself), ``len()`` (rows left on the workers), and ``to_parquet`` from the
  workers, against one machine's ``merge_log_arrow`` written with
  ``pyarrow.parquet.write_table`` (the same Parquet, the pipeline the log use case runs).

Each cluster is measured as a long-lived cluster runs: started, then warmed up by merging
the whole log once under another name (its workers import chatchunk, pandas and pyarrow,
and their allocators and Dask's task machinery reach their working size), then timed on
the log under names it has not seen, so that no result of an identical earlier task is
reused. Every figure is the best of ``--repeat`` runs, as for the single-machine side; the
median is printed too, since on this shared machine the spread is wide.

This machine has 2 cores, so 2 workers cannot beat 2 engine threads: the figure of merit
is the overhead of running on a real engine (partial states, the shuffle, the transfers).
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def bench_log():
    spec = importlib.util.spec_from_file_location("bench_log", HERE / "log.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def warm_up() -> None:
    # dask.dataframe too: the warm-up merge runs compute()'s concatenation on one worker
    # only, and the other imported it inside a timed run.
    import chatchunk.dask  # noqa: F401
    import dask.dataframe  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401


def best(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=110, help="log size in MB (default 110)")
    parser.add_argument(
        "--blocksize",
        type=int,
        default=64,
        help="Dask block size in MiB (default: merge_logs' own)",
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import dask.dataframe  # noqa: F401  (imported before the clock starts)
    import distributed
    import pyarrow.parquet as pq
    from chatchunk import merge_log, merge_log_arrow
    from chatchunk.dask import merge_logs

    path = bench_log().ensure(args.mb)
    size = path.stat().st_size / 1e6
    print(f"log: {path.name}, {size:.0f} MB; {os.cpu_count()} cores")

    def consume():
        n = 0
        for _ in merge_log(str(path), threads=2):
            n += 1
        return n

    single, streams = best(consume, args.repeat)
    arrow, table = best(lambda: merge_log_arrow(str(path), threads=2), args.repeat)
    print(
        f"single machine, merge_log (2 threads):       {single:6.2f} s  {size / single:6.0f} MB/s"
        f"  ({streams} streams)"
    )
    out = Path(tempfile.mkdtemp(prefix="chatchunk-dask-scale-"))
    parquet, _ = best(
        lambda: pq.write_table(merge_log_arrow(str(path), threads=2), out / "single.parquet"),
        args.repeat,
    )
    print(
        f"single machine, merge_log_arrow (2 threads): {arrow:6.2f} s  {size / arrow:6.0f} MB/s"
        f"  ({table.num_rows} rows)"
    )
    print(
        f"single machine, merge_log_arrow + write_table: {parquet:4.2f} s  {size / parquet:6.0f} MB/s"
    )
    blocksize = args.blocksize << 20
    with tempfile.TemporaryDirectory() as tmp:
        names = itertools.count()

        def fresh_name() -> str:
            """The log under a name no cluster has seen: the same bytes, new task keys."""
            link = Path(tmp) / f"log-{next(names)}.jsonl"
            link.symlink_to(path)
            return str(link)

        for workers in (1, 2):
            with (
                distributed.LocalCluster(
                    n_workers=workers,
                    processes=True,
                    threads_per_worker=1,
                    dashboard_address=None,
                ) as cluster,
                distributed.Client(cluster) as client,
            ):
                client.run(warm_up)
                merge_logs(fresh_name(), blocksize=blocksize).compute()
                time.sleep(1)
                for how in ("compute", "direct", "len", "parquet"):
                    runs = []
                    for n in range(args.repeat):
                        name = fresh_name()
                        t = time.perf_counter()
                        ddf = merge_logs(name, blocksize=blocksize)
                        if how in ("compute", "direct"):
                            rows = len(ddf.compute(direct=how == "direct"))
                        elif how == "len":
                            rows = len(ddf)
                        else:
                            written = out / f"dask-{workers}-{n}"
                            ddf.to_parquet(written, write_index=False)
                        runs.append(time.perf_counter() - t)
                        if how == "parquet":
                            rows = pq.read_table(written).num_rows
                        assert rows == table.num_rows, (rows, table.num_rows)
                    took, median = min(runs), statistics.median(runs)
                    if how == "parquet":
                        print(
                            f"dask, {workers} worker(s), to_parquet             : {took:6.2f} s"
                            f"  {size / took:6.0f} MB/s  {took / parquet:4.2f}x merge_log_arrow"
                            f" + write_table  (median {median:5.2f} s, {median / parquet:4.2f}x)"
                        )
                        continue
                    label = {
                        "compute": "compute() to client    ",
                        "direct": "compute(direct=True)   ",
                        "len": "len() on workers       ",
                    }[how]
                    print(
                        f"dask, {workers} worker(s), {label}: {took:6.2f} s"
                        f"  {size / took:6.0f} MB/s  {took / single:4.2f}x merge_log"
                        f"  {took / arrow:4.2f}x merge_log_arrow"
                        f"  (median {median:5.2f} s, {median / single:4.2f}x)"
                    )
        print(f"({ddf.npartitions} partitions, blocksize {args.blocksize} MiB)")
    shutil.rmtree(out)


if __name__ == "__main__":
    main()
