#!/usr/bin/env python3
"""Checks, offline, that every way mailauth is packaged agrees with the CMake project.

One version (project(mailauth VERSION x.y.z)) must reach the config version file, the pkg-config file,
the vcpkg port and the Conan recipe; names, the CMake target, the license, the description and the
optional fmt dependency (vcpkg feature "fmt" = Conan option "with_fmt") must agree too. The vcpkg
portfile is executed with stand-ins for vcpkg's functions (run_portfile.cmake); the Conan recipes are
compiled and loaded with a stand-in `conan` module, and their methods are called.

  check_packaging.py --source-dir DIR --project-version V --cmake CMAKE [--cmake-config-dir share/cmake/mailauth]
                     [--config-version-file F] [--pc-file F] [--work-dir DIR]
  check_packaging.py --self-test ...same arguments...   (every planted disagreement must be reported)
"""

import argparse
import ast
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # loading the recipes must leave no __pycache__ in the source tree


# --- reading the CMake project -----------------------------------------------------------------------------

def cmake_project(source_dir):
    """name, version, description, options and export namespace of the root CMakeLists.txt."""
    path = os.path.join(source_dir, "CMakeLists.txt")
    text = open(path, encoding="utf-8").read()
    m = re.search(r'\bproject\(\s*([A-Za-z0-9_]+)\b((?:[^)"]|"[^"]*")*)\)', text)
    if not m:
        return None
    name, args = m.group(1), m.group(2)
    version = re.search(r"\bVERSION\s+([0-9]+(?:\.[0-9]+)*)", args)
    description = re.search(r'\bDESCRIPTION\s+"([^"]*)"', args)
    namespaces = set(re.findall(r"\bNAMESPACE\s+([A-Za-z0-9_]+)::", text))
    return {
        "path": path,
        "name": name,
        "version": version.group(1) if version else None,
        "description": description.group(1) if description else None,
        "options": set(re.findall(r"\boption\(\s*([A-Za-z0-9_]+)", text)),
        "namespaces": namespaces,
        "interface_library": re.search(rf"\badd_library\(\s*{re.escape(name)}\s+INTERFACE\b", text) is not None,
    }


def license_spdx(source_dir):
    try:
        first = open(os.path.join(source_dir, "LICENSE"), encoding="utf-8").readline().strip()
    except OSError:
        return None
    known = {"MIT License": "MIT", "Apache License": "Apache-2.0", "Boost Software License - Version 1.0": "BSL-1.0"}
    for prefix, spdx in known.items():
        if first.startswith(prefix):
            return spdx
    return None


def config_version(cmake, path, wanted, work_dir):
    """PACKAGE_VERSION and whether find_package(<wanted> EXACT) would accept the version file."""
    parts = (wanted.split(".") + ["0", "0", "0"])[:4]
    script = os.path.join(work_dir, "read_config_version.cmake")
    with open(script, "w", encoding="utf-8") as f:
        f.write(f'set(PACKAGE_FIND_NAME mailauth)\nset(PACKAGE_FIND_VERSION "{wanted}")\n')
        for i, suffix in enumerate(["MAJOR", "MINOR", "PATCH", "TWEAK"]):
            f.write(f'set(PACKAGE_FIND_VERSION_{suffix} "{parts[i]}")\n')
        f.write(f'set(PACKAGE_FIND_VERSION_COUNT {len(wanted.split("."))})\n')
        f.write(f'include("{path}")\n')
        f.write('message("PACKAGE_VERSION=${PACKAGE_VERSION}")\n')
        f.write('message("PACKAGE_VERSION_EXACT=${PACKAGE_VERSION_EXACT}")\n')
        f.write('message("PACKAGE_VERSION_COMPATIBLE=${PACKAGE_VERSION_COMPATIBLE}")\n')
    r = subprocess.run([cmake, "-P", script], capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()
    values = dict(line.split("=", 1) for line in r.stderr.splitlines() if "=" in line)
    return values, None


def pc_fields(path):
    fields = {}
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^([A-Za-z.]+):\s*(.*?)\s*$", line)
        if m:
            fields[m.group(1)] = m.group(2)
    return fields


# --- a stand-in for the conan package, enough to load a recipe and call its methods ------------------------

class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, name, *args, **kwargs):
        self.calls.append((name, args, kwargs))

    def named(self, name):
        return [c for c in self.calls if c[0] == name]


