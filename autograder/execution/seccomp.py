"""A seccomp filter for the submission's process: the system calls grading never needs.

The file system, the network namespace, the user id and the resource limits
decide what student code can reach; a few kernel interfaces sit outside all
of them, so the child refuses them with ``EPERM`` before any student code
runs (`install`, after ``no_new_privs``, which lets an unprivileged process
install a filter):

* new namespaces (``unshare``, ``setns``, ``clone`` with a ``CLONE_NEW*``
  flag): a user namespace would give the submission every capability again
  inside it;
* state that outlives the process and the scratch sweep: SysV IPC
  (``shmget``, ``semget``, ``msgget``), POSIX message queues, the kernel
  keyrings (``add_key``, ``keyctl``), which belong to a user id and would
  reach the next submission run under it;
* memory outside ``RLIMIT_AS``: ``memfd_create`` (pages that are no mapping);
* mounts, ``ptrace`` and ``process_vm_*``, ``bpf``, ``perf_event_open``,
  ``userfaultfd``, ``io_uring``, kernel modules, handles by inode;
* socket families other than UNIX, IPv4 and IPv6 (``AF_VSOCK`` is not
  covered by a network namespace);
* signals to the processes that watch it (`install`'s `protect`: the warm
  worker, the sandbox's init), to their process groups and to ``-1`` (every
  process it may signal): where the user id cannot be dropped (a container
  without ``CAP_SYS_ADMIN``), the worker shares the submission's user id.

``clone3`` answers ``ENOSYS``: its flags live in memory a filter cannot
read, and glibc then falls back to ``clone`` for threads. The filter is
written as classic BPF by hand for x86-64 and AArch64 (`TABLES`); on other
machines `supported` is false and the grader records the layer as missing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import platform
import struct

# Classic BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h).
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JSET_K = 0x45
_RET_K = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_RET_KILL_PROCESS = 0x80000000
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
# struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6].
_NR, _ARCH, _ARG0 = 0, 4, 16
_X32_SYSCALL_BIT = 0x40000000
# Every CLONE_NEW* flag: CLONE_NEWNS, CGROUP, UTS, IPC, USER, PID, NET, TIME.
CLONE_NEW_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 \
    | 0x20000000 | 0x40000000 | 0x00000080
ALLOWED_FAMILIES = (1, 2, 10)  # AF_UNIX, AF_INET, AF_INET6

_DENIED = ("unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "ptrace",
           "process_vm_readv", "process_vm_writev", "keyctl", "add_key", "request_key",
           "mq_open", "mq_unlink", "memfd_create", "shmget", "semget", "msgget", "bpf",
           "userfaultfd", "perf_event_open", "kexec_load", "init_module", "finit_module",
           "delete_module", "open_by_handle_at", "name_to_handle_at", "fanotify_init",
           "io_uring_setup", "io_uring_enter", "io_uring_register", "open_tree", "move_mount",
           "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "memfd_secret")
# Numbers shared by every architecture since the unified table (Linux 5.1 and later).
_COMMON = {"pidfd_open": 434, "io_uring_setup": 425, "io_uring_enter": 426,
           "io_uring_register": 427, "open_tree": 428, "move_mount": 429, "fsopen": 430,
           "fsconfig": 431, "fsmount": 432, "fspick": 433, "clone3": 435, "mount_setattr": 442,
           "memfd_secret": 447}

# machine -> (AUDIT_ARCH_*, system call numbers).
TABLES: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (0xC000003E, {
        **_COMMON, "clone": 56, "socket": 41, "kill": 62, "tkill": 200, "tgkill": 234,
        "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297, "unshare": 272, "setns": 308,
        "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "ptrace": 101,
        "process_vm_readv": 310, "process_vm_writev": 311, "keyctl": 250, "add_key": 248,
        "request_key": 249, "mq_open": 240, "mq_unlink": 241, "memfd_create": 319,
        "shmget": 29, "semget": 64, "msgget": 68, "bpf": 321, "userfaultfd": 323,
        "perf_event_open": 298, "kexec_load": 246, "init_module": 175, "finit_module": 313,
        "delete_module": 176, "open_by_handle_at": 304, "name_to_handle_at": 303,
        "fanotify_init": 300}),
    "aarch64": (0xC00000B7, {
        **_COMMON, "clone": 220, "socket": 198, "kill": 129, "tkill": 130, "tgkill": 131,
        "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240, "unshare": 97, "setns": 268, "mount": 40,
        "umount2": 39, "pivot_root": 41, "chroot": 51, "ptrace": 117,
        "process_vm_readv": 270, "process_vm_writev": 271, "keyctl": 219, "add_key": 217,
        "request_key": 218, "mq_open": 180, "mq_unlink": 181, "memfd_create": 279,
        "shmget": 194, "semget": 190, "msgget": 186, "bpf": 280, "userfaultfd": 282,
        "perf_event_open": 241, "kexec_load": 104, "init_module": 105, "finit_module": 273,
        "delete_module": 106, "open_by_handle_at": 265, "name_to_handle_at": 264,
        "fanotify_init": 262}),
}


def supported() -> bool:
    """Whether this machine's architecture has a filter here."""
    return platform.machine() in TABLES


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


