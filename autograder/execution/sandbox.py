"""Confinement of the student's process: bubblewrap, resource limits, privilege drop.

Two layers, both Linux:

* the warm worker runs inside bubblewrap (``bwrap``): the whole filesystem
  read-only, a private ``/tmp`` with one writable scratch mount, no network,
  its own PID namespace, killed with its parent (`bwrap_argv`);
* every forked child (one per submission) sets its limits (`apply_limits`),
  drops to an unprivileged user id of its own (`drop_privileges`) so that the
  process limit and file permissions hold even when the grader runs as root,
  and sets ``no_new_privs``.

Without bwrap the second layer still applies, plus a private network
namespace when the grader is root; `resolve_sandbox` warns about what is lost.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import resource
import secrets
import shutil
import signal
import stat
import sys
import sysconfig
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# User ids for submissions start here; each worker gets its own so that one
# submission can neither signal another worker's child nor use up its
# process quota (RLIMIT_NPROC counts per user id).
UID_BASE = 1 << 20
TMP = Path("/tmp")
SCRATCH = "/tmp/scratch"
# The system's shared-library folders: bound when real, recreated when links (merged /usr).
SYSTEM_LIBRARIES = ("/lib", "/lib64", "/lib32", "/libx32", "/usr/lib", "/usr/lib64", "/usr/lib32",
                    "/usr/libx32")
# Capabilities the worker keeps inside bwrap: switch user, prepare and wipe the
# scratch directory, kill the child's processes. The child drops them all.
WORKER_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER",
               "CAP_KILL")
_PR_SET_PDEATHSIG = 1
_PR_SET_KEEPCAPS = 8
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_DUMPABLE = 4
_CLONE_NEWNET = 0x40000000
_CAP_DAC_READ_SEARCH = 2
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission.

    Attributes
    ----------
    cell_seconds : float
        Wall clock per notebook cell.
    call_seconds : float
        Wall clock per graded call (a `Call.timeout` overrides it).
    submission_seconds : float
        Wall clock for the whole submission.
    cpu_seconds : int
        CPU time of the submission's process (``RLIMIT_CPU``).
    memory_bytes : int
        Address space on top of what the warm worker already maps (``RLIMIT_AS``).
    max_processes : int
        Processes and threads the submission may add (``RLIMIT_NPROC``).
    file_bytes : int
        Largest file the submission may write (``RLIMIT_FSIZE``).
    open_files : int
        Descriptors the submission may hold (``RLIMIT_NOFILE``).
    output_bytes : int
        Captured stdout/stderr kept.
    result_bytes : int
        Cap on the encoded results read back.
    scratch_bytes : int
        Size of the scratch folder's tmpfs under bubblewrap: writing more fails (ENOSPC).
    """

    cell_seconds: float = 10.0
    call_seconds: float = 10.0
    submission_seconds: float = 120.0
    cpu_seconds: int = 120
    memory_bytes: int = 2 * 2**30
    max_processes: int = 32
    file_bytes: int = 16 * 2**20
    open_files: int = 256
    output_bytes: int = 256 * 2**10
    result_bytes: int = 64 * 2**20
    scratch_bytes: int = 256 * 2**20

    def __post_init__(self):
        for name, value in vars(self).items():
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Limits: {name} expects a positive number, got {value!r}")


