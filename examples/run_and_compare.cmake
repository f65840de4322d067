# Runs BIN with ARGS (a ;-list) and checks its exit code (EXPECTED_EXIT) and its standard
# output followed by its standard error against EXPECTED_FILE.
execute_process(COMMAND ${BIN} ${ARGS}
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(actual "${out}${err}")
file(READ "${EXPECTED_FILE}" expected)
if(NOT code STREQUAL "${EXPECTED_EXIT}")
  message(FATAL_ERROR "exit code ${code}, expected ${EXPECTED_EXIT}; output:\n${actual}")
endif()
if(NOT actual STREQUAL expected)
  message(FATAL_ERROR "output differs from ${EXPECTED_FILE}:\n--- actual ---\n${actual}\n"
                      "--- expected ---\n${expected}")
endif()
