# slurm/lm_install_slurm.cmake: run by `cmake --install` (see the top-level
# CMakeLists.txt, which sets LM_SLURM_SRC, LM_SLURM_STAGE, LM_SLURMDIR and
# LM_BINDIR). Installs the SLURM templates into PREFIX/LM_SLURMDIR. sbatch
# runs a copy of the script, so a template cannot find the binary beside
# itself: in the installed copies the default binary is `lyricmind` on PATH,
# else this installation's PREFIX/LM_BINDIR/lyricmind (the repository copies
# keep `lyricmind` on PATH, and slurm/submit falls back to build/lyricmind).

# lm_abs(<var> <dir>): <dir> under the install prefix unless absolute.
function(lm_abs var dir)
  if(IS_ABSOLUTE "${dir}")
    set(${var} "${dir}" PARENT_SCOPE)
  else()
    set(${var} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
  endif()
endfunction()
lm_abs(slurmdir "${LM_SLURMDIR}")
lm_abs(bindir "${LM_BINDIR}")
set(bin "${bindir}/lyricmind")

file(REMOVE_RECURSE "${LM_SLURM_STAGE}")
file(MAKE_DIRECTORY "${LM_SLURM_STAGE}")
set(staged "")
foreach(name train.sbatch preprocess.sbatch eval.sbatch submit)
  file(READ "${LM_SLURM_SRC}/${name}" text)
  set(before "${text}")
  if(name STREQUAL "submit")
    string(REPLACE [[lyricmind=$HERE/../build/lyricmind]] "lyricmind=${bin}" text "${text}")
  else()
    string(REPLACE [[LYRICMIND=${LYRICMIND:-lyricmind}]]
           "LYRICMIND=\${LYRICMIND:-\$(command -v lyricmind || echo '${bin}')}" text "${text}")
  endif()
  if(text STREQUAL before)
    message(FATAL_ERROR "slurm/${name}: no default lyricmind line to point at ${bin}")
  endif()
  file(WRITE "${LM_SLURM_STAGE}/${name}" "${text}")
  list(APPEND staged "${LM_SLURM_STAGE}/${name}")
endforeach()
file(INSTALL ${staged} DESTINATION "${slurmdir}"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                      WORLD_READ WORLD_EXECUTE)
