# Conan 2 recipe for mailauth, exported from the checkout that holds it:
#     conan create cmake/conan                       (from the repository root)
#     conan create cmake/conan -o "mailauth/*:with_fmt=True"
import os
import re

from conan import ConanFile
from conan.errors import ConanException, ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load
from conan.tools.layout import basic_layout
from conan.tools.scm import Version

required_conan_version = ">=2.0"


class MailauthConan(ConanFile):
    name = "mailauth"
    description = "Header-only C++20 SMTP/IMAP/POP3 login with OAuth 2.0 (SASL XOAUTH2, OAUTHBEARER, PLAIN, LOGIN)"
    license = "MIT"
    topics = ("smtp", "imap", "pop3", "oauth2", "sasl", "xoauth2", "oauthbearer", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {"with_fmt": [True, False]}
    default_options = {"with_fmt": False}
    no_copy_source = True

    # Compilers mailauth is built and tested with; older ones lack parts of C++20 it uses.
    _min_compiler_versions = {"gcc": "12", "clang": "14"}

    @property
    def _source_root(self):
        return os.path.join(self.recipe_folder, "..", "..")

    def set_version(self):
        # The one version lives in the CMake project: project(mailauth VERSION x.y.z).
        text = load(self, os.path.join(self._source_root, "CMakeLists.txt"))
        match = re.search(r'project\(\s*mailauth\b(?:[^)"]|"[^"]*")*?\bVERSION\s+([0-9]+(?:\.[0-9]+)*)', text)
        if not match:
            raise ConanException("no project(mailauth VERSION ...) in CMakeLists.txt")
        self.version = match.group(1)

    def export_sources(self):
        copy(self, "LICENSE", self._source_root, self.export_sources_folder)
        for pattern in ("*.hpp", "API.md"):
            copy(self, pattern, os.path.join(self._source_root, "include"),
                 os.path.join(self.export_sources_folder, "include"))

    def layout(self):
        basic_layout(self, src_folder=".")

    def requirements(self):
        # fmt is needed only by mailauth/fmt.hpp, which the package always ships.
        if self.options.with_fmt:
            self.requires("fmt/10.2.1", transitive_headers=True)

    def package_id(self):
        self.info.clear()

    def validate(self):
        check_min_cppstd(self, 20)
        minimum = self._min_compiler_versions.get(str(self.settings.compiler))
        if minimum and Version(self.settings.compiler.version) < minimum:
            raise ConanInvalidConfiguration(
                f"{self.ref} needs {self.settings.compiler} {minimum} or newer for C++20")

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        for pattern in ("*.hpp", "API.md"):
            copy(self, pattern, os.path.join(self.source_folder, "include"),
                 os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.set_property("cmake_file_name", "mailauth")
        self.cpp_info.set_property("cmake_target_name", "mailauth::mailauth")
        self.cpp_info.set_property("pkg_config_name", "mailauth")
