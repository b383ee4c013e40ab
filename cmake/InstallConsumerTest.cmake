# Packaging test (ctest "install_consumer"), run with cmake -P.
#
# 1. installs the build tree PB_BINARY_DIR into PB_WORK_DIR/prefix;
# 2. configures, builds and runs examples/consumer against it with find_package()
#    (both porter_bench::porter_bench and porter_bench::porter_bench_static);
# 3. compiles examples/consumer/main.c with `cc $(pkg-config --cflags --libs porter_bench)`
#    and runs it.
# Inputs: PB_BINARY_DIR, PB_SOURCE_DIR, PB_WORK_DIR, PB_CONFIG, PB_GENERATOR,
# PB_C_COMPILER, PB_LIBDIR.
cmake_minimum_required(VERSION 3.20)

foreach(_var PB_BINARY_DIR PB_SOURCE_DIR PB_WORK_DIR PB_GENERATOR PB_C_COMPILER PB_LIBDIR)
  if(NOT DEFINED ${_var} OR "${${_var}}" STREQUAL "")
    message(FATAL_ERROR "InstallConsumerTest: ${_var} is not set")
  endif()
endforeach()

set(_prefix "${PB_WORK_DIR}/prefix")
set(_consumer_build "${PB_WORK_DIR}/consumer-build")
set(_run_dir "${PB_WORK_DIR}/run")
file(REMOVE_RECURSE "${PB_WORK_DIR}")
file(MAKE_DIRECTORY "${PB_WORK_DIR}" "${_run_dir}")

# Runs a command, fails the test with its output if it fails; the output goes to OUT_VAR.
function(pb_run step out_var)
  execute_process(
    COMMAND ${ARGN}
    WORKING_DIRECTORY "${_run_dir}"
    RESULT_VARIABLE _rc
    OUTPUT_VARIABLE _out
    ERROR_VARIABLE _out)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "install_consumer: ${step} failed (${_rc}):\n${_out}")
  endif()
  message(STATUS "install_consumer: ${step}: ok")
  set(${out_var}
      "${_out}"
      PARENT_SCOPE)
endfunction()

set(_config_args)
if(PB_CONFIG)
  set(_config_args --config "${PB_CONFIG}")
endif()

pb_run("cmake --install" _ "${CMAKE_COMMAND}" --install "${PB_BINARY_DIR}" --prefix "${_prefix}"
       ${_config_args})

foreach(_file "include/porter_bench.h" "${PB_LIBDIR}/pkgconfig/porter_bench.pc"
              "${PB_LIBDIR}/cmake/porter_bench/porter_benchConfig.cmake"
              "${PB_LIBDIR}/cmake/porter_bench/porter_benchConfigVersion.cmake")
  if(NOT EXISTS "${_prefix}/${_file}")
    message(FATAL_ERROR "install_consumer: ${_file} was not installed")
  endif()
endforeach()

# --- find_package ---------------------------------------------------------------
pb_run(
  "configure consumer (find_package)" _
  "${CMAKE_COMMAND}" -S "${PB_SOURCE_DIR}/examples/consumer" -B "${_consumer_build}" -G
  "${PB_GENERATOR}" "-DCMAKE_C_COMPILER=${PB_C_COMPILER}" "-DCMAKE_PREFIX_PATH=${_prefix}"
  -DCMAKE_BUILD_TYPE=Release)
pb_run("build consumer" _ "${CMAKE_COMMAND}" --build "${_consumer_build}" --config Release)

foreach(_exe porter_bench_consumer porter_bench_consumer_static)
  find_program(
    _exe_path ${_exe}
    PATHS "${_consumer_build}" "${_consumer_build}/Release"
    NO_DEFAULT_PATH NO_CACHE)
  if(NOT _exe_path)
    message(FATAL_ERROR "install_consumer: ${_exe} was not built")
  endif()
  pb_run("run ${_exe}" _out "${_exe_path}")
  if(NOT _out MATCHES "porter_bench [0-9]+\\.[0-9]+\\.[0-9]+ ok")
    message(FATAL_ERROR "install_consumer: unexpected output of ${_exe}:\n${_out}")
  endif()
  unset(_exe_path)
endforeach()

# The shared consumer must really use the installed shared library.
file(READ "${_consumer_build}/CMakeCache.txt" _cache)
if(NOT _cache MATCHES "porter_bench_DIR:PATH=${_prefix}/")
  message(FATAL_ERROR "install_consumer: find_package did not use the installed tree")
endif()

# --- pkg-config -------------------------------------------------------------------
find_program(_pkg_config NAMES pkg-config pkgconf NO_CACHE)
if(NOT _pkg_config)
  message(FATAL_ERROR "install_consumer: pkg-config not found")
endif()
set(ENV{PKG_CONFIG_PATH} "${_prefix}/${PB_LIBDIR}/pkgconfig")
pb_run("pkg-config --modversion" _version "${_pkg_config}" --modversion porter_bench)
pb_run("pkg-config --cflags --libs" _flags "${_pkg_config}" --cflags --libs porter_bench)
pb_run("pkg-config --variable=libdir" _libdir "${_pkg_config}" --variable=libdir porter_bench)
string(STRIP "${_version}" _version)
string(STRIP "${_libdir}" _libdir)
separate_arguments(_flags UNIX_COMMAND "${_flags}")
if(NOT _flags MATCHES "-lporter_bench")
  message(FATAL_ERROR "install_consumer: pkg-config flags lack -lporter_bench: ${_flags}")
endif()
set(_pc_exe "${PB_WORK_DIR}/consumer_pkgconfig")
pb_run(
  "cc $(pkg-config --cflags --libs porter_bench)" _ "${PB_C_COMPILER}" -std=c11
  "${PB_SOURCE_DIR}/examples/consumer/main.c" -o "${_pc_exe}" ${_flags} "-Wl,-rpath,${_libdir}")
pb_run("run pkg-config consumer" _out "${_pc_exe}")
if(NOT _out MATCHES "porter_bench ${_version} ok")
  message(FATAL_ERROR "install_consumer: pkg-config consumer printed:\n${_out}")
endif()

message(STATUS "install_consumer: porter_bench ${_version} installs and links")