def _bwrap_probe(extra: Sequence[str]) -> bool:
    exe = shutil.which("bwrap")
    if exe is None:
        return False
    import subprocess

    argv = [exe, *extra, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
            "--unshare-net", "--unshare-ipc", "--unshare-pid", "--", "true"]
    try:
        return subprocess.run(argv, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@functools.cache
def bwrap_kind() -> str | None:
    """How bubblewrap can create a sandbox here, probed once per process.

    Returns
    -------
    {"bwrap", "bwrap-userns"} or None
        ``"bwrap"`` when it creates its namespaces directly (root with
        ``CAP_SYS_ADMIN``); ``"bwrap-userns"`` when only inside a new user
        namespace (an unprivileged container, Docker's default capabilities),
        where every process of the sandbox has one user id; None when
        bubblewrap is missing or cannot run.
    """
    if not sys.platform.startswith("linux"):
        return None
    if _bwrap_probe([]):
        return "bwrap"
    if _bwrap_probe(["--unshare-user"]):
        return "bwrap-userns"
    return None


def bwrap_available() -> bool:
    """Whether bubblewrap is installed and can create a sandbox here, in either way."""
    return bwrap_kind() is not None


def resolve_sandbox(mode: str) -> str:
    """Turn a requested sandbox mode into the one that will be used.

    Parameters
    ----------
    mode : {"auto", "bwrap", "none"}

    Returns
    -------
    {"bwrap", "bwrap-userns", "none"}
        ``"auto"`` and ``"bwrap"`` give bubblewrap as `bwrap_kind` finds it;
        ``"auto"`` without it warns and gives ``"none"`` (resource limits and
        privilege drop only).

    Raises
    ------
    ValueError
        Unknown mode, or ``"bwrap"`` requested where bubblewrap does not work.
    """
    if mode not in ("auto", "bwrap", "none"):
        raise ValueError(f"resolve_sandbox: mode expects 'auto', 'bwrap' or 'none', got {mode!r}")
    if mode == "none":
        return "none"
    kind = bwrap_kind()
    if kind is not None:
        return kind
    if mode == "bwrap":
        raise ValueError(
            "resolve_sandbox: mode 'bwrap' requested but bubblewrap is not installed or cannot "
            "create a sandbox here; install it (apt-get install bubblewrap) or use sandbox='none'"
        )
    warnings.warn(
        "bubblewrap (bwrap) is not available: submissions run with resource limits"
        + (" and an unprivileged user id" if os.geteuid() == 0 else "")
        + " but can read the filesystem, write to world-writable directories"
        + ("" if os.geteuid() == 0 else " and the grader's files, and use the network"),
        RuntimeWarning, stacklevel=2,
    )
    return "none"


def _hidden_ancestor(path: Path) -> Path | None:
    """The topmost ancestor of `path` that other users cannot traverse, if any."""
    for parent in reversed(path.parents):
        try:
            if not parent.stat().st_mode & stat.S_IXOTH:
                return parent
        except OSError:
            return None
    return None


def required_paths() -> list[Path]:
    """Directories the child must read without bubblewrap: the interpreter, its libraries."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable))}
    roots.update(p for p in sys.path if p and os.path.isdir(p))
    paths = {Path(os.path.realpath(p)) for p in roots}
    return sorted(p for p in paths if not any(a in paths for a in p.parents))


def needs_read_search() -> bool:
    """Whether some required path sits under a directory others cannot enter (e.g. /root)."""
    return any(_hidden_ancestor(p) for p in required_paths())


def interpreter() -> Path:
    """The Python binary itself (a virtualenv's ``python`` is a link to it)."""
    return Path(os.path.realpath(sys.executable))


def _base_path(name: str) -> Path:
    base = {"base": sys.base_prefix, "installed_base": sys.base_prefix,
            "platbase": sys.base_exec_prefix, "installed_platbase": sys.base_exec_prefix}
    return Path(sysconfig.get_path(name, vars=base))


def interpreter_mounts() -> tuple[list[tuple[Path, Path]], list[Path]]:
    """What the sandbox binds of the interpreter, and what it hides inside that.

    Returns
    -------
    binds : list of (source, destination)
        The binary, the standard library (with ``lib-dynload``), ``libpython``
        when the interpreter is built shared, and the system's library folders.
    masks : list of Path
        Folders inside those that an empty read-only tmpfs covers: the base
        interpreter's ``site-packages`` and the system's ``python3*`` folders,
        so that no installed package other than the staged ones is importable.
    """
    binds = [(interpreter(), interpreter())]
    stdlib = {_base_path("stdlib"), _base_path("platstdlib")}
    stdlib.update(Path(p) for p in sys.path if p.endswith(".zip") and os.path.isfile(p))
    for p in sorted(stdlib):
        if p.exists():
            binds.append((Path(os.path.realpath(p)), p))
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        lib = Path(sysconfig.get_config_var("LIBDIR") or "") / (
            sysconfig.get_config_var("INSTSONAME") or "")
        if lib.is_file():
            binds.append((Path(os.path.realpath(lib)), lib))
    masks = [p for p in {_base_path("purelib"), _base_path("platlib")} if p.is_dir()]
    for top in SYSTEM_LIBRARIES:
        path = Path(top)
        if path.is_dir() and not path.is_symlink():
            binds.append((path, path))
            for sub in path.glob("python*"):
                if not any(s == sub or sub in s.parents for s in stdlib):
                    masks.append(sub)
                else:
                    masks += [sub / d for d in ("site-packages", "dist-packages")
                              if (sub / d).is_dir()]
    return binds, sorted(set(masks))


def bwrap_argv(command: list[str], binds: Sequence[tuple[Path, Path]] = (),
               scratch_bytes: int = 256 * 2**20, userns: bool = False) -> list[str]:
    """The bubblewrap command line that runs `command` as a warm worker.

    The sandbox's root is empty: it shows only the interpreter and its
    standard library (`interpreter_mounts`), the system's shared libraries,
    `binds` (the staged worker code and NumPy, `autograder.execution.staging`), a
    minimal ``/dev``, its own ``/proc``, and a private read-only ``/tmp`` with
    one writable scratch tmpfs of `scratch_bytes` at `SCRATCH`. Every
    destination is read-only. There is no network, and private PID, IPC and
    UTS namespaces.

    Parameters
    ----------
    command : list of str
        The worker's command line.
    binds : sequence of (source, destination)
        Further read-only binds.
    scratch_bytes : int
        Size of the scratch tmpfs.
    userns : bool
        Create a user namespace (`bwrap_kind` ``"bwrap-userns"``): the worker
        keeps no capability, and no further user namespace may be made inside.
    """
    own, masks = interpreter_mounts()
    mounts: list[tuple[str, Path, Path | str]] = [("bind", s, d) for s, d in (*own, *binds)]
    mounts += [("mask", Path(), m) for m in masks]
    for top in (*SYSTEM_LIBRARIES, "/bin", "/sbin"):
        if os.path.islink(top) and os.path.realpath(top).startswith(("/usr/lib", "/lib")):
            mounts.append(("symlink", Path(os.readlink(top)), Path(top)))
    if os.path.isfile("/etc/ld.so.cache"):
        mounts.append(("bind", Path("/etc/ld.so.cache"), Path("/etc/ld.so.cache")))
    argv = [shutil.which("bwrap") or "bwrap", "--dev", "/dev", "--proc", "/proc",
            "--perms", "1777", "--tmpfs", "/tmp",
            "--size", str(int(scratch_bytes)), "--perms", "1777", "--tmpfs", SCRATCH]
    made = {Path("/"), Path("/dev"), Path("/proc"), TMP, Path(SCRATCH)}
    bound: list[Path] = []
    # Parents before children: a mask goes over a bound folder, a bind into a made one.
    for kind, src, dest in sorted(mounts, key=lambda m: (len(Path(m[2]).parts), str(m[2]))):
        dest = Path(dest)
        for d in reversed(dest.parents):
            if d not in made and not any(b == d or b in d.parents for b in bound):
                argv += ["--perms", "0755", "--dir", str(d)]
                made.add(d)
        if kind == "bind":
            argv += ["--ro-bind", str(src), str(dest)]
            bound.append(dest)
        elif kind == "mask":
            argv += ["--perms", "0555", "--tmpfs", str(dest), "--remount-ro", str(dest)]
        else:
            argv += ["--symlink", str(src), str(dest)]
        made.add(dest)
    argv += ["--remount-ro", "/tmp",
             "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
             "--die-with-parent", "--new-session", "--chdir", SCRATCH,
             "--cap-drop", "ALL"]
    if userns:
        argv[1:1] = ["--unshare-user", "--disable-userns"]
    elif os.geteuid() == 0:
        for cap in WORKER_CAPS:
            argv += ["--cap-add", cap]
    return argv + ["--", *command]


# --------------------------------------------------------------------------- in the child

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def _prctl(option: int, arg: int) -> None:
    if _libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}): {os.strerror(err)}")


