"""Device access control on cgroup v2: an eBPF program of the allow-list, attached to
the container's cgroup.

v2 has no devices.allow/deny files; the kernel instead runs a BPF_PROG_TYPE_CGROUP_DEVICE
program on every open/mknod of a device node and refuses when it returns 0 (runc's
devicefilter does the same). Without it, CAP_MKNOD (a default capability) would let a
container create and write the host's disks. The program is a straight list of rules,
each a few compares on (type, access, major, minor); no maps, no helpers.
"""

from __future__ import annotations

import os
import struct

from . import syscalls

BPF_PROG_TYPE_CGROUP_DEVICE = 15
BPF_CGROUP_DEVICE = 6
BPF_F_ALLOW_MULTI = 2

DEV_BLOCK, DEV_CHAR = 1, 2                 # bpf_cgroup_dev_ctx.access_type, low 16 bits
ACC_MKNOD, ACC_READ, ACC_WRITE = 1, 2, 4   # high 16 bits

# Instruction opcodes (linux/bpf.h, bpf_common.h).
LDX_MEM_W = 0x61
ALU64_AND_K, ALU64_RSH_K, ALU64_MOV_K, ALU64_MOV_X = 0x57, 0x77, 0xB7, 0xBF
JMP_JNE_K, JMP_JNE_X, JMP_EXIT = 0x55, 0x5D, 0x95
R0, R1, R2, R3, R4, R5 = range(6)


def _insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def parse_rule(rule: str) -> tuple[int, int, int, int]:
    """'c 1:3 rwm' → (type or 0 for any, major or -1, minor or -1, access bits)."""
    kind, numbers, access = rule.split()
    major, _, minor = numbers.partition(":")
    return ({"a": 0, "b": DEV_BLOCK, "c": DEV_CHAR}[kind],
            -1 if major == "*" else int(major), -1 if minor == "*" else int(minor),
            (ACC_READ if "r" in access else 0) | (ACC_WRITE if "w" in access else 0)
            | (ACC_MKNOD if "m" in access else 0))


def program(rules: list[str]) -> bytes:
    """Allow when any rule matches, deny otherwise."""
    code = [
        _insn(LDX_MEM_W, R2, R1, 0), _insn(ALU64_AND_K, R2, imm=0xFFFF),  # type
        _insn(LDX_MEM_W, R3, R1, 0), _insn(ALU64_RSH_K, R3, imm=16),      # access
        _insn(LDX_MEM_W, R4, R1, 4), _insn(LDX_MEM_W, R5, R1, 8),         # major, minor
    ]
    for rule in rules:
        kind, major, minor, access = parse_rule(rule)
        # Each test is a list of instructions ending in "jump to the next rule if not".
        tests: list[list[tuple[int, int, int, int]]] = []
        if kind:
            tests.append([(JMP_JNE_K, R2, 0, kind)])
        if access != ACC_READ | ACC_WRITE | ACC_MKNOD:  # every asked bit must be allowed
            tests.append([(ALU64_MOV_X, R1, R3, 0), (ALU64_AND_K, R1, 0, access),
                          (JMP_JNE_X, R1, R3, 0)])
        if major >= 0:
            tests.append([(JMP_JNE_K, R4, 0, major)])
        if minor >= 0:
            tests.append([(JMP_JNE_K, R5, 0, minor)])
        block = [insn for test in tests for insn in test]
        for i, (op, dst, src, imm) in enumerate(block):
            skip = len(block) - i - 1 + 2  # past the rest and this rule's "allow; exit"
            code.append(_insn(op, dst, src, skip if op in (JMP_JNE_K, JMP_JNE_X) else 0, imm))
        code += [_insn(ALU64_MOV_K, R0, imm=1), _insn(JMP_EXIT)]
    code += [_insn(ALU64_MOV_K, R0, imm=0), _insn(JMP_EXIT)]
    return b"".join(code)


def attach(cgroup_dir: str, rules: list[str]) -> None:
    """Load the allow-list program and attach it to ``cgroup_dir`` (a cgroup2 directory).
    The attachment keeps the program alive; it goes with the cgroup."""
    try:
        prog = syscalls.bpf_prog_load(BPF_PROG_TYPE_CGROUP_DEVICE, program(rules), b"Apache")
    except OSError as exc:
        raise OSError(exc.errno, f"loading the device filter: {exc.strerror}") from None
    target = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        syscalls.bpf_prog_attach(target, prog, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI)
    finally:
        os.close(target)
        os.close(prog)
