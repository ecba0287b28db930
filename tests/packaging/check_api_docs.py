#!/usr/bin/env python3
"""Checks that include/mailauth/API.md documents every public name of every public header.

  check_api_docs.py --include-dir include --doc include/mailauth/API.md [--list]
  check_api_docs.py --self-test --fixture tests/packaging/api_fixture.hpp

Public headers: every include/mailauth/**/*.hpp outside detail/. API.md has one level-2 section per public
header, its heading naming the header (## `mailauth/base64.hpp`). A name counts as documented when it appears
as code (`inline code` or a fenced block) in its header's section.

Public names, found by a small scanner over the header text (comments, literals and preprocessor lines
removed, braces and namespaces tracked):
  - in namespace mailauth and its sub-namespaces, except detail and anonymous ones: classes, structs, unions,
    enums and their enumerators, type aliases, concepts, functions (operators too) and variables;
  - public members of those classes (functions, data members, nested types), except constructors,
    destructors, assignment and most operators (operator(), operator[] and operator bool count);
  - public members of a detail:: base class that a public class derives from publicly: they belong to the
    section of the header that defines the base;
  - explicit specializations of other libraries' templates for mailauth types (fmt::formatter<mailauth::x>,
    std::is_error_code_enum<mailauth::errc>): the mailauth type must be named in the section.
A header without names of its own (an umbrella) must name every mailauth header it includes.

The errc table: when the include dir has mailauth/error.hpp, every code its detail::describe table lists must have
a row `| `name` | message | `fault` | notes |` in API.md whose message is message()'s text word for word and
whose fault is the one it blames; a row for a code that does not exist is refused too.
--list prints what was extracted, per header.
"""

import argparse
import os
import re
import sys
from dataclasses import dataclass, field

IDENT = r"[A-Za-z_]\w*"
MEMBER_OPERATORS = {"operator()", "operator[]", "operator bool"}


@dataclass
class Name:
    header: str          # "mailauth/base64.hpp"
    line: int
    kind: str            # class, enum, enumerator, alias, concept, function, variable, member function, ...
    qualified: str       # "mailauth::base64::encode", "mailauth::outcome::verdict"
    token: str           # what the documentation must show as code: "encode", "operator bool", "secret"
    note: str = ""


@dataclass
class ClassInfo:
    qualified: str
    header: str
    line: int
    public: bool
    members: list = field(default_factory=list)   # Name entries for its public members
    bases: list = field(default_factory=list)     # (access, spelled base name)


# --- text preparation ---------------------------------------------------------------------------------------

def blank_comments_and_literals(text):
    """Same length and line breaks; comments, preprocessor lines and literal contents become spaces."""
    out = []
    i, n = 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start and c in " \t":
            out.append(c)
            i += 1
            continue
        if at_line_start and c == "#":
            # preprocessor line, with continuations
            while i < n and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out.append(" \n")
                    i += 2
                    continue
                out.append(" ")
                i += 1
            continue
        at_line_start = False
        if c == "\n":
            at_line_start = True
            out.append(c)
            i += 1
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                out.append(" ")
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:end]))
            i = end
        elif c == 'R' and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            close = ")" + m.group(1) + '"'
            end = text.find(close, i + m.end())
            end = n if end < 0 else end + len(close)
            body = text[i:end]
            out.append('""' + "".join(ch if ch == "\n" else " " for ch in body[2:]))
            i = end
        elif c in "\"'":
            if c == "'" and i > 0 and text[i - 1].isdigit() and i + 1 < n and text[i + 1].isalnum():
                out.append(" ")  # digit separator 1'000
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + " " * (j - i - 2) + c if j - i >= 2 else c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def strip_template_prefix(h):
    """Removes leading `template <...>` clauses (balanced); returns (rest, had_template, was_specialization)."""
    had, spec = False, False
    while True:
        m = re.match(r"\s*template\s*<", h)
        if not m:
            return h.strip(), had, spec
        depth, i = 1, m.end()
        while i < len(h) and depth:
            if h[i] == "<":
                depth += 1
            elif h[i] == ">":
                depth -= 1
            i += 1
        had = True
        spec = spec or h[m.end():i - 1].strip() == ""
        h = h[i:]


def strip_attributes(h):
    h = re.sub(r"\[\[.*?\]\]", " ", h)
    h = re.sub(r"\balignas\s*\([^)]*\)", " ", h)
    return re.sub(r"\s+", " ", h).strip()


