"""The isolation layers of the Python-LF sandbox, each a small function the runner calls in order
(:mod:`weak_supervision.sandbox_runner`). Each returns whether it is enforced here, so a run can
report what protected it. Linux only; elsewhere the layers report ``False``.

- :func:`isolate_network`: a new, empty network namespace (``unshare(CLONE_NEWNET)`` as root,
  ``CLONE_NEWUSER | CLONE_NEWNET`` otherwise): no interface but a down loopback, so no
  connection to anything. Must run while the process has a single thread.
- :func:`drop_privileges`: as root, become ``nobody`` (no groups): the LF cannot read files only
  the server's user may read (the data directory is 0700) nor signal the server's processes.
- :func:`restrict_filesystem`: Landlock (kernel >= 5.13, unprivileged): from then on the kernel
  allows reading only the interpreter's and libraries' directories and writing only the scratch
  directory, and no ``execve`` at all, whatever code path (C extensions included) asks.
- :func:`set_limits`: ``setrlimit`` for CPU seconds, address space, file size, no new processes.
- :func:`install_audit_hook`: a PEP 578 hook refusing process creation, sockets, ctypes and file
  access outside the allowed roots with a clear ``PermissionError``; alone it is not a sandbox
  (C code does not raise audit events), it names what was refused when the layers above stop it.
"""

from __future__ import annotations

import os
import resource
import sys
from collections.abc import Sequence

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
PR_SET_NO_NEW_PRIVS = 38
NOBODY_UID = 65534

# Landlock (include/uapi/linux/landlock.h), x86_64 and aarch64 use the same syscall numbers.
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_FS = {
    "execute": 1 << 0,
    "write_file": 1 << 1,
    "read_file": 1 << 2,
    "read_dir": 1 << 3,
    "remove_dir": 1 << 4,
    "remove_file": 1 << 5,
    "make_char": 1 << 6,
    "make_dir": 1 << 7,
    "make_reg": 1 << 8,
    "make_sock": 1 << 9,
    "make_fifo": 1 << 10,
    "make_block": 1 << 11,
    "make_sym": 1 << 12,
    "refer": 1 << 13,
    "truncate": 1 << 14,
    "ioctl_dev": 1 << 15,
}
_READ = _FS["read_file"] | _FS["read_dir"]
_WRITE = (
    _FS["write_file"] | _FS["remove_dir"] | _FS["remove_file"] | _FS["make_dir"] | _FS["make_reg"]
)


def _libc():
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def isolate_network() -> bool:
    """Move this process into a new network namespace with no usable interface."""
    if not sys.platform.startswith("linux"):
        return False
    libc = _libc()
    flags = CLONE_NEWNET if os.geteuid() == 0 else CLONE_NEWUSER | CLONE_NEWNET
    return libc.unshare(flags) == 0


def drop_privileges(uid: int = NOBODY_UID) -> bool:
    """As root: no supplementary groups, then the group and user ``uid`` (``nobody``). Returns
    whether the process now runs unprivileged as ``uid``; False when it was not root."""
    if os.geteuid() != 0:
        return False
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    return os.geteuid() == uid and os.getegid() == uid


def no_new_privs() -> bool:
    """``prctl(PR_SET_NO_NEW_PRIVS)``: an ``execve`` can never gain privileges (setuid files)."""
    if not sys.platform.startswith("linux"):
        return False
    return _libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0


