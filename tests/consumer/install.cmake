# Installs the mailauth build tree into a fresh prefix and checks the layout of a header-only package.
# cmake -DBUILD_DIR=<mailauth build> -DPREFIX=<prefix> -DCMAKE_DIR=<share/cmake/mailauth> -DPC_DIR=<share/pkgconfig>
#       [-DCONFIG=<config>] -P install.cmake
foreach(var BUILD_DIR PREFIX CMAKE_DIR PC_DIR)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "install.cmake: ${var} not set")
    endif()
endforeach()

file(REMOVE_RECURSE "${PREFIX}")
set(args --install "${BUILD_DIR}" --prefix "${PREFIX}")
if(CONFIG)
    list(APPEND args --config "${CONFIG}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" ${args} RESULT_VARIABLE rc COMMAND_ECHO STDOUT)
if(NOT rc STREQUAL "0")
    message(FATAL_ERROR "cmake --install failed (${rc})")
endif()

set(missing "")
foreach(file
        include/mailauth/error.hpp
        "${CMAKE_DIR}/mailauthConfig.cmake"
        "${CMAKE_DIR}/mailauthConfigVersion.cmake"
        "${CMAKE_DIR}/mailauthTargets.cmake"
        "${PC_DIR}/mailauth.pc")
    if(NOT EXISTS "${PREFIX}/${file}")
        list(APPEND missing "${file}")
    endif()
endforeach()
if(missing)
    message(FATAL_ERROR "not installed: ${missing}")
endif()

# Header-only means architecture independent: nothing may land in lib/ or lib64/.
file(GLOB_RECURSE arch_files RELATIVE "${PREFIX}" "${PREFIX}/lib*/*")
if(arch_files)
    message(FATAL_ERROR "architecture-dependent files installed: ${arch_files}")
endif()
message(STATUS "installed into ${PREFIX}")