def scan_top_level(h):
    """Positions of the first top-level '(' and '=' (outside (), <>, [], {}), and of `operator` if any."""
    paren = angle = square = brace = 0
    first_paren = first_eq = op = None
    i = 0
    while i < len(h):
        c = h[i]
        if h.startswith("operator", i) and (i == 0 or not (h[i - 1].isalnum() or h[i - 1] == "_")) \
                and not (i + 8 < len(h) and (h[i + 8].isalnum() or h[i + 8] == "_")):
            if paren == angle == square == brace == 0 and op is None:
                op = i
            # skip the operator symbol so '<', '=', '(' in it do not count
            j = i + 8
            while j < len(h) and h[j] == " ":
                j += 1
            if h.startswith("()", j):
                j += 2
            elif h.startswith("[]", j):
                j += 2
            else:
                while j < len(h) and h[j] not in "(" and not (h[j].isalnum() or h[j] == "_" or h[j] == " "):
                    j += 1
            i = j
            continue
        if c == "(":
            if paren == angle == square == brace == 0 and first_paren is None:
                first_paren = i
            paren += 1
        elif c == ")":
            paren -= 1
        elif c == "[":
            square += 1
        elif c == "]":
            square -= 1
        elif c == "{":
            brace += 1
        elif c == "}":
            brace -= 1
        elif c == "<" and paren == 0:
            prev = h[:i].rstrip()
            if prev and (prev[-1].isalnum() or prev[-1] == "_"):
                angle += 1
        elif c == ">" and paren == 0 and angle > 0 and (i == 0 or h[i - 1] != "-"):
            angle -= 1
        elif c == "=" and paren == angle == square == brace == 0 and first_eq is None:
            nxt = h[i + 1] if i + 1 < len(h) else ""
            prev = h[i - 1] if i else ""
            if nxt != "=" and prev not in "=!<>":
                first_eq = i
        i += 1
    return first_paren, first_eq, op


def operator_name(h, op):
    j = op + 8
    rest = h[j:].lstrip()
    if rest.startswith("()"):
        return "operator()"
    if rest.startswith("[]"):
        return "operator[]"
    m = re.match(r"([^\w\s(]+)", rest)
    if m:
        return "operator" + m.group(1)
    m = re.match(r"([^(]+)\(", rest)
    return "operator " + re.sub(r"\s+", " ", m.group(1)).strip() if m else "operator"


def last_identifier(text):
    ids = re.findall(r"~?" + IDENT + r"(?:\s*::\s*~?" + IDENT + r")*", text)
    ids = [re.sub(r"\s+", "", x) for x in ids]
    keywords = {"const", "noexcept", "override", "final", "volatile", "mutable", "constexpr", "inline", "static"}
    ids = [x for x in ids if x not in keywords]
    return ids[-1] if ids else None


# --- the scanner --------------------------------------------------------------------------------------------

@dataclass
class Scope:
    kind: str                     # namespace, class, enum, skip
    path: list                    # qualified components
    public: bool                  # names here are public API
    access: str = "public"        # classes: current access
    cls: ClassInfo = None
    continue_head: bool = False   # skip scopes: the enclosing declaration goes on after the closing brace
    body_start: int = 0           # enum: where the body starts
    nested: bool = False          # class nested in a class


def is_public_namespace(path):
    return bool(path) and path[0] == "mailauth" and all(
        p and p != "detail" and not p.endswith("_impl") for p in path)