def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0: unavailable)."""
    if not sys.platform.startswith("linux"):
        return 0
    version = _libc().syscall(_SYS_CREATE_RULESET, None, 0, 1)  # ..._CREATE_RULESET_VERSION
    return max(0, int(version))


def restrict_filesystem(read_roots: Sequence[str], write_roots: Sequence[str]) -> bool:
    """Landlock this thread and its future threads and children: read under ``read_roots``,
    read and write under ``write_roots``, nothing else; no ``execve``, symlink, device or socket
    file creation anywhere; with ABI >= 4 no TCP bind/connect, with ABI >= 6 no signals to
    processes outside the sandbox. Needs ``no_new_privs()`` first. False: not enforced."""
    import ctypes

    abi = landlock_abi()
    if abi < 1:
        return False
    handled = (1 << 13) - 1  # ABI 1 rights
    if abi >= 2:
        handled |= _FS["refer"]
    if abi >= 3:
        handled |= _FS["truncate"]
    if abi >= 5:
        handled |= _FS["ioctl_dev"]

    class RulesetAttr(ctypes.Structure):
        _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]

    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

    attr = RulesetAttr(handled, 3 if abi >= 4 else 0, 3 if abi >= 6 else 0)
    size = 8 if abi < 4 else (16 if abi < 6 else 24)
    libc = _libc()
    ruleset = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), size, 0)
    if ruleset < 0:
        return False
    try:
        write = _WRITE | (_FS["truncate"] if abi >= 3 else 0)
        rules = [(p, _READ) for p in read_roots] + [(p, _READ | write) for p in write_roots]
        for path, access in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # a root that does not exist here
            try:
                if not os.path.isdir(path):
                    access &= _FS["read_file"] | _FS["write_file"] | _FS["truncate"]
                rule = PathBeneath(access & handled, fd)
                if libc.syscall(_SYS_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0) != 0:
                    return False
            finally:
                os.close(fd)
        return libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0) == 0
    finally:
        os.close(ruleset)


def vm_bytes() -> int:
    """This process's current address-space size (what ``RLIMIT_AS`` counts)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def set_limits(cpu_seconds: int, extra_memory_bytes: int, file_bytes: int) -> dict[str, bool]:
    """CPU seconds (SIGXCPU, then SIGKILL one second later), address space = what is mapped now
    plus ``extra_memory_bytes`` (a larger allocation raises MemoryError), largest file written,
    no new processes or threads (``RLIMIT_NPROC`` 0; not enforced for root), no core files."""
    done = {}
    for name, soft, hard in (
        ("cpu", cpu_seconds, cpu_seconds + 1),
        ("memory", vm_bytes() + extra_memory_bytes, vm_bytes() + extra_memory_bytes),
        ("file_size", file_bytes, file_bytes),
        ("processes", 0, 0),
        ("core", 0, 0),
    ):
        rlimit = {
            "cpu": resource.RLIMIT_CPU,
            "memory": resource.RLIMIT_AS,
            "file_size": resource.RLIMIT_FSIZE,
            "processes": resource.RLIMIT_NPROC,
            "core": resource.RLIMIT_CORE,
        }[name]
        try:
            old_soft, old_hard = resource.getrlimit(rlimit)
            if old_hard != resource.RLIM_INFINITY:
                soft, hard = min(soft, old_hard), min(hard, old_hard)
            resource.setrlimit(rlimit, (soft, hard))
            done[name] = True
        except (ValueError, OSError):
            done[name] = False
    done["processes"] = done["processes"] and os.geteuid() != 0
    return done


_BLOCKED_PREFIXES = (
    "subprocess.",
    "os.exec",
    "os.spawn",
    "os.posix_spawn",
    "os.fork",
    "os.forkpty",
    "pty.",
    "socket.",
    "ctypes.",
    "os.kill",
    "os.killpg",
    "signal.pthread_kill",
    "sqlite3.",
    "os.chdir",
    "os.symlink",
    "os.link",
    "os.chown",
    "os.chmod",
    "os.setxattr",
    "os.removexattr",
    "gc.get_objects",
    "gc.get_referrers",
    "gc.get_referents",
    "sys.addaudithook",
    "os.system",
    "os.startfile",
    "winreg.",
    "_posixsubprocess",
    "mmap.",
    "webbrowser.",
    "urllib.",
    "http.client.",
    "ftplib.",
    "smtplib.",
    "imaplib.",
    "poplib.",
    "nntplib.",
    "telnetlib.",
)
_PATH_EVENTS = {  # event -> (index of the path argument, whether it writes)
    "open": (0, None),
    "os.listdir": (0, False),
    "os.scandir": (0, False),
    "os.remove": (0, True),
    "os.rmdir": (0, True),
    "os.mkdir": (0, True),
    "os.rename": (0, True),
    "os.truncate": (0, True),
    "os.utime": (0, True),
    "shutil.copyfile": (1, True),
    "shutil.copytree": (1, True),
    "shutil.move": (1, True),
    "shutil.rmtree": (0, True),
    "shutil.make_archive": (0, True),
    "os.listxattr": (0, False),
    "glob.glob": (None, False),
    "tempfile.mkstemp": (None, True),
    "tempfile.mkdtemp": (None, True),
}


