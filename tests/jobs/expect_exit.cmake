# Runs CMD with ARGS (a shell-style string) and checks its exit code equals EXPECT_RC and,
# if EXPECT_ERR is set, that stderr contains it and is exactly one line.
separate_arguments(arg_list UNIX_COMMAND "${ARGS}")
execute_process(COMMAND ${CMD} ${arg_list} RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 120)
if(NOT rc STREQUAL "${EXPECT_RC}")
  message(FATAL_ERROR "expected exit ${EXPECT_RC}, got '${rc}'\nstdout: ${out}\nstderr: ${err}")
endif()
if(DEFINED EXPECT_ERR)
  string(FIND "${err}" "${EXPECT_ERR}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "stderr lacks '${EXPECT_ERR}': ${err}")
  endif()
  string(STRIP "${err}" stripped)
  string(FIND "${stripped}" "\n" nl)
  if(NOT nl EQUAL -1)
    message(FATAL_ERROR "error is not one line: ${err}")
  endif()
endif()