class HeaderScanner:
    def __init__(self, header, text, names, classes):
        self.header = header
        self.raw = text
        self.text = blank_comments_and_literals(text)
        self.names = names
        self.classes = classes

    def line_of(self, pos):
        return self.raw.count("\n", 0, pos) + 1

    def add(self, pos, kind, qualified, token, note=""):
        self.names.append(Name(self.header, self.line_of(pos), kind, qualified, token, note))

    def scan(self):
        t = self.text
        stack = [Scope("namespace", [], False)]
        head, head_pos, paren = "", None, 0
        i, n = 0, len(t)
        while i < n:
            c = t[i]
            top = stack[-1]
            if top.kind == "skip":
                if c == "{":
                    stack.append(Scope("skip", top.path, False))
                elif c == "}":
                    stack.pop()
                    if top.continue_head:
                        head += "{}"
                    elif stack[-1].kind != "skip":
                        head, head_pos, paren = "", None, 0
                i += 1
                continue
            if top.kind == "enum":
                if c == "}":
                    self.enumerators(top, t[top.body_start:i], top.body_start)
                    stack.pop()
                    head, head_pos, paren = "", None, 0
                i += 1
                continue
            # namespace or class scope: collect the declaration head
            if c in "([":
                paren += 1
            elif c in ")]":
                paren -= 1
            if paren > 0 or c not in "{};:":
                if head_pos is None and not c.isspace():
                    head_pos = i
                head += c
                i += 1
                continue
            if c == ":":
                if t.startswith("::", i) or (i > 0 and t[i - 1] == ":"):
                    head += c
                elif top.kind == "class" and head.strip() in ("public", "private", "protected"):
                    top.access = head.strip()
                    head, head_pos = "", None
                else:
                    head += c
                i += 1
                continue
            if c == ";":
                self.declaration(stack, head, head_pos if head_pos is not None else i)
                head, head_pos, paren = "", None, 0
            elif c == "}":
                if top.kind == "class":
                    # `};` or `} x;` follows: nothing else to record
                    pass
                stack.pop()
                head, head_pos, paren = "", None, 0
            else:  # "{"
                self.open_brace(stack, head, head_pos if head_pos is not None else i, i)
                if stack[-1].kind == "skip" and stack[-1].continue_head:
                    pass  # head goes on
                else:
                    head, head_pos, paren = "", None, 0
            i += 1
        return self.names

    # -- opening a brace in a namespace or class scope
    def open_brace(self, stack, head, pos, brace_at):
        top = stack[-1]
        raw_h = re.sub(r"\s+", " ", head).strip()
        h, had_template, is_spec = strip_template_prefix(raw_h)
        h = strip_attributes(h)
        m = re.match(r"^(?:inline )?namespace\b ?([\w:]*)$", h)
        if m:
            parts = [p for p in m.group(1).split("::")] if m.group(1) else [""]
            path = top.path + parts
            stack.append(Scope("namespace", path, is_public_namespace(path)))
            return
        m = re.match(r"^enum(?: class| struct)? (" + IDENT + r")\b", h)
        if m:
            public = top.public and (top.kind != "class" or top.access == "public")
            if public:
                self.record_type(stack, pos, "enum", m.group(1))
            stack.append(Scope("enum", top.path + [m.group(1)], public and top.kind != "class",
                               body_start=brace_at + 1))
            return
        m = re.match(r"^(?:typedef )?(class|struct|union) ((?:" + IDENT + r"::)*" + IDENT + r")\s*(<.*?>)?\s*(final\b)?\s*(:(.*))?$", h)
        if m and "(" not in h.split(":", 1)[0] and "=" not in h:
            name, targs, bases = m.group(2), m.group(3), m.group(6) or ""
            if is_spec and targs and "mailauth::" in targs:
                self.specialization(pos, name, targs)
                stack.append(Scope("skip", top.path, False))
                return
            public = top.public and (top.kind != "class" or top.access == "public") and "::" not in name
            qualified = "::".join(p for p in top.path + [name] if p)
            info = ClassInfo(qualified, self.header, self.line_of(pos), public)
            default_access = "private" if m.group(1) == "class" else "public"
            for b in split_top_level_commas(bases):
                b = b.strip()
                bm = re.match(r"^(?:virtual )?(public|private|protected)?\s*(?:virtual )?(.+)$", b)
                if bm and bm.group(2):
                    info.bases.append((bm.group(1) or default_access, bm.group(2).strip()))
            self.classes.setdefault(qualified, info)
            if public:
                self.record_type(stack, pos, m.group(1), name)
            stack.append(Scope("class", top.path + [name], public, access=default_access, cls=info,
                               nested=top.kind == "class"))
            return
        first_paren, first_eq, op = scan_top_level(h)
        starts_concept = re.match(r"^concept\b", h) is not None
        if starts_concept or (first_eq is not None and (first_paren is None or first_eq < first_paren)):
            stack.append(Scope("skip", top.path, False, continue_head=True))
            return
        if first_paren is not None or op is not None:
            # a ctor's member initializer written with braces: `: x_{...}` continues the head
            if re.search(r"\)\s*(?:noexcept\s*)?:\s*[^:]", h) and re.search(r"[\w>]\s*$", h) and \
                    not re.search(r"\b(?:const|noexcept|override|final)\s*$", h):
                stack.append(Scope("skip", top.path, False, continue_head=True))
                return
            self.declaration(stack, head, pos, function_body=True)
            stack.append(Scope("skip", top.path, False))
            return
        # `T name{...}`: a braced initializer
        stack.append(Scope("skip", top.path, False, continue_head=True))

    def record_type(self, stack, pos, kind, name):
        top = stack[-1]
        qualified = "::".join(p for p in top.path + [name] if p)
        if top.kind == "class":
            if top.cls is not None and not top.nested:
                entry = Name(self.header, self.line_of(pos), "member type", qualified, name)
                top.cls.members.append(entry)
                if top.cls.public:
                    self.names.append(entry)
        else:
            self.add(pos, "class" if kind in ("class", "struct", "union") else kind, qualified, name)

    def specialization(self, pos, template, targs):
        inner = targs[1:-1]
        arg = last_identifier(inner.split(",")[0]) or inner
        token = arg.split("::")[-1]
        self.add(pos, "specialization", f"{template}{targs}", token,
                 note=f"name {token} in the section")

    def enumerators(self, scope, body, body_pos):
        if not scope.public:
            return
        offset = 0
        for part in split_top_level_commas(body):
            m = re.match(r"\s*(" + IDENT + r")", part)
            if m:
                self.add(body_pos + offset + m.start(1), "enumerator", "::".join(scope.path + [m.group(1)]),
                         m.group(1))
            offset += len(part) + 1

    # -- a declaration that ends with ';' (or a function definition's body)
    def declaration(self, stack, head, pos, function_body=False):
        top = stack[-1]
        raw_h = re.sub(r"\s+", " ", head).strip()
        if not raw_h:
            return
        h, had_template, is_spec = strip_template_prefix(raw_h)
        h = strip_attributes(h)
        if not h or re.match(r"^(static_assert|using namespace|friend (class|struct)|typedef|extern)\b", h):
            return
        in_class = top.kind == "class"
        if in_class:
            if top.access != "public" or top.cls is None:
                return
        elif not top.public:
            return
        friend = h.startswith("friend ")
        m = re.match(r"^using (" + IDENT + r") ?=", h)
        if m:
            return self.record(stack, pos, "alias", m.group(1))
        if h.startswith("using "):
            return  # using-declaration
        m = re.match(r"^concept (" + IDENT + r")", h)
        if m:
            return self.record(stack, pos, "concept", m.group(1))
        if re.match(r"^(?:class|struct|union|enum(?: class| struct)?) [\w:]+(?: ?: ?[\w:]+)?$", h):
            return  # forward declaration
        first_paren, first_eq, op = scan_top_level(h)
        if op is not None and (first_paren is None or op < first_paren or h.startswith("operator")):
            name = operator_name(h, op)
            if in_class and (friend or name not in MEMBER_OPERATORS):
                return
            if h[:op].rstrip().endswith("::"):
                return  # out-of-class definition of a member operator
            return self.record(stack, pos, "function", name)
        if first_paren is not None and (first_eq is None or first_paren < first_eq):
            name = last_identifier(h[:first_paren])
            if name is None or friend:
                return
            if "::" in name:
                return  # out-of-class definition of a member declared in its class
            if in_class and (name == top.path[-1] or name.startswith("~")):
                return  # constructor or destructor
            return self.record(stack, pos, "function", name)
        # a variable or data member
        decl = h[:first_eq] if first_eq is not None else h
        decl = re.sub(r"\{\}$", "", decl.strip())
        decl = re.sub(r"\[[^\]]*\]\s*$", "", decl)
        decl = re.sub(r":\s*\d+\s*$", "", decl)  # bit-field
        name = last_identifier(decl)
        if name is None or "::" in name or friend:
            return
        if not in_class and not re.search(r"\b(constexpr|const|inline|extern)\b", decl):
            return  # a mutable namespace-scope variable would be unusual; not reported as API
        self.record(stack, pos, "variable", name)

    def record(self, stack, pos, kind, name):
        top = stack[-1]
        qualified = "::".join(p for p in top.path + [name] if p)
        if top.kind == "class":
            if top.nested:
                return
            entry = Name(self.header, self.line_of(pos), "member " + kind, qualified, name)
            top.cls.members.append(entry)
            if top.cls.public:
                self.names.append(entry)
        else:
            self.add(pos, kind, qualified, name)


