# Runs the porter-bench CLI and compares its stdout (and stderr, when a
# golden file is given) and exit code with the expected ones.
#   cmake -DCLI=... -DARGS="a;b" -DWORKDIR=... -DGOLDEN_OUT=... [-DGOLDEN_ERR=...]
#         -DEXPECT_RC=n [-DCOLUMNS=n] [-DMAX_WIDTH=n] [-DUPDATE=1] -P cli_golden.cmake
# COLUMNS sets $COLUMNS for the command (unset otherwise); MAX_WIDTH checks
# that no stdout line is wider than that many display columns.
set(ENV{TZ} "UTC")
if(COLUMNS)
  set(ENV{COLUMNS} "${COLUMNS}")
else()
  unset(ENV{COLUMNS})
endif()
set(ENV{LC_ALL} "C")
unset(ENV{PORTER_BENCH_ROOT})
unset(ENV{DISPLAY})
unset(ENV{WAYLAND_DISPLAY})
execute_process(
  COMMAND ${CLI} ${ARGS}
  WORKING_DIRECTORY ${WORKDIR}
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err
  RESULT_VARIABLE rc)
# absolute paths (plots prints the run's) are written as <fixtures>
get_filename_component(real_workdir "${WORKDIR}" REALPATH)
string(REPLACE "${real_workdir}" "<fixtures>" out "${out}")
string(REPLACE "${WORKDIR}" "<fixtures>" out "${out}")
if(UPDATE OR DEFINED ENV{PB_GOLDEN_UPDATE})
  file(WRITE ${GOLDEN_OUT} "${out}")
  if(GOLDEN_ERR)
    file(WRITE ${GOLDEN_ERR} "${err}")
  endif()
endif()
if(NOT rc STREQUAL EXPECT_RC)
  message(FATAL_ERROR "exit code ${rc}, expected ${EXPECT_RC}\nstdout:\n${out}\nstderr:\n${err}")
endif()
file(READ ${GOLDEN_OUT} want)
if(NOT out STREQUAL want)
  message(FATAL_ERROR "stdout differs from ${GOLDEN_OUT}\n--- got:\n${out}\n--- want:\n${want}")
endif()
if(GOLDEN_ERR)
  file(READ ${GOLDEN_ERR} want_err)
  if(NOT err STREQUAL want_err)
    message(FATAL_ERROR "stderr differs from ${GOLDEN_ERR}\n--- got:\n${err}\n--- want:\n${want_err}")
  endif()
endif()
if(MAX_WIDTH)
  # display width: the only non-ASCII characters printed are "µ" and "…"
  string(REPLACE "µ" "u" narrow "${out}")
  string(REPLACE "…" "." narrow "${narrow}")
  string(REPLACE ";" ":" narrow "${narrow}")
  string(REPLACE "\\" "/" narrow "${narrow}") # a "\;" would join two lines of the list
  string(REPLACE "\n" ";" lines "${narrow}")
  foreach(line IN LISTS lines)
    string(LENGTH "${line}" len)
    if(len GREATER MAX_WIDTH)
      message(FATAL_ERROR "a line is ${len} columns wide, more than ${MAX_WIDTH}:\n${line}")
    endif()
  endforeach()
endif()
