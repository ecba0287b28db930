# The single-header amalgamation, generated at build time by cmake/amalgamate.py (never committed).
include_guard(GLOBAL)

set(_mailauth_amalgamate_script "${CMAKE_CURRENT_LIST_DIR}/amalgamate.py")

# mailauth_add_single_header(<target> OUTPUT_DIR <dir> PYTHON <python3> [ALL] [EXTRA_ROOTS <header>...])
# Adds the custom target <target> that writes into <dir>:
#   mailauth.hpp        <mailauth/mailauth.hpp> (the umbrella decides what is in) plus EXTRA_ROOTS, inlined once each
#   mailauth_oauth.hpp  <mailauth/oauth.hpp> on top of mailauth.hpp (the token layer the umbrella leaves out)
#   mailauth_fmt.hpp    <mailauth/fmt.hpp> on top of mailauth.hpp (opt-in: needs fmt)
# A program that uses them needs only -I<dir>; the companions include "mailauth.hpp" themselves.
function(mailauth_add_single_header target)
    cmake_parse_arguments(PARSE_ARGV 1 arg "ALL" "OUTPUT_DIR;PYTHON" "EXTRA_ROOTS")
    if(NOT arg_OUTPUT_DIR OR NOT arg_PYTHON)
        message(FATAL_ERROR "mailauth_add_single_header: OUTPUT_DIR and PYTHON are required")
    endif()
    set(include_root "${mailauth_SOURCE_DIR}/include")
    set(script "${_mailauth_amalgamate_script}")
    set(single "${arg_OUTPUT_DIR}/mailauth.hpp")
    file(GLOB_RECURSE headers CONFIGURE_DEPENDS "${include_root}/mailauth/*.hpp")

    add_custom_command(OUTPUT "${single}"
        COMMAND "${arg_PYTHON}" "${script}" header
            --include-dir "${include_root}" --output "${single}" --version "${mailauth_VERSION}"
            mailauth/mailauth.hpp ${arg_EXTRA_ROOTS}
        DEPENDS ${headers} "${script}"
        COMMENT "Amalgamating mailauth into ${single}"
        VERBATIM)
    set(outputs "${single}")
    foreach(companion oauth fmt)
        if(EXISTS "${include_root}/mailauth/${companion}.hpp")
            set(out "${arg_OUTPUT_DIR}/mailauth_${companion}.hpp")
            add_custom_command(OUTPUT "${out}"
                COMMAND "${arg_PYTHON}" "${script}" companion
                    --include-dir "${include_root}" --base "${single}" --output "${out}" "mailauth/${companion}.hpp"
                DEPENDS "${single}" ${headers} "${script}"
                COMMENT "Amalgamating ${out}"
                VERBATIM)
            list(APPEND outputs "${out}")
        endif()
    endforeach()
    if(arg_ALL)
        add_custom_target(${target} ALL DEPENDS ${outputs})
    else()
        add_custom_target(${target} DEPENDS ${outputs})
    endif()
    set_target_properties(${target} PROPERTIES MAILAUTH_SINGLE_HEADER "${single}")
endfunction()