def split_top_level_commas(text):
    parts, depth, cur = [], 0, ""
    for c in text:
        if c in "(<[{":
            depth += 1
        elif c in ")>]}":
            depth -= 1
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
    if cur.strip():
        parts.append(cur)
    return parts


def extract(include_dir, headers):
    """Public names per header (dict header -> [Name]), plus the mailauth includes of each header."""
    names, classes, includes = [], {}, {}
    for rel in headers:
        text = open(os.path.join(include_dir, rel), encoding="utf-8").read()
        HeaderScanner(rel, text, names, classes).scan()
        includes[rel] = re.findall(r'^\s*#\s*include\s*[<"](mailauth/[^>"]+)[>"]', text, re.M)
    # Members a public class inherits from a detail:: base are documented with the base's header.
    by_short = {}
    for q, info in classes.items():
        by_short.setdefault(q.split("::")[-1], []).append(info)
    heirs = {}  # detail base -> public classes that derive from it publicly
    for info in classes.values():
        if not info.public:
            continue
        for access, base in info.bases:
            if access != "public" or "detail::" not in base:
                continue
            short = re.sub(r"<.*$", "", base).split("::")[-1]
            for b in by_short.get(short, []):
                if not b.public:
                    heirs.setdefault(b.qualified, []).append(info.qualified)
    for base, derived in sorted(heirs.items()):
        b = classes[base]
        for mem in b.members:
            names.append(Name(b.header, mem.line, mem.kind.replace("member", "inherited member"),
                              mem.qualified, mem.token, note="public in " + ", ".join(sorted(derived))))
    per_header = {h: [] for h in headers}
    for nm in names:
        per_header.setdefault(nm.header, []).append(nm)
    return per_header, includes


