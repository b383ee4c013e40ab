"""Build of the porter_bench Python module: a C extension over the C libraries.

The extension is linked statically with libporter_bench (the recording library)
and libporter_bench_analysis, both built by this repository's CMake into
``<repo>/build-python`` (or the folder named by $PORTER_BENCH_CMAKE_BUILD), so
no library path is needed at run time. The analysis library's own dependencies
(cairo, pango, libpng, simdjson, libstdc++) are Debian shared libraries.

Install (Debian's Python alone, no package index needed)::

    /usr/bin/python3 -m venv --system-site-packages .venv
    .venv/bin/pip install --no-build-isolation --no-index ./python
"""

import os
import shlex
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CMAKE_BUILD = os.environ.get("PORTER_BENCH_CMAKE_BUILD", os.path.join(ROOT, "build-python"))
PKG_MODULES = ["cairo", "pangocairo", "libpng", "simdjson"]


def pkg_config(flag):
    """The words pkg-config prints for flag over the analysis library's dependencies."""
    out = subprocess.run(["pkg-config", flag] + PKG_MODULES, check=True,
                         capture_output=True, text=True).stdout
    return shlex.split(out)


class BuildWithCMake(build_ext):
    """Builds the two static C libraries with CMake, then the extension."""

    def run(self):
        jobs = os.environ.get("JOBS", "2")
        subprocess.run(["cmake", "-S", ROOT, "-B", CMAKE_BUILD, "-DCMAKE_BUILD_TYPE=Release",
                        "-DPB_BUILD_TESTS=OFF", "-DPB_BUILD_EXAMPLES=OFF",
                        "-DPB_BUILD_BENCH=OFF", "-DPB_BUILD_ANALYSIS=ON"], check=True)
        subprocess.run(["cmake", "--build", CMAKE_BUILD, "-j", jobs, "--target",
                        "porter_bench_static", "porter_bench_analysis"], check=True)
        for ext in self.extensions:
            ext.extra_objects = [
                os.path.join(CMAKE_BUILD, "src", "analysis", "libporter_bench_analysis.a"),
                os.path.join(CMAKE_BUILD, "src", "record", "libporter_bench.a"),
            ]
            ext.extra_link_args = pkg_config("--libs") + ["-lstdc++", "-lm", "-lpthread", "-ldl"]
            # relink when a library changed, not only when the extension's own sources did
            ext.depends = list(ext.depends) + ext.extra_objects
        super().run()


core = Extension(
    "porter_bench._core",
    sources=[os.path.join("src", f) for f in ("core_module.c", "core_bench.c", "core_run.c")],
    include_dirs=[os.path.join(ROOT, "include")],
    define_macros=[("PB_STATIC", "1")],
    extra_compile_args=["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers",
                        "-fvisibility=hidden"],
)

setup(ext_modules=[core], cmdclass={"build_ext": BuildWithCMake})