def install_audit_hook(read_roots: Sequence[str], write_root: str) -> bool:
    """A PEP 578 audit hook: refuse process creation, signals, sockets, ctypes, sqlite, links,
    ``chdir`` and heap walking (``gc.get_objects``); allow opens only for reading under
    ``read_roots`` (and ``/dev/null``) and for writing under ``write_root``. Everything the hook
    uses is bound when it is installed, so later monkey-patching cannot change its decisions."""
    _type, _str, _bytes, _int, _isinstance = type, str, bytes, int, isinstance
    _fsdecode, _startswith, _split = os.fsdecode, str.startswith, str.split
    _join, _len, _tuple = "/".join, len, tuple
    wr_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    cwd = write_root
    reads = _tuple(r.rstrip("/") + "/" for r in read_roots) + (write_root.rstrip("/") + "/",)
    writes = (write_root.rstrip("/") + "/",)
    exact = frozenset(
        ("/dev/null", "/dev/urandom", write_root.rstrip("/"))
        + _tuple(r.rstrip("/") for r in read_roots)
    )
    blocked = _BLOCKED_PREFIXES
    path_events = dict(_PATH_EVENTS)

    def normal(path: object) -> str | None:
        """The absolute, lexically normalised path; None for a type the hook refuses."""
        if _type(path) is _bytes:
            path = _fsdecode(path)
        if _type(path) is not _str:
            return None
        if not _startswith(path, "/"):
            path = cwd + "/" + path
        parts: list[str] = []
        for part in _split(path, "/"):
            if part in ("", "."):
                continue
            if part == "..":
                if parts:
                    parts.pop()
                continue
            parts.append(part)
        return "/" + _join(parts)

    def allowed(path: object, write: bool) -> bool:
        if _type(path) is _int:  # an already opened descriptor: that open was checked
            return True
        if path is None:
            path = cwd
        full = normal(path)
        if full is None:
            return False
        if full in exact:
            return not write or full in ("/dev/null", write_root.rstrip("/"))
        return _startswith(full + "/", writes if write else reads)

    def hook(event: str, args: tuple) -> None:
        if _startswith(event, blocked):
            raise PermissionError(f"sandbox: {event} is not allowed in a labeling function")
        rule = path_events.get(event)
        if rule is None:
            return
        index, write = rule
        if index is None:
            if event == "glob.glob":
                return hook("os.scandir", (args[0],))
            raise PermissionError(f"sandbox: {event} is not allowed in a labeling function")
        path = args[index] if _len(args) > index else None
        if event == "open":
            mode, flags = (args[1] if _len(args) > 1 else None), (args[2] if _len(args) > 2 else 0)
            write = bool(_isinstance(flags, _int) and flags & wr_flags) or (
                _type(mode) is _str and ("w" in mode or "a" in mode or "x" in mode or "+" in mode)
            )
        if not allowed(path, write):
            what = "writing" if write else "reading"
            raise PermissionError(
                f"sandbox: {what} {path!r} is not allowed; a labeling function gets its item "
                f"data as its argument and may write only under its scratch directory"
            )

    sys.addaudithook(hook)
    return True