def public_headers(include_dir):
    out = []
    root = os.path.join(include_dir, "mailauth")
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "detail")
        for f in sorted(filenames):
            if f.endswith(".hpp"):
                out.append(os.path.relpath(os.path.join(dirpath, f), include_dir).replace(os.sep, "/"))
    return sorted(out)


# --- the documentation --------------------------------------------------------------------------------------

def doc_sections(doc_text):
    """header -> (code text of its section, heading line)."""
    sections, current, lines = {}, None, []
    heading_line = 0

    def close():
        if current is not None:
            sections[current] = (code_of("\n".join(lines)), heading_line)

    for lineno, line in enumerate(doc_text.splitlines(), 1):
        m = re.match(r"^##\s+(?!#).*?(mailauth/[\w/]+\.hpp)", line)
        if m or re.match(r"^##?\s+(?!#)", line):
            close()
            current, lines, heading_line = (m.group(1) if m else None), [], lineno
            continue
        lines.append(line)
    close()
    return sections


def code_of(markdown):
    """Everything written as code: fenced blocks and `inline spans`."""
    parts = []
    fence = None
    for line in markdown.splitlines():
        m = re.match(r"^\s*(```+|~~~+)", line)
        if m:
            fence = None if fence and m.group(1).startswith(fence) else (fence or m.group(1))
            continue
        if fence:
            parts.append(line)
        else:
            parts.extend(span for _, span in re.findall(r"(`+)(.+?)\1", line))
    return "\n".join(parts)


def mentioned(token, code):
    if token.startswith("operator"):
        return re.sub(r"\s+", "", token) in re.sub(r"\s+", "", code)
    return re.search(r"(?<![\w~])" + re.escape(token) + r"(?!\w)", code) is not None


ERRC_DESCRIBE = re.compile(r'case errc::(\w+):\s*return\s*\{\s*"(\w+)",\s*"((?:[^"\\]|\\.)*)",\s*fault::(\w+)\s*\}')
ERRC_ROW = re.compile(r"^\| `(\w+)` \| (.*?) \| `(\w+)` \|.*\|$")


