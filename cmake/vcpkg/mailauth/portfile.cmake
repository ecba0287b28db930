# vcpkg overlay port for mailauth, built from the checkout that holds it:
#     vcpkg install mailauth --overlay-ports=<mailauth>/cmake/vcpkg
#     vcpkg install "mailauth[fmt]" --overlay-ports=<mailauth>/cmake/vcpkg
# For a registry, replace SOURCE_PATH with vcpkg_from_github(OUT_SOURCE_PATH SOURCE_PATH REPO <owner>/mailauth
# REF "v${VERSION}" SHA512 <hash> HEAD_REF main); the rest stays as it is.

# Header-only: nothing differs between debug and release.
set(VCPKG_BUILD_TYPE release)

get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

# The "fmt" feature only brings in fmt: mailauth/fmt.hpp is always installed and needs fmt when included.
vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        -DMAILAUTH_BUILD_TESTS=OFF
        -DMAILAUTH_BUILD_EXAMPLES=OFF
        -DMAILAUTH_BUILD_BENCHMARKS=OFF
        -DMAILAUTH_INSTALL=ON
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(PACKAGE_NAME mailauth CONFIG_PATH share/cmake/mailauth)
vcpkg_fixup_pkgconfig()

# The project installs its LICENSE under share/doc; vcpkg keeps it as the copyright file instead.
file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/share/doc")

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
