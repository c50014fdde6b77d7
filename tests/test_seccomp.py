"""The submission's seccomp filter, tried in a real process: refused calls fail, the rest works."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from autograder.execution import seccomp

pytestmark = pytest.mark.skipif(not seccomp.supported(), reason="no seccomp table for this CPU")

# Runs in a fresh interpreter: the filter cannot be removed once installed.
_PROBE = textwrap.dedent('''
    import ctypes, errno, os, socket, subprocess, threading
    import numpy as np
    from autograder.execution import sandbox, seccomp
    sandbox.no_new_privs()
    parent = os.getppid()
    seccomp.install(protect=(parent,))
    libc = ctypes.CDLL(None, use_errno=True)

    def refused(ret):
        return "EPERM" if ret == -1 and ctypes.get_errno() == errno.EPERM else f"ALLOWED {ret}"

    def raises(fn):
        try:
            fn()
        except OSError as e:
            return errno.errorcode[e.errno]
        return "ALLOWED"

    print("unshare_user", refused(libc.unshare(0x10000000)))
    print("unshare_ipc", refused(libc.unshare(0x08000000)))
    print("memfd", raises(lambda: os.memfd_create("m")))
    print("vsock", raises(lambda: socket.socket(40, socket.SOCK_STREAM)))
    print("netlink", raises(lambda: socket.socket(16, socket.SOCK_RAW)))
    print("shmget", refused(libc.shmget(0, 4096, 0o1600)))
    print("add_key", refused(libc.syscall(248 if os.uname().machine == "x86_64" else 217,
                                          b"user", b"k", b"v", 1, -4)))
    print("mq_open", refused(libc.mq_open(b"/q", os.O_CREAT | os.O_RDWR, 0o600, None)))
    print("kill_parent", raises(lambda: os.kill(parent, 0)))
    print("kill_parent_group", raises(lambda: os.kill(-parent, 0)))
    print("kill_everyone", raises(lambda: os.kill(-1, 0)))
    print("pidfd_parent", raises(lambda: os.pidfd_open(parent)))
    os.kill(os.getpid(), 0)  # itself: allowed
    socket.socket(socket.AF_UNIX).close()
    socket.socket(socket.AF_INET).close()
    out = []
    t = threading.Thread(target=lambda: out.append(1))
    t.start(); t.join()
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    status = os.waitpid(pid, 0)[1]
    ok = (out == [1] and os.waitstatus_to_exitcode(status) == 7
          and subprocess.run(["true"]).returncode == 0
          and float((np.ones((64, 64)) @ np.ones((64, 64)))[0, 0]) == 64.0)
    print("ordinary", "works" if ok else "BROKEN")
''')


def test_filter_refuses_what_grading_never_needs_and_keeps_the_rest():
    res = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    seen = dict(line.split(" ", 1) for line in res.stdout.splitlines())
    assert seen == {"unshare_user": "EPERM", "unshare_ipc": "EPERM", "memfd": "EPERM",
                    "vsock": "EPERM", "netlink": "EPERM", "shmget": "EPERM",
                    "add_key": "EPERM", "mq_open": "EPERM", "kill_parent": "EPERM",
                    "kill_parent_group": "EPERM", "kill_everyone": "EPERM",
                    "pidfd_parent": "EPERM", "ordinary": "works"}


def test_program_for_an_unknown_machine_is_an_error():
    with pytest.raises(OSError, match="no system call table for 'sparc'"):
        seccomp.program("sparc")


@pytest.mark.parametrize("machine", sorted(seccomp.TABLES))
def test_every_jump_lands_inside_the_program(machine):
    import struct

    code = seccomp.program(machine)
    for i, insn in enumerate(code):
        op, jt, jf, _ = struct.unpack("=HBBI", insn)
        if op & 0x07 == 0x05:  # BPF_JMP
            assert i + 1 + max(jt, jf) < len(code)
    assert struct.unpack("=HBBI", code[-1])[0] == 0x06  # ends with a return
