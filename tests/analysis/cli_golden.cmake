# Runs the porter-bench CLI and compares its stdout (and stderr, when a
# golden file is given) and exit code with the expected ones.
#   cmake -DCLI=... -DARGS="a;b" -DWORKDIR=... -DGOLDEN_OUT=... [-DGOLDEN_ERR=...]
#         -DEXPECT_RC=n [-DUPDATE=1] -P cli_golden.cmake
set(ENV{TZ} "UTC")
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