class ConanException(Exception):
    pass


class ConanInvalidConfiguration(ConanException):
    pass


class StubVersion:
    def __init__(self, text):
        self.text = str(text)
        self.key = tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\-+]", self.text))

    def _other(self, other):
        return other if isinstance(other, StubVersion) else StubVersion(other)

    def __lt__(self, other):
        return self.key < self._other(other).key

    def __ge__(self, other):
        return not self < other

    def __eq__(self, other):
        return self.key == self._other(other).key

    def __str__(self):
        return self.text


class StubSetting(str):
    """A settings value: str(compiler) == "gcc", compiler.version == "12"."""

    def __new__(cls, value, **sub):
        s = super().__new__(cls, value)
        for k, v in sub.items():
            setattr(s, k, v)
        return s


class StubOptions(types.SimpleNamespace):
    pass


class StubCppInfo:
    def __init__(self):
        self.properties = {}
        self.bindirs = ["bin"]
        self.libdirs = ["lib"]
        self.includedirs = ["include"]
        self.requires = []

    def set_property(self, key, value):
        self.properties[key] = value


class StubInfo:
    def __init__(self, recorder):
        self._recorder = recorder

    def clear(self):
        self._recorder("info.clear")


class StubDependency:
    def __init__(self, options):
        self.options = options


def install_conan_stub(recorder):
    """Registers modules conan, conan.errors, conan.tools.* in sys.modules; returns the ConanFile base."""

    class ConanFile:
        def __init__(self, recipe_folder, options=None, compiler=("gcc", "12"), cppstd="20"):
            cls = type(self)
            self.recipe_folder = recipe_folder
            defaults = dict(getattr(cls, "default_options", {}) or {})
            defaults.update(options or {})
            self.options = StubOptions(**defaults)
            self.settings = types.SimpleNamespace(
                os="Linux", arch="x86_64", build_type="Release",
                compiler=StubSetting(compiler[0], version=compiler[1], cppstd=cppstd))
            self.cpp_info = StubCppInfo()
            self.info = StubInfo(recorder)
            self.export_sources_folder = "<export_sources>"
            self.source_folder = "<source>"
            self.package_folder = "<package>"
            self.build_folder = "<build>"
            self.version = getattr(cls, "version", None)
            self.ref = f"{getattr(cls, 'name', '?')}/{self.version}"
            self.tested_reference_str = "mailauth/0"
            self.dependencies = {"mailauth": StubDependency(self.options)}
            self.cpp = types.SimpleNamespace(build=types.SimpleNamespace(bindir="<bindir>"))

        def requires(self, ref, **kwargs):
            recorder("requires", ref, **kwargs)

        def tool_requires(self, ref, **kwargs):
            recorder("tool_requires", ref, **kwargs)

        def run(self, *args, **kwargs):
            recorder("run", *args, **kwargs)

    def module(name, **attrs):
        m = types.ModuleType(name)
        for k, v in attrs.items():
            setattr(m, k, v)
        sys.modules[name] = m
        return m

    def check_min_cppstd(conanfile, cppstd, gnu_extensions=False):
        recorder("check_min_cppstd", str(cppstd))
        current = getattr(conanfile.settings.compiler, "cppstd", None)
        if current is not None and int(str(current).replace("gnu", "")) < int(str(cppstd)):
            raise ConanInvalidConfiguration(f"needs C++{cppstd}")

    def copy(conanfile, pattern, src, dst, **kwargs):
        recorder("copy", pattern, os.path.normpath(src), dst, **kwargs)

    def load(conanfile, path, **kwargs):
        recorder("load", os.path.normpath(path))
        with open(path, encoding="utf-8") as f:
            return f.read()

    class Toolchain:
        def __init__(self, conanfile, *args, **kwargs):
            self.variables = {}
            self.cache_variables = {}
            self.preprocessor_definitions = {}

        def generate(self):
            recorder("CMakeToolchain.generate", dict(self.cache_variables), dict(self.variables))

    class CMake:
        def __init__(self, conanfile):
            pass

        def configure(self, *args, **kwargs):
            recorder("CMake.configure")

        def build(self, *args, **kwargs):
            recorder("CMake.build")

    conan = module("conan", ConanFile=ConanFile, conan_version=StubVersion("2.0.0"))
    module("conan.errors", ConanException=ConanException, ConanInvalidConfiguration=ConanInvalidConfiguration)
    tools = module("conan.tools")
    module("conan.tools.build", check_min_cppstd=check_min_cppstd, valid_min_cppstd=lambda *a, **k: True,
           can_run=lambda conanfile: True)
    module("conan.tools.files", copy=copy, load=load, get=lambda *a, **k: recorder("get", *a),
           rmdir=lambda *a, **k: recorder("rmdir", *a), save=lambda *a, **k: recorder("save", *a))
    module("conan.tools.layout", basic_layout=lambda conanfile, **k: recorder("basic_layout", **k))
    module("conan.tools.cmake", CMake=CMake, CMakeToolchain=Toolchain,
           CMakeDeps=type("CMakeDeps", (), {"__init__": lambda s, c: None, "generate": lambda s: None}),
           cmake_layout=lambda conanfile, **k: recorder("cmake_layout", **k))
    module("conan.tools.scm", Version=StubVersion)
    conan.tools = tools
    return ConanFile