def set_subreaper() -> None:
    """Make orphaned descendants reparent to this process, so none can escape the sweep."""
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def set_undumpable() -> None:
    """Forbid ptrace and /proc/<pid>/mem access to this process by its unprivileged children."""
    _prctl(_PR_SET_DUMPABLE, 0)


def die_with_parent() -> None:
    """Receive SIGKILL when the parent (the warm worker) dies."""
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def unshare_network() -> None:
    """Move this process into an empty network namespace (needs root)."""
    if _libc.unshare(_CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare(CLONE_NEWNET): {os.strerror(err)}")


def _status_field(pid: int | str, field: str) -> str:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return line.split(":", 1)[1].strip()
    return ""


def _tasks_of_uid(uid: int) -> int:
    """Processes and threads whose real user id is `uid` (what RLIMIT_NPROC counts)."""
    n = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_status_field(entry, "Uid").split()[0]) == uid:
                    n += int(_status_field(entry, "Threads") or 1)
            except (OSError, IndexError, ValueError):
                continue  # the process ended while we looked
    return n


def apply_limits(limits: Limits, uid: int) -> None:
    """Set this process's resource limits before running student code.

    The address-space limit is what is mapped now plus ``limits.memory_bytes``:
    the warm worker already maps NumPy and PyTorch, which must not count
    against the submission. The process limit is counted for `uid`, the
    user id the process is about to become.
    """
    mapped = int(_status_field("self", "VmSize").split()[0]) * 1024
    budget = [
        (resource.RLIMIT_AS, mapped + limits.memory_bytes),
        (resource.RLIMIT_CPU, int(limits.cpu_seconds)),
        (resource.RLIMIT_FSIZE, int(limits.file_bytes)),
        (resource.RLIMIT_CORE, 0),
        # Open files bound what pipes and sockets can hold outside RLIMIT_AS.
        (resource.RLIMIT_NOFILE, int(limits.open_files)),
        (resource.RLIMIT_NPROC, _tasks_of_uid(uid) + int(limits.max_processes)),
    ]
    for which, value in budget:
        soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        # CPU: SIGXCPU at the soft limit, SIGKILL one second later.
        new_hard = value + 1 if which == resource.RLIMIT_CPU and hard == resource.RLIM_INFINITY \
            else value
        resource.setrlimit(which, (value, new_hard))


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_privileges(uid: int, keep_read_search: bool = False) -> None:
    """Become user and group `uid` with no supplementary groups and no capabilities.

    Parameters
    ----------
    uid : int
        The unprivileged user id (also used as group id).
    keep_read_search : bool
        Keep only ``CAP_DAC_READ_SEARCH`` (read any file, write none): used
        without bubblewrap when Python lives under a directory others cannot
        enter, such as ``/root``.
    """
    if keep_read_search:
        _prctl(_PR_SET_KEEPCAPS, 1)
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if keep_read_search:
        bit = 1 << _CAP_DAC_READ_SEARCH
        data = (_CapData * 2)(_CapData(bit, bit, 0), _CapData(0, 0, 0))
        header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
        if _libc.capset(ctypes.byref(header), data) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"capset: {os.strerror(err)}")
        _prctl(_PR_SET_KEEPCAPS, 0)
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError(f"drop_privileges: still running as uid {os.geteuid()}, expected {uid}")


