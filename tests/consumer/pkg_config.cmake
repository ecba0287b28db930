# Copies the installed prefix elsewhere, then builds and runs main.cpp with only `pkg-config --cflags mailauth`:
# proves mailauth.pc is relocatable (paths relative to ${pcfiledir}) and carries everything a build needs.
# cmake -DPKG_CONFIG=<exe> -DCXX=<compiler> -DPREFIX=<installed prefix> -DRELOCATED=<new prefix>
#       -DPC_DIR=<share/pkgconfig> -DSOURCE=<main.cpp> -DOUTPUT_DIR=<dir> [-DEXPECTED_VERSION=<x.y.z>] -P pkg_config.cmake
foreach(var PKG_CONFIG CXX PREFIX RELOCATED PC_DIR SOURCE OUTPUT_DIR)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "pkg_config.cmake: ${var} not set")
    endif()
endforeach()

file(REMOVE_RECURSE "${RELOCATED}")
file(MAKE_DIRECTORY "${RELOCATED}")
file(COPY "${PREFIX}/" DESTINATION "${RELOCATED}")

set(ENV{PKG_CONFIG_PATH} "${RELOCATED}/${PC_DIR}")
unset(ENV{PKG_CONFIG_SYSROOT_DIR})

execute_process(COMMAND "${PKG_CONFIG}" --modversion mailauth
    RESULT_VARIABLE rc OUTPUT_VARIABLE version ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc STREQUAL "0")
    message(FATAL_ERROR "pkg-config --modversion mailauth failed: ${err}")
endif()
if(EXPECTED_VERSION AND NOT version STREQUAL EXPECTED_VERSION)
    message(FATAL_ERROR "pkg-config reports version '${version}', expected '${EXPECTED_VERSION}'")
endif()

execute_process(COMMAND "${PKG_CONFIG}" --cflags mailauth
    RESULT_VARIABLE rc OUTPUT_VARIABLE cflags ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc STREQUAL "0")
    message(FATAL_ERROR "pkg-config --cflags mailauth failed: ${err}")
endif()
message(STATUS "pkg-config --cflags mailauth: ${cflags}")
separate_arguments(cflags_list UNIX_COMMAND "${cflags}")

# The include directory must resolve inside the relocated copy, not the original prefix.
file(REAL_PATH "${RELOCATED}/include" want)
set(found_include OFF)
foreach(flag IN LISTS cflags_list)
    if(flag MATCHES "^-I(.+)$")
        file(REAL_PATH "${CMAKE_MATCH_1}" got)
        if(got STREQUAL want)
            set(found_include ON)
        endif()
    endif()
endforeach()
if(NOT found_include)
    message(FATAL_ERROR "pkg-config cflags '${cflags}' do not point at ${want}")
endif()

set(exe "${OUTPUT_DIR}/consumer_pkg_config")
execute_process(
    COMMAND "${CXX}" -std=c++20 -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Werror ${cflags_list}
        "${SOURCE}" -o "${exe}"
    RESULT_VARIABLE rc COMMAND_ECHO STDOUT)
if(NOT rc STREQUAL "0")
    message(FATAL_ERROR "compiling with pkg-config flags failed (${rc})")
endif()
execute_process(COMMAND "${exe}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
message(STATUS "${out}")
if(NOT rc STREQUAL "0" OR NOT out MATCHES "mailauth consumer: ok")
    message(FATAL_ERROR "the pkg-config consumer failed (${rc})")
endif()
