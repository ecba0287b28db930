# cmake -DCXX=<compiler> -DFRONTEND=GNU|MSVC -DINCLUDE_DIR=<dir> -DSOURCE=<file.cpp> -DREGEX_FILE=<file> -P this
# Succeeds only when SOURCE fails to compile and the diagnostics match the regex in REGEX_FILE.
foreach(var CXX FRONTEND INCLUDE_DIR SOURCE REGEX_FILE)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "mailauth_compile_fail_check: ${var} not set")
    endif()
endforeach()

file(READ "${REGEX_FILE}" regex)

if(FRONTEND STREQUAL "MSVC")
    set(flags /nologo /std:c++20 /EHsc /Zs "/I${INCLUDE_DIR}")
else()
    set(flags -std=c++20 -fsyntax-only -fdiagnostics-color=never "-I${INCLUDE_DIR}")
endif()

execute_process(
    COMMAND "${CXX}" ${flags} "${SOURCE}"
    RESULT_VARIABLE rc
    OUTPUT_VARIABLE output
    ERROR_VARIABLE output)

string(JOIN " " command "${CXX}" ${flags} "${SOURCE}")
# Each outcome prints one unwrapped "compile_fail result:" line that the harness self-tests match.
if(rc STREQUAL "0")
    message(STATUS "compile_fail result: compiled")
    message(FATAL_ERROR "${SOURCE} compiled, but it must not.\nCommand: ${command}")
endif()
if(NOT rc MATCHES "^[0-9]+$")
    message(STATUS "compile_fail result: no compiler")
    message(FATAL_ERROR "could not run the compiler (${rc}): ${command}")
endif()
if(NOT output MATCHES "${regex}")
    message(STATUS "compile_fail result: wrong error")
    message(FATAL_ERROR "${SOURCE} failed to compile, but not with the expected error.\n"
        "Expected a match for: ${regex}\nCommand: ${command}\nCompiler output:\n${output}")
endif()
message(STATUS "compile_fail result: rejected as expected (matched \"${regex}\")")