def no_new_privs() -> None:
    """Forbid gaining privileges through setuid programs from now on."""
    _prctl(_PR_SET_NO_NEW_PRIVS, 1)


# --------------------------------------------------------------------------- cleanup


def _children_map() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                # The command name may contain spaces and parentheses: split after the last ")".
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def descendants(pid: int) -> list[int]:
    """All processes below `pid`, from /proc."""
    tree, out, todo = _children_map(), [], [pid]
    while todo:
        kids = tree.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def kill_descendants() -> None:
    """SIGKILL and reap every descendant of this process.

    This process is a subreaper (`set_subreaper`), so a daemonised grandchild
    is still below it. Killed processes cannot fork any more, so the loop ends
    once a scan finds nothing.
    """
    me = os.getpid()
    while pids := descendants(me):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.waitpid(-1, 0)
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass


def kill_uid(uid: int) -> None:
    """SIGKILL every process whose real user id is `uid` (a submission's, after its worker died)."""
    for _ in range(3):  # killed processes cannot fork, so a second pass finds nothing
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if int(_status_field(entry, "Uid").split()[0]) == uid:
                    os.kill(int(entry), signal.SIGKILL)
            except (OSError, IndexError, ValueError):
                continue


def wipe(directory: str) -> None:
    """Delete everything inside `directory`, whatever permissions and depth the child left.

    No recursion and one open folder at a time: each folder's subfolders are
    moved up into `directory` before it is removed, so a tree thousands of
    levels deep (deeper than ``PATH_MAX`` or Python's recursion limit) goes
    as easily as a flat one.
    """
    top = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    token, moved = secrets.token_hex(8), 0
    try:
        while names := os.listdir(top):
            for name in names:
                if not stat.S_ISDIR(os.stat(name, dir_fd=top, follow_symlinks=False).st_mode):
                    os.unlink(name, dir_fd=top)
                    continue
                sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=top)
                try:
                    os.fchmod(sub, stat.S_IRWXU)
                    for inner in os.listdir(sub):
                        if stat.S_ISDIR(os.stat(inner, dir_fd=sub, follow_symlinks=False).st_mode):
                            moved += 1
                            os.rename(inner, f".wipe-{token}-{moved}", src_dir_fd=sub,
                                      dst_dir_fd=top)
                        else:
                            os.unlink(inner, dir_fd=sub)
                finally:
                    os.close(sub)
                os.rmdir(name, dir_fd=top)
    finally:
        os.close(top)