def load_recipe(path, recorder):
    """The ConanFile subclass defined in `path`, loaded against the stand-in conan package."""
    base = install_conan_stub(recorder)
    spec = importlib.util.spec_from_file_location("conanfile_" + str(abs(hash(path))), path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    classes = [v for v in vars(mod).values() if isinstance(v, type) and issubclass(v, base) and v is not base]
    if len(classes) != 1:
        raise ConanException(f"{path}: expected one ConanFile subclass, found {len(classes)}")
    return mod, classes[0]


# --- the checks ---------------------------------------------------------------------------------------------

class Checker:
    def __init__(self, args):
        self.args = args
        self.failures = []
        self.passed = 0

    def check(self, ok, where, what):
        if ok:
            self.passed += 1
        else:
            self.failures.append(f"{where}: {what}")
        return ok

    def run(self):
        a = self.args
        src = a.source_dir
        vcpkg_dir = os.path.join(src, "cmake", "vcpkg", "mailauth")
        conan_dir = os.path.join(src, "cmake", "conan")

        # The CMake project is the reference.
        proj = cmake_project(src)
        if not self.check(proj is not None, "CMakeLists.txt", "no project() call"):
            return
        cm = proj["path"]
        version = a.project_version
        self.check(proj["version"] == version, cm,
                   f"project({proj['name']} VERSION {proj['version']}) but CMake configured version {version}")
        self.check(proj["interface_library"], cm, f"no add_library({proj['name']} INTERFACE)")
        self.check(proj["name"] in proj["namespaces"], cm,
                   f"the export NAMESPACE is not {proj['name']}:: (found {sorted(proj['namespaces'])})")
        name = proj["name"]
        target = f"{name}::{name}"
        spdx = license_spdx(src)
        self.check(spdx is not None, os.path.join(src, "LICENSE"), "missing or of an unknown kind")

        # CMake package version file and pkg-config file, as generated in the build tree.
        if a.config_version_file:
            values, err = config_version(a.cmake, a.config_version_file, version, a.work_dir)
            if self.check(values is not None, a.config_version_file, f"cannot be evaluated: {err}"):
                self.check(values.get("PACKAGE_VERSION") == version, a.config_version_file,
                           f"PACKAGE_VERSION is {values.get('PACKAGE_VERSION')!r}, expected {version!r}")
                self.check(values.get("PACKAGE_VERSION_EXACT", "").upper() in ("TRUE", "ON", "1"),
                           a.config_version_file, f"find_package({name} {version} EXACT) would not accept it")
        if a.pc_file:
            pc = pc_fields(a.pc_file)
            self.check(pc.get("Name") == name, a.pc_file, f"Name is {pc.get('Name')!r}, expected {name!r}")
            self.check(pc.get("Version") == version, a.pc_file,
                       f"Version is {pc.get('Version')!r}, expected {version!r}")
            self.check("-I" in pc.get("Cflags", ""), a.pc_file, "Cflags names no include directory")

        features = self.check_vcpkg(vcpkg_dir, proj, version, spdx)
        self.check_conan(conan_dir, proj, version, spdx, target, features)

    def check_vcpkg(self, port_dir, proj, version, spdx):
        manifest_path = os.path.join(port_dir, "vcpkg.json")
        try:
            manifest = json.load(open(manifest_path, encoding="utf-8"))
        except (OSError, ValueError) as e:
            self.check(False, manifest_path, f"not valid JSON: {e}")
            return {}
        name = proj["name"]
        self.check(manifest.get("name") == name, manifest_path, f"name is {manifest.get('name')!r}, expected {name!r}")
        versions = {k: manifest[k] for k in ("version", "version-semver", "version-string", "version-date")
                    if k in manifest}
        self.check(list(versions.values()) == [version], manifest_path,
                   f"version fields {versions}, expected exactly one equal to {version!r}")
        self.check(manifest.get("license") == spdx, manifest_path,
                   f"license is {manifest.get('license')!r}, LICENSE says {spdx!r}")
        self.check(manifest.get("description") == proj["description"], manifest_path,
                   "description differs from project(DESCRIPTION)")
        deps = {}
        for d in manifest.get("dependencies", []):
            d = {"name": d} if isinstance(d, str) else d
            deps[d.get("name")] = d
        for helper in ("vcpkg-cmake", "vcpkg-cmake-config"):
            self.check(deps.get(helper, {}).get("host") is True, manifest_path,
                       f"needs the host dependency {helper!r}")
        runtime = sorted(n for n, d in deps.items() if not d.get("host"))
        self.check(runtime == [], manifest_path, f"the core needs only the standard library, but depends on {runtime}")
        features = {}
        for fname, f in manifest.get("features", {}).items():
            fdeps = sorted((d if isinstance(d, str) else d.get("name")) for d in f.get("dependencies", []))
            features[fname] = fdeps
            self.check(bool(f.get("description")), manifest_path, f"feature {fname!r} has no description")

        # The portfile, executed with vcpkg's functions stood in for.
        record_path = os.path.join(self.args.work_dir, "portfile_record.txt")
        r = subprocess.run([self.args.cmake, f"-DPORT_DIR={port_dir}",
                            f"-DWORK_DIR={os.path.join(self.args.work_dir, 'vcpkg')}",
                            f"-DRECORD={record_path}", "-P", os.path.join(HERE, "run_portfile.cmake")],
                           capture_output=True, text=True)
        portfile = os.path.join(port_dir, "portfile.cmake")
        if not self.check(r.returncode == 0, portfile, f"does not run:\n{r.stdout}{r.stderr}"):
            return features
        record = {}
        for line in open(record_path, encoding="utf-8").read().splitlines():
            fn, key, value = line.split("\t", 2)
            record.setdefault((fn, key), []).append(value)

        def got(fn, key):
            return record.get((fn, key), [])

        self.check(got("vcpkg_cmake_configure", "build_type") == ["release"], portfile,
                   "set(VCPKG_BUILD_TYPE release) must come before vcpkg_cmake_configure (header-only)")
        for fn in ("vcpkg_cmake_configure", "vcpkg_cmake_install", "vcpkg_cmake_config_fixup",
                   "vcpkg_fixup_pkgconfig", "vcpkg_install_copyright"):
            self.check(got(fn, "called") == ["1"], portfile, f"must call {fn}() exactly once")
        source = (got("vcpkg_cmake_configure", "SOURCE_PATH") or [""])[0]
        sproj = cmake_project(source) if os.path.isfile(os.path.join(source, "CMakeLists.txt")) else None
        if self.check(sproj is not None, portfile, f"SOURCE_PATH {source!r} holds no CMake project"):
            self.check((sproj["name"], sproj["version"]) == (proj["name"], proj["version"]), portfile,
                       f"SOURCE_PATH is {sproj['name']} {sproj['version']}, not this project")
        passed = {}
        for opt in got("vcpkg_cmake_configure", "OPTION") + got("vcpkg_cmake_configure", "OPTION_DEBUG"):
            m = re.match(r"^-D([A-Za-z0-9_]+)(?::[A-Z]+)?=(.*)$", opt)
            if not self.check(m is not None, portfile, f"option {opt!r} is not -DNAME=VALUE"):
                continue
            passed[m.group(1)] = m.group(2)
            if m.group(1).startswith(name.upper() + "_"):
                self.check(m.group(1) in proj["options"], portfile,
                           f"passes {m.group(1)}, which is not an option() of {proj['path']}")
        for opt in (f"{name.upper()}_BUILD_TESTS", f"{name.upper()}_BUILD_EXAMPLES", f"{name.upper()}_BUILD_BENCHMARKS"):
            if opt in proj["options"]:
                self.check(passed.get(opt, "").upper() in ("OFF", "FALSE", "0", "NO"), portfile,
                           f"must pass -D{opt}=OFF (a vcpkg build is top level)")
        self.check(got("vcpkg_cmake_config_fixup", "CONFIG_PATH") == [self.args.cmake_config_dir], portfile,
                   f"vcpkg_cmake_config_fixup(CONFIG_PATH {got('vcpkg_cmake_config_fixup', 'CONFIG_PATH')}) "
                   f"but the project installs its config in {self.args.cmake_config_dir}")
        self.check(got("vcpkg_cmake_config_fixup", "PACKAGE_NAME") in ([""], [name]), portfile,
                   f"vcpkg_cmake_config_fixup(PACKAGE_NAME) is not {name}")
        copyright_files = got("vcpkg_install_copyright", "FILE")
        self.check(any(os.path.normpath(f) == os.path.normpath(os.path.join(proj_dir(proj), "LICENSE"))
                       for f in copyright_files), portfile, f"the copyright is not the project's LICENSE: {copyright_files}")
        installed = set(got("packages", "FILE"))
        self.check(f"share/{name}/usage" in installed, portfile, f"usage is not installed in share/{name}")

        usage_path = os.path.join(port_dir, "usage")
        try:
            usage = open(usage_path, encoding="utf-8").read()
        except OSError:
            usage = ""
        self.check(f"find_package({name} CONFIG REQUIRED)" in usage, usage_path,
                   f"does not show find_package({name} CONFIG REQUIRED)")
        self.check(f"{name}::{name}" in usage, usage_path, f"does not name the target {name}::{name}")
        for fname, fdeps in features.items():
            for d in fdeps:
                self.check(f"find_package({d}" in usage, usage_path, f"feature {fname!r}: does not show find_package({d} ...)")
        return features

    def check_conan(self, conan_dir, proj, version, spdx, target, features):
        recipe_path = os.path.join(conan_dir, "conanfile.py")
        test_path = os.path.join(conan_dir, "test_package", "conanfile.py")
        for path in (recipe_path, test_path):
            try:
                ast.parse(open(path, encoding="utf-8").read(), path)
            except (OSError, SyntaxError) as e:
                self.check(False, path, f"does not parse: {e}")
                return
        rec = Recorder()
        try:
            _, cls = load_recipe(recipe_path, rec)
        except Exception as e:  # the recipe's own import-time code failed
            self.check(False, recipe_path, f"cannot be loaded: {type(e).__name__}: {e}")
            return
        name = proj["name"]
        self.check(getattr(cls, "name", None) == name, recipe_path, f"name is {getattr(cls, 'name', None)!r}")
        self.check(getattr(cls, "package_type", None) == "header-library", recipe_path,
                   f"package_type is {getattr(cls, 'package_type', None)!r}, expected 'header-library'")
        self.check(getattr(cls, "no_copy_source", False) is True, recipe_path, "no_copy_source is not True")
        self.check(getattr(cls, "license", None) == spdx, recipe_path,
                   f"license is {getattr(cls, 'license', None)!r}, LICENSE says {spdx!r}")
        self.check(getattr(cls, "description", None) == proj["description"], recipe_path,
                   "description differs from project(DESCRIPTION)")

        def instance(**kw):
            return cls(conan_dir, **kw)

        try:
            r = instance()
            if hasattr(r, "set_version"):
                r.set_version()
            self.check(r.version == version, recipe_path, f"version is {r.version!r}, expected {version!r}")

            # Options mirror the vcpkg features: feature "x" <-> option "with_x" (default off).
            options = dict(getattr(cls, "options", {}) or {})
            defaults = dict(getattr(cls, "default_options", {}) or {})
            want = {f"with_{f}" for f in features}
            self.check(set(options) == want, recipe_path,
                       f"options {sorted(options)} do not match the vcpkg features {sorted(features)} (as with_<feature>)")
            for opt in options:
                self.check(list(options[opt]) == [True, False] and defaults.get(opt) is False, recipe_path,
                           f"option {opt} must be [True, False] and default to False")
            rec.calls.clear()
            instance().requirements()
            self.check(rec.named("requires") == [], recipe_path,
                       f"requires {[c[1][0] for c in rec.named('requires')]} with every option off; the core needs none")
            for fname, fdeps in features.items():
                rec.calls.clear()
                instance(options={f"with_{fname}": True}).requirements()
                refs = sorted(c[1][0].split("/")[0] for c in rec.named("requires"))
                self.check(refs == fdeps, recipe_path,
                           f"with_{fname}=True requires {refs}; the vcpkg feature {fname!r} brings {fdeps}")
                self.check(all(c[2].get("transitive_headers") for c in rec.named("requires")), recipe_path,
                           f"with_{fname}: a header-only dependency needs transitive_headers=True")

            rec.calls.clear()
            instance().validate()
            self.check([c[1][0] for c in rec.named("check_min_cppstd")] == ["20"], recipe_path,
                       "validate() must call check_min_cppstd(self, 20)")
            try:
                instance(cppstd="17").validate()
                self.check(False, recipe_path, "validate() accepts compiler.cppstd=17")
            except ConanInvalidConfiguration:
                self.passed += 1

            rec.calls.clear()
            instance().package_id()
            self.check(rec.named("info.clear") != [], recipe_path, "package_id() must call self.info.clear() (header-only)")

            r = instance()
            r.package_info()
            props = r.cpp_info.properties
            self.check(props.get("cmake_file_name") == name, recipe_path,
                       f"cmake_file_name is {props.get('cmake_file_name')!r}, expected {name!r}")
            self.check(props.get("cmake_target_name") == target, recipe_path,
                       f"cmake_target_name is {props.get('cmake_target_name')!r}, expected {target!r}")
            self.check(props.get("pkg_config_name") == name, recipe_path,
                       f"pkg_config_name is {props.get('pkg_config_name')!r}, expected {name!r}")
            self.check(r.cpp_info.bindirs == [] and r.cpp_info.libdirs == [], recipe_path,
                       "a header-library has empty bindirs and libdirs")

            rec.calls.clear()
            instance().export_sources()
            root = proj_dir(proj)
            exported = {(c[1][0], c[1][1]) for c in rec.named("copy")}
            self.check(("*.hpp", os.path.join(root, "include")) in exported, recipe_path,
                       f"export_sources() does not copy *.hpp from {os.path.join(root, 'include')}: {sorted(exported)}")
            self.check(("LICENSE", root) in exported, recipe_path, "export_sources() does not copy LICENSE")
            rec.calls.clear()
            instance().package()
            packaged = {c[1][0] for c in rec.named("copy")}
            self.check({"*.hpp", "LICENSE"} <= packaged, recipe_path, f"package() copies {sorted(packaged)}")
        except Exception as e:
            self.check(False, recipe_path, f"a recipe method failed: {type(e).__name__}: {e}")

        # test_package: loads, and its CMake project consumes the same package and target.
        rec = Recorder()
        try:
            _, tcls = load_recipe(test_path, rec)
            t = tcls(os.path.dirname(test_path))
            t.requirements()
            self.check([c[1][0] for c in rec.named("requires")] == [t.tested_reference_str], test_path,
                       "must require self.tested_reference_str")
            if hasattr(t, "generate"):
                for fname in features:
                    rec.calls.clear()
                    t2 = tcls(os.path.dirname(test_path), options={f"with_{fname}": True})
                    t2.dependencies = {name: StubDependency(StubOptions(**{f"with_{fname}": True}))}
                    t2.generate()
                    gen = rec.named("CMakeToolchain.generate")
                    self.check(bool(gen) and gen[0][1][0].get(f"MAILAUTH_TEST_{fname.upper()}") is True, test_path,
                               f"with_{fname}=True does not set MAILAUTH_TEST_{fname.upper()}")
        except Exception as e:
            self.check(False, test_path, f"cannot be loaded or run: {type(e).__name__}: {e}")
        cml_path = os.path.join(conan_dir, "test_package", "CMakeLists.txt")
        try:
            cml = open(cml_path, encoding="utf-8").read()
        except OSError:
            cml = ""
        self.check(f"find_package({name} CONFIG REQUIRED)" in cml, cml_path, f"no find_package({name} CONFIG REQUIRED)")
        self.check(re.search(rf"target_link_libraries\([^)]*{re.escape(target)}", cml) is not None, cml_path,
                   f"does not link {target}")


def proj_dir(proj):
    return os.path.dirname(proj["path"])


def run_checks(args):
    c = Checker(args)
    c.run()
    return c


# --- self-test: every planted disagreement must be reported -------------------------------------------------

MUTATIONS = [
    # (file relative to the copy, old, new, the file the report must name)
    ("cmake/vcpkg/mailauth/vcpkg.json", '"version": "{v}"', '"version": "9.9.9"', "vcpkg.json"),
    ("CMakeLists.txt", "VERSION {v}", "VERSION 9.9.9", "CMakeLists.txt"),
    ("build/mailauth.pc", "Version: {v}", "Version: 9.9.9", "mailauth.pc"),
    ("build/mailauthConfigVersion.cmake", 'set(PACKAGE_VERSION "{v}")', 'set(PACKAGE_VERSION "9.9.9")',
     "mailauthConfigVersion.cmake"),
    ("cmake/vcpkg/mailauth/vcpkg.json", '"fmt": {{', '"fmtlib": {{', "conanfile.py"),
    ("cmake/conan/conanfile.py", '"with_fmt": [True, False]', '"with_fmtlib": [True, False]', "conanfile.py"),
    ("cmake/conan/conanfile.py", '"fmt/', '"spdlog/', "conanfile.py"),
    ("cmake/conan/conanfile.py", '"mailauth::mailauth"', '"mailauth::core"', "conanfile.py"),
    ("cmake/conan/conanfile.py", 'package_type = "header-library"', 'package_type = "library"', "conanfile.py"),
    ("cmake/conan/conanfile.py", "check_min_cppstd(self, 20)", "check_min_cppstd(self, 17)", "conanfile.py"),
    ("cmake/conan/conanfile.py", 'license = "MIT"', 'license = "BSL-1.0"', "conanfile.py"),
    ("cmake/vcpkg/mailauth/portfile.cmake", "CONFIG_PATH share/cmake/mailauth", "CONFIG_PATH lib/cmake/mailauth",
     "portfile.cmake"),
    ("cmake/vcpkg/mailauth/portfile.cmake", "-DMAILAUTH_BUILD_TESTS=OFF", "-DMAILAUTH_BUILD_TEST=OFF",
     "portfile.cmake"),
    ("cmake/vcpkg/mailauth/portfile.cmake", "set(VCPKG_BUILD_TYPE release)", "", "portfile.cmake"),
    ("cmake/vcpkg/mailauth/usage", "mailauth::mailauth", "mailauth", "usage"),
]


def self_test(args):
    src = args.source_dir
    version = args.project_version
    ok = True
    with tempfile.TemporaryDirectory(prefix="mailauth_packaging_selftest_") as tmp:
        def fresh_copy():
            root = os.path.join(tmp, "tree")
            shutil.rmtree(root, ignore_errors=True)
            os.makedirs(os.path.join(root, "build"))
            for f in ("CMakeLists.txt", "LICENSE"):
                shutil.copy(os.path.join(src, f), root)
            shutil.copytree(os.path.join(src, "cmake", "vcpkg"), os.path.join(root, "cmake", "vcpkg"))
            shutil.copytree(os.path.join(src, "cmake", "conan"), os.path.join(root, "cmake", "conan"))
            os.makedirs(os.path.join(root, "include", "mailauth"))
            shutil.copy(args.pc_file, os.path.join(root, "build", "mailauth.pc"))
            shutil.copy(args.config_version_file, os.path.join(root, "build", "mailauthConfigVersion.cmake"))
            return root

        def check(root):
            ns = argparse.Namespace(**vars(args))
            ns.source_dir = root
            ns.pc_file = os.path.join(root, "build", "mailauth.pc")
            ns.config_version_file = os.path.join(root, "build", "mailauthConfigVersion.cmake")
            ns.work_dir = os.path.join(tmp, "work")
            os.makedirs(ns.work_dir, exist_ok=True)
            return run_checks(ns)

        baseline = check(fresh_copy())
        if baseline.failures:
            print("self-test: the unmodified copy already fails:\n  " + "\n  ".join(baseline.failures))
            return False
        print(f"self-test: unmodified copy passes ({baseline.passed} checks)")
        for rel, old, new, blamed in MUTATIONS:
            old, new = old.format(v=version), new.format(v=version)
            root = fresh_copy()
            path = os.path.join(root, rel)
            text = open(path, encoding="utf-8").read()
            if old not in text:
                print(f"self-test: FAILED: {rel} no longer contains {old!r}; update MUTATIONS")
                ok = False
                continue
            with open(path, "w", encoding="utf-8") as f:
                f.write(text.replace(old, new))
            result = check(root)
            named = [m for m in result.failures if blamed in m.split(":", 1)[0]]
            if named:
                print(f"self-test: ok: {rel}: {old!r} -> {new!r} reported: {named[0].splitlines()[0]}")
            else:
                ok = False
                print(f"self-test: FAILED: {rel}: {old!r} -> {new!r} not reported against {blamed}; "
                      f"reports: {result.failures}")
    return ok


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source-dir", required=True)
    p.add_argument("--project-version", required=True)
    p.add_argument("--cmake", required=True)
    p.add_argument("--cmake-config-dir", default="share/cmake/mailauth",
                   help="where the project installs mailauthConfig.cmake, relative to the prefix")
    p.add_argument("--config-version-file")
    p.add_argument("--pc-file")
    p.add_argument("--work-dir")
    p.add_argument("--self-test", action="store_true")
    args = p.parse_args(argv)
    args.source_dir = os.path.abspath(args.source_dir)

    if args.self_test:
        if not (args.pc_file and args.config_version_file):
            print("--self-test needs --pc-file and --config-version-file")
            return 2
        return 0 if self_test(args) else 1

    own_work_dir = args.work_dir is None
    if own_work_dir:
        args.work_dir = tempfile.mkdtemp(prefix="mailauth_packaging_")
    os.makedirs(args.work_dir, exist_ok=True)
    try:
        c = run_checks(args)
    finally:
        if own_work_dir:
            shutil.rmtree(args.work_dir, ignore_errors=True)
    if c.failures:
        print(f"packaging: {len(c.failures)} disagreement(s) with the CMake project "
              f"(version {args.project_version}):")
        for f in c.failures:
            print("  " + f)
        return 1
    print(f"packaging: {c.passed} checks passed: CMake project, config version file, pkg-config file, "
          f"vcpkg port and Conan recipe agree on mailauth {args.project_version}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
