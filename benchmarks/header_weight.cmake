# Header weight budget of the umbrella header, run as a ctest (header_weight.umbrella_budget):
#   1. <mailauth/mailauth.hpp> includes no <iostream>, <regex>, <format> and nothing from fmt, even indirectly;
#   2. its preprocessed size is at most 1.5x that of <string> <vector> <variant> <system_error> together.
# cmake -DCXX=g++ -DINCLUDE_DIR=include -DWORK_DIR=/tmp/hw [-DSTD_FLAG=-std=c++20] [-DMAX_RATIO_PERCENT=150]
#       -P benchmarks/header_weight.cmake
cmake_minimum_required(VERSION 3.20)

foreach(var CXX INCLUDE_DIR WORK_DIR)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "header_weight.cmake: -D${var}=... is required")
    endif()
endforeach()
if(NOT DEFINED STD_FLAG)
    set(STD_FLAG -std=c++20)
endif()
if(NOT DEFINED MAX_RATIO_PERCENT)
    set(MAX_RATIO_PERCENT 150)
endif()

file(MAKE_DIRECTORY "${WORK_DIR}")
file(WRITE "${WORK_DIR}/umbrella.cpp" "#include <mailauth/mailauth.hpp>\n")
file(WRITE "${WORK_DIR}/baseline.cpp" "#include <string>\n#include <vector>\n#include <variant>\n#include <system_error>\n")

# Lines of `${CXX} -E` output (what `g++ -E file | wc -l` prints).
function(preprocessed_lines source out_var)
    execute_process(
        COMMAND "${CXX}" ${STD_FLAG} "-I${INCLUDE_DIR}" -E "${source}"
        OUTPUT_FILE "${source}.ii"
        RESULT_VARIABLE rc
        ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "preprocessing ${source} failed:\n${err}")
    endif()
    file(READ "${source}.ii" text)
    string(REGEX REPLACE "[^\n]" "" newlines "${text}")
    string(LENGTH "${newlines}" n)
    set(${out_var} ${n} PARENT_SCOPE)
endfunction()

# 1. Every header the umbrella pulls in, from the compiler's dependency list.
execute_process(
    COMMAND "${CXX}" ${STD_FLAG} "-I${INCLUDE_DIR}" -M "${WORK_DIR}/umbrella.cpp"
    OUTPUT_VARIABLE deps
    RESULT_VARIABLE rc
    ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "listing the includes of <mailauth/mailauth.hpp> failed:\n${err}")
endif()
string(REGEX REPLACE "[ \t\r\n\\\\]+" ";" deps "${deps}")
set(banned)
foreach(path IN LISTS deps)
    get_filename_component(name "${path}" NAME)
    if(name MATCHES "^(iostream|regex|format)$" OR path MATCHES "/fmt/")
        list(APPEND banned "${path}")
    endif()
endforeach()

# 2. The line budget.
preprocessed_lines("${WORK_DIR}/umbrella.cpp" umbrella)
preprocessed_lines("${WORK_DIR}/baseline.cpp" baseline)
math(EXPR limit "${baseline} * ${MAX_RATIO_PERCENT} / 100")
math(EXPR percent "${umbrella} * 100 / ${baseline}")
message(STATUS "<mailauth/mailauth.hpp>: ${umbrella} preprocessed lines; <string> <vector> <variant> <system_error>: "
               "${baseline}; ratio ${percent}% (budget ${MAX_RATIO_PERCENT}%, at most ${limit} lines)")

if(banned)
    list(JOIN banned "\n  " banned_text)
    message(FATAL_ERROR "<mailauth/mailauth.hpp> pulls in headers it must not (no <iostream>, <regex>, <format>, fmt):\n  ${banned_text}")
endif()
if(umbrella GREATER limit)
    message(FATAL_ERROR "<mailauth/mailauth.hpp> is over its budget: ${umbrella} lines > ${limit}")
endif()
