// SPDX-License-Identifier: (Apache-2.0 OR GPL-2.0-only)
// Palisade's kernel-side enforcement: kill a process on exec, before the new image runs a single
// instruction, and the programs the start-up probe loads to learn what the running kernel allows.
//
// kill_on_exec (tp_btf/sched_process_exec) sends SIGKILL from the exec'ing task's own context when
//  - its executable (inode number) is listed for its cgroup in `kill_exe` (user space lists an executable
//    once the decider has denied it in that container and it escaped the pre-exec block), or
//  - its thread group is listed in `kill_tgid` (one-shot; the probe uses it to prove the kill works).
// probe_lsm, probe_kprobe and probe_override are only loaded (and the first two attached, as no-ops) by the
// probe; they never change what the kernel decides. probe_override is never attached.
// The user-space side is crates/palisade-runtime/src/enforce/kill.rs and probe.rs.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct exe_key {
	u64 cgroup_id;
	u64 ino;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct exe_key);
	__type(value, u32);
} kill_exe SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, u32);
	__type(value, u32);
} kill_tgid SEC(".maps");

// [0]: kills by executable, [1]: kills by thread group
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, u32);
	__type(value, u64);
} kills SEC(".maps");

SEC("tp_btf/sched_process_exec")
int BPF_PROG(kill_on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	u32 tgid = bpf_get_current_pid_tgid() >> 32;
	u32 slot = 1;
	if (bpf_map_lookup_elem(&kill_tgid, &tgid)) {
		bpf_map_delete_elem(&kill_tgid, &tgid);
	} else {
		struct exe_key k = {
			.cgroup_id = bpf_get_current_cgroup_id(),
			.ino = BPF_CORE_READ(bprm, file, f_inode, i_ino),
		};
		if (!bpf_map_lookup_elem(&kill_exe, &k))
			return 0;
		slot = 0;
	}
	bpf_send_signal(9);
	u64 *c = bpf_map_lookup_elem(&kills, &slot);
	if (c)
		__sync_fetch_and_add(c, 1);
	return 0;
}

SEC("lsm/bprm_check_security")
int BPF_PROG(probe_lsm, struct linux_binprm *bprm, int ret)
{
	return ret;
}

SEC("kprobe/security_bprm_check")
int probe_kprobe(struct pt_regs *ctx)
{
	return 0;
}

SEC("kprobe/security_bprm_check")
int probe_override(struct pt_regs *ctx)
{
	bpf_override_return(ctx, 0);
	return 0;
}
