# Shared by the consumer projects: one program built from ../main.cpp that must print "mailauth consumer: ok".
# No CMAKE_CXX_STANDARD here on purpose: C++20 must come from mailauth::mailauth's compile features.
set(mailauth_consumer_dir "${CMAKE_CURRENT_LIST_DIR}")

function(mailauth_consumer_program)
    add_executable(consumer "${mailauth_consumer_dir}/main.cpp")
    target_link_libraries(consumer PRIVATE mailauth::mailauth)
    if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
        target_compile_options(consumer PRIVATE -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Werror)
    endif()
    enable_testing()
    add_test(NAME consumer COMMAND consumer)
    set_tests_properties(consumer PROPERTIES PASS_REGULAR_EXPRESSION "mailauth consumer: ok")
endfunction()
