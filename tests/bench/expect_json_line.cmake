# Runs CMD with ARGS (a shell-style string) and checks that it exits 0 and that
# stdout is exactly one line matching REGEX (a JSON object with the figures).
# Figures are not compared with anything: this is a smoke test, not a timing test.
separate_arguments(arg_list UNIX_COMMAND "${ARGS}")
execute_process(COMMAND ${CMD} ${arg_list} RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 300)
if(NOT rc STREQUAL "0")
  message(FATAL_ERROR "expected exit 0, got '${rc}'\nstdout: ${out}\nstderr: ${err}")
endif()
string(REGEX REPLACE "\n$" "" line "${out}")
string(FIND "${line}" "\n" nl)
if(NOT nl EQUAL -1)
  message(FATAL_ERROR "stdout is not one line: ${out}")
endif()
if(NOT line MATCHES "${REGEX}")
  message(FATAL_ERROR "stdout does not match ${REGEX}: ${out}")
endif()