# --------------------------------------------------------------------------- leftovers between runs

_IPC_RMID = 0
_IPC_KINDS = {"shm": ("shmid", "shmctl"), "sem": ("semid", "semctl"), "msg": ("msqid", "msgctl")}
SHM_DIR = "/dev/shm"


def ipc_objects() -> set[tuple[str, int, int, int]]:
    """SysV IPC objects of this IPC namespace: (kind, id, owner uid, creator uid)."""
    found = set()
    for kind, (id_field, _) in _IPC_KINDS.items():
        try:
            with open(f"/proc/sysvipc/{kind}") as f:
                header, *rows = [line.split() for line in f]
        except (OSError, ValueError):
            continue
        col = {name: i for i, name in enumerate(header)}
        for row in rows:
            try:
                found.add((kind, int(row[col[id_field]]), int(row[col["uid"]]),
                           int(row[col["cuid"]])))
            except (KeyError, IndexError, ValueError):
                continue
    return found


def _remove_ipc(objects: set[tuple[str, int, int, int]]) -> None:
    for kind, ident, _, _ in objects:
        fn = getattr(_libc, _IPC_KINDS[kind][1])
        if kind == "sem":
            fn(ident, 0, _IPC_RMID, None)
        else:
            fn(ident, _IPC_RMID, None)


def sweep_ipc(uid: int, before: set[tuple[str, int, int, int]]) -> int:
    """Remove the SysV IPC objects that user `uid` made since `before`; how many there were.

    Only the owner or creator may remove an object (``CAP_SYS_ADMIN`` aside),
    so when this process is another user a short-lived fork becomes `uid` to
    do it. Called once every process of the submission is dead.
    """
    found = {o for o in ipc_objects() - before if uid in (o[2], o[3])}
    if not found:
        return 0
    if os.geteuid() == uid:
        _remove_ipc(found)
        return len(found)
    pid = os.fork()
    if pid == 0:
        try:
            os.setresuid(uid, uid, uid)
            _remove_ipc(found)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    return len(found)


def shm_files() -> set[str]:
    """Names in ``/dev/shm`` (POSIX shared memory and semaphores)."""
    try:
        return set(os.listdir(SHM_DIR))
    except OSError:
        return set()


def sweep_shm_files(uid: int, before: set[str]) -> None:
    """Delete what user `uid` put in ``/dev/shm`` since `before`."""
    for name in shm_files() - before:
        path = os.path.join(SHM_DIR, name)
        try:
            if os.lstat(path).st_uid == uid:
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.unlink(path)
        except OSError:
            continue
