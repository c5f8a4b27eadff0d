# Preprocessing the same input twice gives byte-identical files (no HDF5
# modification times, deterministic order): LM, INPUT, OUT are set by ctest.
foreach(i 1 2)
  file(REMOVE_RECURSE ${OUT}${i})
  execute_process(COMMAND ${LM} preprocess --threads 2 --vocab-size 2000 --out ${OUT}${i} ${INPUT}
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "preprocess failed: ${err}")
  endif()
  if(i EQUAL 1)
    execute_process(COMMAND ${CMAKE_COMMAND} -E sleep 1.1) # a time stamp would now differ
  endif()
endforeach()
foreach(f vocab.h5 train-00000.h5 val-00000.h5)
  file(SHA256 ${OUT}1/${f} a)
  file(SHA256 ${OUT}2/${f} b)
  if(NOT a STREQUAL b)
    message(FATAL_ERROR "${f} differs between two identical runs")
  endif()
endforeach()
file(REMOVE_RECURSE ${OUT}1 ${OUT}2)
