"""``porter_bench.plot_cli`` and the ``porter-bench-plots`` command: charts of a run."""

import argparse
import os
import sys

from . import _core

__all__ = ["generate_plots", "main"]


def generate_plots(record_path=".", output_dir="PLOTS", topics=None, show=False,
                   only_latest=True):
    """Writes the charts of the run under record_path into output_dir; returns the files.

    topics limits them to those benchmarkers. show is accepted for
    compatibility: the charts are PNG files, nothing is displayed.
    """
    del show
    run = _core.load_run(os.fspath(record_path), bool(only_latest))
    if topics is not None:
        topics = [topics] if isinstance(topics, str) else [str(t) for t in topics]
    return _core.plots_write(run, os.fspath(output_dir), topics)


def main(argv=None):
    """The console command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="porter-bench-plots",
                                     description="Charts of a porter_bench run folder.")
    parser.add_argument("--path", default=".", help="folder holding the runs (default .)")
    parser.add_argument("--output", default="PLOTS", help="folder for the charts (default PLOTS)")
    parser.add_argument("--topics", nargs="+", default=None, help="only these benchmarkers")
    parser.add_argument("--show", action="store_true", help="accepted; charts are files")
    parser.add_argument("--no-latest", action="store_true",
                        help="--path is the run folder itself")
    args = parser.parse_args(argv)
    try:
        files = generate_plots(args.path, args.output, args.topics, args.show,
                               not args.no_latest)
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"porter-bench-plots: {exc}", file=sys.stderr)
        return 1
    for f in files:
        print(f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
