# Runs the vcpkg portfile with stand-ins for vcpkg's helper functions, so it is parsed and executed offline.
# cmake -DPORT_DIR=<cmake/vcpkg/mailauth> -DWORK_DIR=<scratch dir> -DRECORD=<file> -P run_portfile.cmake
# Each helper call is written to RECORD as tab-separated lines "<function>\t<key>\t<value>"; file() commands
# of the portfile run for real against WORK_DIR/packages. vcpkg_from_github and friends fail: the overlay port
# must build from the checkout, offline.
cmake_minimum_required(VERSION 3.20)
foreach(var PORT_DIR WORK_DIR RECORD)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "run_portfile.cmake: ${var} not set")
    endif()
endforeach()

file(READ "${PORT_DIR}/vcpkg.json" manifest)
string(JSON PORT GET "${manifest}" name)
foreach(key version version-semver version-string version-date)
    string(JSON VERSION ERROR_VARIABLE no_key GET "${manifest}" ${key})
    if(NOT no_key)
        break()
    endif()
    set(VERSION "")
endforeach()

file(REMOVE_RECURSE "${WORK_DIR}")
set(CURRENT_PACKAGES_DIR "${WORK_DIR}/packages")
set(CURRENT_BUILDTREES_DIR "${WORK_DIR}/buildtrees")
set(CURRENT_INSTALLED_DIR "${WORK_DIR}/installed")
set(TARGET_TRIPLET x64-linux)
set(VCPKG_TARGET_ARCHITECTURE x64)
set(VCPKG_LIBRARY_LINKAGE static)
set(VCPKG_CRT_LINKAGE dynamic)
set(VCPKG_CMAKE_SYSTEM_NAME Linux)
file(MAKE_DIRECTORY "${CURRENT_PACKAGES_DIR}" "${CURRENT_BUILDTREES_DIR}")
file(WRITE "${RECORD}" "port\tname\t${PORT}\nport\tversion\t${VERSION}\n")

function(_record fn key value)
    file(APPEND "${RECORD}" "${fn}\t${key}\t${value}\n")
endfunction()

function(vcpkg_cmake_configure)
    cmake_parse_arguments(PARSE_ARGV 0 arg "WINDOWS_USE_MSBUILD;NO_CHARSET_FLAG;DISABLE_PARALLEL_CONFIGURE"
        "SOURCE_PATH;GENERATOR;LOGFILE_BASE"
        "OPTIONS;OPTIONS_DEBUG;OPTIONS_RELEASE;MAYBE_UNUSED_VARIABLES")
    _record(vcpkg_cmake_configure called 1)
    _record(vcpkg_cmake_configure build_type "${VCPKG_BUILD_TYPE}")
    _record(vcpkg_cmake_configure SOURCE_PATH "${arg_SOURCE_PATH}")
    foreach(option IN LISTS arg_OPTIONS arg_OPTIONS_RELEASE)
        _record(vcpkg_cmake_configure OPTION "${option}")
    endforeach()
    foreach(option IN LISTS arg_OPTIONS_DEBUG)
        _record(vcpkg_cmake_configure OPTION_DEBUG "${option}")
    endforeach()
    foreach(extra IN LISTS arg_UNPARSED_ARGUMENTS)
        _record(vcpkg_cmake_configure UNPARSED "${extra}")
    endforeach()
endfunction()

function(vcpkg_cmake_install)
    cmake_parse_arguments(PARSE_ARGV 0 arg "DISABLE_PARALLEL;ADD_BIN_TO_PATH" "" "")
    _record(vcpkg_cmake_install called 1)
endfunction()

function(vcpkg_cmake_config_fixup)
    cmake_parse_arguments(PARSE_ARGV 0 arg "DO_NOT_DELETE_PARENT_CONFIG_PATH;NO_PREFIX_CORRECTION"
        "PACKAGE_NAME;CONFIG_PATH;TOOLS_PATH" "")
    _record(vcpkg_cmake_config_fixup called 1)
    _record(vcpkg_cmake_config_fixup PACKAGE_NAME "${arg_PACKAGE_NAME}")
    _record(vcpkg_cmake_config_fixup CONFIG_PATH "${arg_CONFIG_PATH}")
endfunction()

function(vcpkg_fixup_pkgconfig)
    _record(vcpkg_fixup_pkgconfig called 1)
endfunction()

function(vcpkg_install_copyright)
    cmake_parse_arguments(PARSE_ARGV 0 arg "" "COMMENT" "FILE_LIST")
    _record(vcpkg_install_copyright called 1)
    foreach(f IN LISTS arg_FILE_LIST)
        _record(vcpkg_install_copyright FILE "${f}")
        if(NOT EXISTS "${f}")
            message(FATAL_ERROR "vcpkg_install_copyright: ${f} does not exist")
        endif()
        file(READ "${f}" text)
        file(APPEND "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright" "${text}")
    endforeach()
endfunction()

function(vcpkg_check_features)
    _record(vcpkg_check_features called 1)
    message(FATAL_ERROR "run_portfile.cmake: the port passes features to CMake; teach this stand-in and the "
        "packaging check which CMake options they map to")
endfunction()

foreach(fn vcpkg_from_github vcpkg_from_git vcpkg_from_gitlab vcpkg_download_distfile)
    cmake_language(EVAL CODE "
        function(${fn})
            message(FATAL_ERROR \"run_portfile.cmake: ${fn} downloads; the overlay port builds from the checkout\")
        endfunction()")
endforeach()

include("${PORT_DIR}/portfile.cmake")

file(GLOB_RECURSE installed RELATIVE "${CURRENT_PACKAGES_DIR}" "${CURRENT_PACKAGES_DIR}/*")
foreach(f IN LISTS installed)
    _record(packages FILE "${f}")
endforeach()
message(STATUS "portfile ran; calls recorded in ${RECORD}")
