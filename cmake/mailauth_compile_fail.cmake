# Test-only helper: snippets that must NOT compile (a constraint rejects what it should).
include_guard(GLOBAL)

set(_mailauth_compile_fail_script "${CMAKE_CURRENT_LIST_DIR}/mailauth_compile_fail_check.cmake")

# mailauth_add_compile_fail_test(<name> <source> <regex>)
# Adds the ctest "compile_fail.<name>": it runs `${CMAKE_CXX_COMPILER} -std=c++20 -fsyntax-only -I include <source>`
# and passes only when the compilation fails AND the compiler output matches <regex> (a CMake regex).
function(mailauth_add_compile_fail_test name source regex)
    get_filename_component(source "${source}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    # The regex goes through a file: it may hold ';' or quotes that would not survive add_test().
    set(regex_file "${CMAKE_CURRENT_BINARY_DIR}/compile_fail/${name}.regex")
    file(WRITE "${regex_file}" "${regex}")
    if(CMAKE_CXX_COMPILER_FRONTEND_VARIANT STREQUAL "MSVC")
        set(frontend MSVC)
    else()
        set(frontend GNU)
    endif()
    add_test(NAME "compile_fail.${name}"
        COMMAND "${CMAKE_COMMAND}"
            "-DCXX=${CMAKE_CXX_COMPILER}"
            "-DFRONTEND=${frontend}"
            "-DINCLUDE_DIR=${mailauth_SOURCE_DIR}/include"
            "-DSOURCE=${source}"
            "-DREGEX_FILE=${regex_file}"
            -P "${_mailauth_compile_fail_script}")
    set_tests_properties("compile_fail.${name}" PROPERTIES LABELS compile_fail)
endfunction()

# mailauth_add_compile_fail_tests_from(<dir>)
# Registers every <dir>/*.cpp whose first line is `// expect: <regex>`; any other first line is a configure error.
function(mailauth_add_compile_fail_tests_from dir)
    file(GLOB sources CONFIGURE_DEPENDS "${dir}/*.cpp")
    foreach(source IN LISTS sources)
        file(STRINGS "${source}" first_line LIMIT_COUNT 1)
        if(NOT first_line MATCHES "^// expect: (.+)$")
            message(FATAL_ERROR "${source}: the first line must be `// expect: <regex>` (the expected compiler error)")
        endif()
        set(regex "${CMAKE_MATCH_1}")
        get_filename_component(name "${source}" NAME_WE)
        mailauth_add_compile_fail_test("${name}" "${source}" "${regex}")
    endforeach()
endfunction()
