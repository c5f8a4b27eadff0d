# Runs CMD with ARGS (a shell-style string). With WANT set: expects a non-zero
# exit and WANT in stderr (a sanitizer report that fails the process). Without
# WANT: expects exit 0 and no sanitizer report at all.
separate_arguments(arg_list UNIX_COMMAND "${ARGS}")
execute_process(COMMAND ${CMD} ${arg_list} RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 120)
if(DEFINED WANT)
  string(FIND "${err}" "${WANT}" at)
  if(rc STREQUAL "0" OR at EQUAL -1)
    message(FATAL_ERROR "expected a failing exit and '${WANT}' in stderr, got exit '${rc}'\nstderr: ${err}")
  endif()
else()
  string(FIND "${err}" "Sanitizer" at)
  if(NOT rc STREQUAL "0" OR NOT at EQUAL -1)
    message(FATAL_ERROR "expected a clean exit 0, got '${rc}'\nstderr: ${err}")
  endif()
endif()