# System calls whose first argument names the process (or group) a signal goes to.
_SIGNALLING = ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_open")


def program(machine: str | None = None, protect: tuple[int, ...] = ()) -> list[bytes]:
    """The filter's instructions (``struct sock_filter``) for `machine`.

    `protect`: process ids that no signal may reach, nor their process groups
    (``-pid``); ``-1`` is always refused.

    Raises
    ------
    OSError
        For an architecture without a table (`supported` is false).
    """
    machine = machine or platform.machine()
    if machine not in TABLES:
        raise OSError(errno.ENOSYS, f"seccomp: no system call table for {machine!r}")
    arch, nr = TABLES[machine]
    deny = _RET_ERRNO | errno.EPERM
    out = [_insn(_LD_W_ABS, _ARCH),
           _insn(_JEQ_K, arch, jt=1),           # another ABI (x86's 32-bit entry): kill
           _insn(_RET_K, _RET_KILL_PROCESS),
           _insn(_LD_W_ABS, _NR)]
    if machine == "x86_64":                     # the x32 ABI reuses the same AUDIT_ARCH
        out += [_insn(_JGE_K, _X32_SYSCALL_BIT, jf=1), _insn(_RET_K, deny)]
    for name in _DENIED:
        out += [_insn(_JEQ_K, nr[name], jf=1), _insn(_RET_K, deny)]
    out += [_insn(_JEQ_K, nr["clone3"], jf=1), _insn(_RET_K, _RET_ERRNO | errno.ENOSYS)]
    # clone: the flags are its first argument (the low word holds every CLONE_NEW* bit).
    out += [_insn(_JEQ_K, nr["clone"], jf=4),
            _insn(_LD_W_ABS, _ARG0),
            _insn(_JSET_K, CLONE_NEW_FLAGS, jf=1),
            _insn(_RET_K, deny),
            _insn(_RET_K, _RET_ALLOW)]
    # Signals: the target is the first argument, compared as the 32-bit pid_t it is.
    targets = sorted({0xFFFFFFFF, *(p & 0xFFFFFFFF for p in protect),
                      *(-p & 0xFFFFFFFF for p in protect)})
    for name in _SIGNALLING:
        out += [_insn(_JEQ_K, nr[name], jf=len(targets) + 3), _insn(_LD_W_ABS, _ARG0)]
        for i, target in enumerate(targets):
            out.append(_insn(_JEQ_K, target, jt=len(targets) - i))
        out += [_insn(_RET_K, _RET_ALLOW), _insn(_RET_K, deny), _insn(_LD_W_ABS, _NR)]
    # socket: the family is its first argument.
    families = ALLOWED_FAMILIES
    out += [_insn(_JEQ_K, nr["socket"], jf=len(families) + 2), _insn(_LD_W_ABS, _ARG0)]
    for i, family in enumerate(families):
        out.append(_insn(_JEQ_K, family, jt=len(families) - i))
    out += [_insn(_RET_K, deny), _insn(_RET_K, _RET_ALLOW)]
    out.append(_insn(_RET_K, _RET_ALLOW))
    return out


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def install(protect: tuple[int, ...] = ()) -> None:
    """Install the filter on this process and every process it starts.

    Needs ``no_new_privs`` first (or ``CAP_SYS_ADMIN``). Cannot be undone.
    `protect`: process ids no signal may reach (`program`).

    Raises
    ------
    OSError
        The kernel refused the filter, or the architecture has no table.
    """
    code = b"".join(program(protect=tuple(protect)))
    prog = _SockFprog(len(code) // 8, code)
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp: prctl(PR_SET_SECCOMP): {errno.errorcode.get(err, err)}")