def check_errc_table(include_dir, doc_text, doc_path):
    """(problems, codes checked) of API.md's errc table against error.hpp's describe(); ([], 0) without error.hpp."""
    path = os.path.join(include_dir, "mailauth", "error.hpp")
    if not os.path.exists(path):
        return [], 0
    codes = {m[0]: (m[2], m[3]) for m in ERRC_DESCRIBE.findall(open(path, encoding="utf-8").read())}
    if not codes:
        return [f"{path}: no `case errc::x: return {{\"x\", \"message\", fault::side}};` entries in describe()"], 0
    problems, rows = [], {}
    for number, line in enumerate(doc_text.splitlines(), 1):
        m = ERRC_ROW.match(line)
        if m and m[3] in ("none", "client", "server", "transport"):
            rows[m[1]] = (number, m[2], m[3])
    for name, (message, side) in codes.items():
        if name not in rows:
            problems.append(f"{doc_path}: errc table has no row for `{name}` ({message!r}, {side})")
            continue
        number, doc_message, doc_side = rows[name]
        if doc_message != message:
            problems.append(f"{doc_path}:{number}: `{name}`: the message column says {doc_message!r}, "
                            f"message() says {message!r}")
        if doc_side != side:
            problems.append(f"{doc_path}:{number}: `{name}`: the fault column says {doc_side}, the code blames {side}")
    for name, (number, _, _) in rows.items():
        if name not in codes:
            problems.append(f"{doc_path}:{number}: errc table row for `{name}`, which error.hpp does not describe")
    return problems, len(codes)


def check(include_dir, doc_path, list_only=False, out=sys.stdout):
    headers = public_headers(include_dir)
    per_header, includes = extract(include_dir, headers)
    if list_only:
        for h in headers:
            print(f"{h}:", file=out)
            for nm in per_header.get(h, []):
                print(f"  {nm.line:4} {nm.kind:24} {nm.qualified}  [{nm.token}]{'  ' + nm.note if nm.note else ''}",
                      file=out)
        return 0
    try:
        doc_text = open(doc_path, encoding="utf-8").read()
    except OSError as e:
        print(f"{doc_path}: cannot read: {e}", file=out)
        return 1
    sections = doc_sections(doc_text)
    problems = []
    total = documented = 0
    for h in headers:
        if h not in sections:
            problems.append(f"{doc_path}: no section for <{h}> (add a heading: ## `{h}`)")
            continue
        code, _ = sections[h]
        own = per_header.get(h, [])
        if not own:
            for inc in includes.get(h, []):
                total += 1
                if inc in code:
                    documented += 1
                else:
                    problems.append(f"include/{h}: umbrella: its section does not name <{inc}>")
        for nm in own:
            total += 1
            if mentioned(nm.token, code):
                documented += 1
            else:
                note = f" ({nm.note})" if nm.note else ""
                problems.append(f"include/{h}:{nm.line}: {nm.kind} {nm.qualified} is not documented in the "
                                f"section for <{h}>: write `{nm.token}` there{note}")
    for s, (_, line) in sections.items():
        if s not in headers:
            problems.append(f"{doc_path}:{line}: section for <{s}>, which is not a public header")
    errc_problems, errc_codes = check_errc_table(include_dir, doc_text, doc_path)
    problems += errc_problems
    if problems:
        print(f"API reference: {len(problems)} problem(s); {documented} of {total} public names documented "
              f"across {len(headers)} public headers:", file=out)
        for p in problems:
            print("  " + p, file=out)
        return 1
    print(f"API reference: all {total} public names of {len(headers)} public headers are documented in {doc_path}"
          + (f"; its errc table matches message() and fault for all {errc_codes} codes" if errc_codes else ""),
          file=out)
    return 0


# --- self-test: the scanner against a fixture whose `// expect:` lines list exactly what it must find -------

def self_test(fixture):
    import io
    import tempfile
    text = open(fixture, encoding="utf-8").read()
    expected = set()
    kinds = sorted({f"{p}{k}" for p in ("", "member ", "inherited member ") for k in ("function", "variable", "type",
                                                                                       "alias", "concept")} |
                   {"class", "enum", "enumerator", "specialization"}, key=len, reverse=True)
    for line in text.splitlines():
        m = re.match(r"^// expect: (.+) \[(.+)\]$", line)
        if m:
            kind = next((k for k in kinds if m.group(1).startswith(k + " ")), None)
            if kind is None:
                print(f"{fixture}: unknown kind in: {line}")
                return 1
            expected.add((kind, m.group(1)[len(kind) + 1:], m.group(2)))
    if not expected:
        print(f"{fixture}: no `// expect: <kind> <qualified> [token]` lines")
        return 1
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        inc = os.path.join(tmp, "include")
        os.makedirs(os.path.join(inc, "mailauth", "detail"))
        with open(os.path.join(inc, "mailauth", "fixture.hpp"), "w", encoding="utf-8") as f:
            f.write(text)
        with open(os.path.join(inc, "mailauth", "detail", "hidden.hpp"), "w", encoding="utf-8") as f:
            f.write("namespace mailauth::detail { inline int hidden() { return 0; } }\n")
        per_header, _ = extract(inc, public_headers(inc))
        got = {(n.kind, n.qualified, n.token) for n in per_header["mailauth/fixture.hpp"]}
        for miss in sorted(expected - got):
            print(f"self-test: FAILED: not found: {miss}")
            ok = False
        for extra in sorted(got - expected):
            print(f"self-test: FAILED: found but not expected: {extra}")
            ok = False
        if ok:
            print(f"self-test: ok: the scanner finds exactly the {len(expected)} expected names in {fixture}")

        # A reference naming everything passes; dropping one name makes it fail and name what is missing.
        tokens = sorted({t for _, _, t in expected})
        doc = os.path.join(tmp, "API.md")

        def write_doc(skip):
            with open(doc, "w", encoding="utf-8") as f:
                f.write("# API\n\n## `mailauth/fixture.hpp`\n\n")
                for t in tokens:
                    if t != skip:
                        f.write(f"- `{t}`: documented.\n")

        write_doc(None)
        buf = io.StringIO()
        if check(inc, doc, out=buf) != 0:
            print("self-test: FAILED: a complete reference is refused:\n" + buf.getvalue())
            ok = False
        dropped = "only_in_fixture_function"
        if dropped not in tokens:
            print(f"self-test: FAILED: the fixture must declare {dropped}()")
            return 1
        write_doc(dropped)
        buf = io.StringIO()
        if check(inc, doc, out=buf) == 0 or dropped not in buf.getvalue():
            print(f"self-test: FAILED: a reference without `{dropped}` passes:\n" + buf.getvalue())
            ok = False
        else:
            print(f"self-test: ok: a reference without `{dropped}` fails and says so")

        # The errc table: a matching table passes; a reworded message, a wrong fault, a missing row and a row
        # for a code that does not exist are each refused.
        err_inc = os.path.join(tmp, "errc")
        os.makedirs(os.path.join(err_inc, "mailauth"))
        with open(os.path.join(err_inc, "mailauth", "error.hpp"), "w", encoding="utf-8") as f:
            f.write('switch (e) {\n'
                    'case errc::alpha:\n    return {"alpha", "alpha: went wrong (twice)", fault::server};\n'
                    'case errc::beta:\n    return {"beta",\n            "beta failed", fault::client};\n'
                    '}\nreturn {"unknown", "unknown mailauth error", fault::none};\n')
        good = ["| `alpha` | alpha: went wrong (twice) | `server` | RFC 1 |", "| `beta` | beta failed | `client` | |"]
        cases = [("a matching table", good, None),
                 ("a reworded message", [good[0].replace("(twice)", "(thrice)"), good[1]], "message() says"),
                 ("a wrong fault", [good[0], good[1].replace("`client`", "`server`")], "the code blames client"),
                 ("a missing row", [good[0]], "no row for `beta`"),
                 ("a row for no code", good + ["| `gamma` | gamma | `server` | |"], "`gamma`, which error.hpp")]
        for what, rows, expect in cases:
            problems, _ = check_errc_table(err_inc, "\n".join(["| `errc` | `message()` | fault | notes |"] + rows),
                                           "API.md")
            if (expect is None and problems) or (expect is not None and not any(expect in p for p in problems)):
                print(f"self-test: FAILED: errc table, {what}: {problems}")
                ok = False
        if ok:
            print(f"self-test: ok: the errc table check passes a matching table and refuses {len(cases) - 1} faults")
    return 0 if ok else 1


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--include-dir")
    p.add_argument("--doc")
    p.add_argument("--list", action="store_true", help="print the extracted public names and exit")
    p.add_argument("--self-test", action="store_true")
    p.add_argument("--fixture")
    a = p.parse_args(argv)
    if a.self_test:
        if not a.fixture:
            p.error("--self-test needs --fixture")
        return self_test(a.fixture)
    if not a.include_dir or (not a.doc and not a.list):
        p.error("--include-dir and --doc (or --list) are required")
    return check(a.include_dir, a.doc, list_only=a.list)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
