// SPDX-License-Identifier: (Apache-2.0 OR GPL-2.0-only)
// Palisade's kernel-side sensor: one ring buffer of fixed-layout records to user space.
//
// Process life cycle comes from BTF tracepoints (sched_process_exec/fork/exit); file, network, identity,
// ptrace and mount activity from the per-syscall exit tracepoints only: the syscall's arguments are still
// in the task's saved user registers at exit, so no entry program and no pairing map are needed, every
// record carries the syscall's result and strings are read after the kernel faulted them in.
// Before any work, an exit consults the `interest` map the agent fills from its loaded rules (which record
// kinds, which opens by path prefix or suffix, read-only and writing apart, which processes get
// everything): what nothing reads costs no record, no path copy beyond the check and no ring-buffer space.
// A relative open is judged by its starting directory once the agent has found that directory quiet
// (`quiet_dirs`).
// Records are built in a per-CPU scratch buffer and only the used length is copied to the ring buffer.
// CO-RE: field offsets are relocated against the running kernel's BTF at load time.
//
// The record layout is mirrored by crates/palisade-runtime/src/sensor/record.rs: change both together.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define K_EXEC 1
#define K_FORK 2
#define K_EXIT 3
#define K_OPEN 4
#define K_RENAME 5
#define K_UNLINK 6
#define K_MKDIR 7
#define K_CONNECT 8
#define K_ACCEPT 9
#define K_LISTEN 10
#define K_BIND 11
#define K_SETUID 12
#define K_SETGID 13
#define K_CAPSET 14
#define K_PTRACE 15
#define K_MOUNT 16
#define K_MODULE 17
#define K_DNS 18

#define S1_LEN 512
#define S2_LEN 1024

#define F_UPPER_LAYER 1
#define F_HAS_RESULT 2
#define F_DIR_KEY 4

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define AT_FDCWD -100
#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define OVERLAYFS_SUPER_MAGIC 0x794c7630

struct record {
	u32 kind;
	u32 pid;
	u32 tid;
	u32 ppid;
	u32 uid;
	u32 gid;
	u32 vpid;
	u32 mntns;
	u64 cgroup_id;
	u64 ts;
	s64 result;
	u64 a0;
	u64 a1;
	u64 a2;
	u32 loginuid;
	u32 tty;
	u16 len1;
	u16 len2;
	u8 family;
	u8 proto;
	u8 flags;
	u8 pad;
	u16 lport;
	u16 rport;
	u8 laddr[16];
	u8 raddr[16];
	char comm[16];
	u32 pidns_level;
	char s1[S1_LEN];
	char s2[S2_LEN];
};

#define HDR_LEN (sizeof(struct record) - S1_LEN - S2_LEN)
// The offsets record.rs reads.
_Static_assert(HDR_LEN == 152, "header size");
_Static_assert(__builtin_offsetof(struct record, cgroup_id) == 32, "cgroup_id");
_Static_assert(__builtin_offsetof(struct record, loginuid) == 80, "loginuid");
_Static_assert(__builtin_offsetof(struct record, len1) == 88, "len1");
_Static_assert(__builtin_offsetof(struct record, lport) == 96, "lport");
_Static_assert(__builtin_offsetof(struct record, laddr) == 100, "laddr");
_Static_assert(__builtin_offsetof(struct record, comm) == 132, "comm");
_Static_assert(__builtin_offsetof(struct record, pidns_level) == 148, "pidns_level");

// Arguments of the syscall that is exiting, read from the task's saved user registers.
struct pending {
	u64 args[6];
};

// What the agent wants (one entry, written by user space; all zero: everything, the state before the
// agent fills it). Mirrored by crates/palisade-runtime/src/sensor/interest.rs: change both together.
#define MAX_PATTERNS 16
#define PATTERN_WORDS 4
#define PATTERN_BYTES (PATTERN_WORDS * 8)
struct pattern {
	u64 word[PATTERN_WORDS];
	u64 mask[PATTERN_WORDS];
};
// Paths of one class of opens that are sent: those starting with a prefix (its bytes from the start of
// `word`) or ending with a suffix (right-aligned in `word`, compared with the path's last 32 bytes).
struct pathset {
	u32 active;    // 0: every open of the class is sent
	u32 nprefixes; // prefixes in use
	u32 nsuffixes; // suffixes in use
	u32 pad;
	struct pattern prefixes[MAX_PATTERNS];
	struct pattern suffixes[MAX_PATTERNS];
};
struct interest {
	u32 active;          // 0: send everything
	u32 kinds;           // bit (1 << K_*): records of that kind are sent
	u32 containers_full; // 1: processes outside the initial pid namespace get everything
	u32 pad;
	struct pathset read;  // read-only opens
	struct pathset write; // opens with any of OPEN_WRITE_BITS
};
_Static_assert(sizeof(struct pathset) == 16 + 2 * MAX_PATTERNS * 64, "pathset layout");
_Static_assert(sizeof(struct interest) == 16 + 2 * sizeof(struct pathset), "interest layout");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct interest);
} interest SEC(".maps");

// Relative opens (`name`, `dir/name`, `.`) are judged by the directory they start from: the agent, seeing
// one such open, reads that directory's path (/proc/PID/cwd or /proc/PID/fd/N) and, when no path below it
// can be in a class's prefix table and none can end with a suffix that reaches into the directory's own
// name, marks it quiet for that class here. A relative open from a quiet directory is then judged by its
// suffixes alone, as its absolute path would be. Keyed by the mount's unique id (never reused) and the
// directory's inode; an entry holds the generation it was judged in and counts only while no rename or
// mount-table change happened since (see paths_changed()), which could have moved the directory.
struct dir_key {
	u64 mnt;
	u64 ino;
};
struct dir_verdict {
	u64 gen;
	u32 quiet; // bit 0: read-only opens, bit 1: opens that may write
	u32 pad;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct dir_key);
	__type(value, struct dir_verdict);
} quiet_dirs SEC(".maps");

// The generation of every path: bumped by each successful rename, mount, umount, move_mount and pivot_root.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} dir_gen SEC(".maps");


// The agent's own process: never reported (its /proc reads would feed back into the stream).
const volatile u32 agent_tgid = 0;

// Bytes waiting in the ring buffer before a record wakes the reader (see submit()).
#define WAKEUP_BYTES (256 * 1024)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct record);
} scratch SEC(".maps");

// Counters, summed over CPUs by user space: 0 records sent, 1 dropped (ring buffer full),
// 2 syscall exits filtered in the kernel (no loaded rule reads them).
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, u32);
	__type(value, u64);
} counters SEC(".maps");

static __always_inline void count(u32 idx)
{
	u64 *c = bpf_map_lookup_elem(&counters, &idx);
	if (c)
		*c += 1;
}

static __always_inline bool is_agent(void)
{
	return agent_tgid != 0 && (bpf_get_current_pid_tgid() >> 32) == agent_tgid;
}

static __always_inline u32 task_vpid(struct task_struct *task, u32 *level_out)
{
	struct pid *pid = BPF_CORE_READ(task, group_leader, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid up = {};
	*level_out = level;
	if (level > 31)
		return 0;
	bpf_probe_read_kernel(&up, sizeof(up), &pid->numbers[level]);
	return up.nr;
}

static __always_inline u32 task_tty(struct task_struct *task)
{
	struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
	if (!tty)
		return 0;
	int index = BPF_CORE_READ(tty, index);
	int major = BPF_CORE_READ(tty, driver, major);
	int minor_start = BPF_CORE_READ(tty, driver, minor_start);
	u32 minor = (u32)(minor_start + index);
	// new_encode_dev, as /proc/PID/stat's tty_nr
	return (minor & 0xff) | ((u32)major << 8) | ((minor & ~0xffu) << 12);
}

static __always_inline struct record *begin_keep(u32 kind, bool keep_s1)
{
	u32 zero = 0;
	struct record *r = bpf_map_lookup_elem(&scratch, &zero);
	if (!r)
		return NULL;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	u64 pid_tgid = bpf_get_current_pid_tgid();
	u64 uid_gid = bpf_get_current_uid_gid();
	r->kind = kind;
	r->pid = pid_tgid >> 32;
	r->tid = (u32)pid_tgid;
	r->ppid = BPF_CORE_READ(task, real_parent, tgid);
	r->uid = (u32)uid_gid;
	r->gid = uid_gid >> 32;
	r->vpid = task_vpid(task, &r->pidns_level);
	r->mntns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	r->cgroup_id = bpf_get_current_cgroup_id();
	r->ts = bpf_ktime_get_boot_ns();
	r->result = 0;
	r->a0 = 0;
	r->a1 = 0;
	r->a2 = 0;
	r->loginuid = (u32)-1;
	if (bpf_core_field_exists(task->loginuid))
		r->loginuid = BPF_CORE_READ(task, loginuid.val);
	r->tty = task_tty(task);
	if (!keep_s1)
		r->len1 = 0;
	r->len2 = 0;
	r->family = 0;
	r->proto = 0;
	r->flags = 0;
	r->pad = 0;
	r->lport = 0;
	r->rport = 0;
	__builtin_memset(r->laddr, 0, sizeof(r->laddr));
	__builtin_memset(r->raddr, 0, sizeof(r->raddr));
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	if (!keep_s1)
		r->s1[0] = 0;
	r->s2[0] = 0;
	return r;
}

static __always_inline struct record *begin(u32 kind)
{
	return begin_keep(kind, false);
}

// Waking the reader costs the workload a scheduler wake-up per record when the reader keeps up. Process
// life-cycle records (a few per process, and enforcement and attribution want them promptly) always wake
// it, which also hands over the syscall records queued before them; syscall and DNS records wake it only
// once WAKEUP_BYTES are waiting, the reader polling every few milliseconds for the rest.
static __always_inline void submit_wake(struct record *r, bool prompt)
{
	u64 size = HDR_LEN + r->len1;
	if (r->len2)
		size = HDR_LEN + S1_LEN + r->len2;
	if (size > sizeof(struct record))
		size = sizeof(struct record);
	u64 wake = BPF_RB_FORCE_WAKEUP;
	if (!prompt)
		wake = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= WAKEUP_BYTES ? BPF_RB_FORCE_WAKEUP
										     : BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_output(&events, r, size, wake) == 0)
		count(0);
	else
		count(1);
}

static __always_inline void submit(struct record *r)
{
	submit_wake(r, false);
}

static __always_inline void user_str1(struct record *r, const void *p)
{
	if (!p)
		return;
	long n = bpf_probe_read_user_str(r->s1, S1_LEN, p);
	r->len1 = n > 0 ? (u16)n : 0;
}

static __always_inline void user_str2(struct record *r, const void *p)
{
	if (!p)
		return;
	long n = bpf_probe_read_user_str(r->s2, S1_LEN, p);
	r->len2 = n > 0 ? (u16)n : 0;
}

// ---- process life cycle -------------------------------------------------------------------------

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	if (is_agent())
		return 0;
	struct record *r = begin(K_EXEC);
	if (!r)
		return 0;
	long n = bpf_probe_read_kernel_str(r->s1, S1_LEN, BPF_CORE_READ(bprm, filename));
	r->len1 = n > 0 ? (u16)n : 0;

	unsigned long start = BPF_CORE_READ(p, mm, arg_start);
	unsigned long end = BPF_CORE_READ(p, mm, arg_end);
	unsigned long len = end > start ? end - start : 0;
	if (len > S2_LEN - 1)
		len = S2_LEN - 1;
	len &= S2_LEN - 1;
	if (len > 0 && bpf_probe_read_user(r->s2, len, (void *)start) == 0)
		r->len2 = (u16)len;
	if (r->len2 == 0) {
		// keep the filename in the output even with no argv
		r->s2[0] = 0;
		r->len2 = 1;
	}

	// Drift: the executable's overlayfs inode has an upper-layer dentry (written in the container).
	struct inode *ino = BPF_CORE_READ(bprm, file, f_inode);
	unsigned long magic = BPF_CORE_READ(ino, i_sb, s_magic);
	if (magic == OVERLAYFS_SUPER_MAGIC) {
		struct dentry *upper = NULL;
		bpf_probe_read_kernel(&upper, sizeof(upper), (char *)ino + bpf_core_type_size(struct inode));
		if (upper)
			r->flags |= F_UPPER_LAYER;
	}
	submit_wake(r, true);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	if (is_agent())
		return 0;
	u32 cpid = BPF_CORE_READ(child, pid);
	u32 ctgid = BPF_CORE_READ(child, tgid);
	if (cpid != ctgid)
		return 0; // a new thread, not a new process
	struct record *r = begin(K_FORK);
	if (!r)
		return 0;
	r->a0 = ctgid;
	submit_wake(r, true);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	if (is_agent())
		return 0;
	u32 pid = BPF_CORE_READ(p, pid);
	u32 tgid = BPF_CORE_READ(p, tgid);
	if (pid != tgid)
		return 0;
	struct record *r = begin(K_EXIT);
	if (!r)
		return 0;
	r->a0 = (u32)BPF_CORE_READ(p, exit_code);
	submit_wake(r, true);
	return 0;
}

// ---- interest: what the agent wants -----------------------------------------------------------------

static __always_inline struct interest *interest_now(void)
{
	u32 zero = 0;
	return bpf_map_lookup_elem(&interest, &zero);
}

static __always_inline bool in_container_ns(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	return BPF_CORE_READ(task, group_leader, thread_pid, level) > 0;
}

// The filter that applies to the current task, NULL when it gets everything.
static __always_inline struct interest *filter_for_task(void)
{
	struct interest *f = interest_now();
	if (!f || !f->active)
		return NULL;
	if (f->containers_full && in_container_ns())
		return NULL;
	return f;
}

// Whether a record of `kind` is wanted; counts what is filtered.
static __always_inline bool wanted(u32 kind, struct interest *f)
{
	if (!f || (f->kinds & (1u << kind)))
		return true;
	count(2);
	return false;
}

// A path the prefix table can judge: absolute, with no `//`, no `/.` (so no `/./`, `/../`, and no hidden
// file either) and no `..` anywhere, so its text is the path it resolves to (symbolic links aside, which
// user space does not resolve either). Checked eight bytes at a time; the byte tests may report a false
// match, which only sends the record.
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
static __always_inline u64 bytes_equal(u64 w, u64 c)
{
	u64 x = w ^ (c * ONES);
	return (x - ONES) & ~x & HIGHS;
}

// No `//`, `/.` or `..` in the `len` bytes of `s` (checked eight bytes at a time).
static __always_inline bool no_dot_segments(const char *s, u32 len)
{
	u64 slash_carry = 0, dot_carry = 0;
	for (u32 i = 0; i < S1_LEN / 8; i++) {
		if (i * 8 >= len)
			break;
		u64 w = *(const u64 *)&s[i * 8];
		u64 slash = bytes_equal(w, '/');
		u64 dot = bytes_equal(w, '.');
		// byte k + 1 is one byte up (little endian); the carries bring the previous word's last byte
		u64 after_slash = (slash << 8) | slash_carry;
		u64 after_dot = (dot << 8) | dot_carry;
		if ((after_slash & (slash | dot)) || (after_dot & dot))
			return false;
		slash_carry = slash >> 56;
		dot_carry = dot >> 56;
	}
	return true;
}

static __always_inline bool plain_absolute(const char *s, u32 len)
{
	// a path cut at S1_LEN may hide a `..` past the cut: sent
	if (len == 0 || len >= S1_LEN || s[0] != '/')
		return false;
	return no_dot_segments(s, len);
}

static __always_inline bool pattern_match(const struct pattern *p, u64 w0, u64 w1, u64 w2, u64 w3)
{
	return ((w0 ^ p->word[0]) & p->mask[0]) == 0 && ((w1 ^ p->word[1]) & p->mask[1]) == 0 &&
	       ((w2 ^ p->word[2]) & p->mask[2]) == 0 && ((w3 ^ p->word[3]) & p->mask[3]) == 0;
}

// Whether the path in `r->s1` starts with one of the set's prefixes.
static __always_inline bool prefix_match(const struct pathset *ps, struct record *r)
{
	const char *s = r->s1;
	u64 w0 = *(const u64 *)&s[0], w1 = *(const u64 *)&s[8], w2 = *(const u64 *)&s[16],
	    w3 = *(const u64 *)&s[24];
	u32 n = ps->nprefixes;
	for (u32 i = 0; i < MAX_PATTERNS; i++) {
		if (i >= n)
			break;
		if (pattern_match(&ps->prefixes[i], w0, w1, w2, w3))
			return true;
	}
	return false;
}

// Whether the path in `r->s1` (`len` bytes with its NUL) ends with one of the set's suffixes.
static __always_inline bool suffix_match(const struct pathset *ps, struct record *r, u32 len)
{
	u32 n = ps->nsuffixes;
	if (n == 0)
		return false;
	// the 32 bytes before the NUL; for a shorter path the window starts in the record's header, whose
	// bytes can only make a suffix match where it should not, which sends the record
	u32 end = (len - 1) & (S1_LEN - 1);
	const char *w = (const char *)r + HDR_LEN - PATTERN_BYTES + end;
	u64 w0 = *(const u64 *)&w[0], w1 = *(const u64 *)&w[8], w2 = *(const u64 *)&w[16],
	    w3 = *(const u64 *)&w[24];
	for (u32 i = 0; i < MAX_PATTERNS; i++) {
		if (i >= n)
			break;
		if (pattern_match(&ps->suffixes[i], w0, w1, w2, w3))
			return true;
	}
	return false;
}

// Whether the path in `r->s1` (`len` bytes with its NUL, a plain absolute path) is in the set.
static __always_inline bool path_match(const struct pathset *ps, struct record *r, u32 len)
{
	return prefix_match(ps, r) || suffix_match(ps, r, len);
}

// A relative path whose text is the path it names below its starting directory: `.`, or a path not
// starting with `.` or `/` with no `//`, `/.` or `..`.
static __always_inline bool plain_relative(const char *s, u32 len)
{
	if (len == 2 && s[0] == '.')
		return true;
	if (len < 2 || len >= S1_LEN || s[0] == '/' || s[0] == '.')
		return false;
	return no_dot_segments(s, len);
}

// The open file `fd` of the current task; NULL when there is none.
static __always_inline struct file *file_of_fd(long fd)
{
	if (fd < 0)
		return NULL;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned long)fd >= max)
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

static __always_inline u64 *dir_gen_now(void)
{
	u32 zero = 0;
	return bpf_map_lookup_elem(&dir_gen, &zero);
}

// The directory a relative path of `dfd` starts from: the working directory (AT_FDCWD) or the open
// directory `dfd`, as (the mount's unique id, the inode). False when it cannot be told (no such fd, a
// kernel without unique mount ids).
static __always_inline bool base_dir(u64 dfd, struct dir_key *k)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct vfsmount *mnt;
	struct dentry *dentry;
	if ((int)dfd == AT_FDCWD) {
		mnt = BPF_CORE_READ(task, fs, pwd.mnt);
		dentry = BPF_CORE_READ(task, fs, pwd.dentry);
	} else {
		struct file *f = file_of_fd((int)dfd);
		if (!f)
			return false;
		mnt = BPF_CORE_READ(f, f_path.mnt);
		dentry = BPF_CORE_READ(f, f_path.dentry);
	}
	if (!mnt || !dentry)
		return false;
	struct mount *m = container_of(mnt, struct mount, mnt);
	if (!bpf_core_field_exists(m->mnt_id_unique))
		return false;
	k->mnt = BPF_CORE_READ(m, mnt_id_unique);
	k->ino = BPF_CORE_READ(dentry, d_inode, i_ino);
	return k->mnt != 0;
}

// O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_TMPFILE's own bit: anything but a plain read.
#define OPEN_WRITE_BITS (01 | 02 | 0100 | 01000 | 020000000)

// ---- syscall exits ------------------------------------------------------------------------------------

// The exiting syscall's arguments, from the user registers the kernel saved at entry (still intact at the
// exit tracepoint, which runs before any ptrace stop). Only `nargs` are read.
static __always_inline bool take(struct pending *p, int nargs)
{
	struct pt_regs *saved = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	struct pt_regs regs;
	if (!saved || bpf_probe_read_kernel(&regs, sizeof(regs), saved))
		return false;
	p->args[0] = PT_REGS_PARM1_SYSCALL(&regs);
	if (nargs > 1)
		p->args[1] = PT_REGS_PARM2_SYSCALL(&regs);
	if (nargs > 2)
		p->args[2] = PT_REGS_PARM3_SYSCALL(&regs);
	if (nargs > 3)
		p->args[3] = PT_REGS_PARM4_SYSCALL(&regs);
	if (nargs > 4)
		p->args[4] = PT_REGS_PARM5_SYSCALL(&regs);
	return true;
}

static __always_inline struct record *begin_exit_keep(u32 kind, struct trace_event_raw_sys_exit *ctx, bool keep_s1)
{
	struct record *r = begin_keep(kind, keep_s1);
	if (!r)
		return NULL;
	r->result = ctx->ret;
	r->flags |= F_HAS_RESULT;
	return r;
}

static __always_inline struct record *begin_exit(u32 kind, struct trace_event_raw_sys_exit *ctx)
{
	return begin_exit_keep(kind, ctx, false);
}

// open(path, flags, mode), openat(dfd, path, flags, mode), creat(path, mode), openat2(dfd, path, how, size)
static __always_inline int emit_open(struct trace_event_raw_sys_exit *ctx, int variant, struct interest *f)
{
	struct pending pa = {}, *p = &pa;
	if (!take(p, variant == 2 ? 2 : variant == 0 ? 3 : 4))
		return 0;
	const void *path;
	u64 flags, mode, dfd;
	if (variant == 0) { // open
		path = (const void *)p->args[0];
		flags = p->args[1];
		mode = p->args[2];
		dfd = (u64)(s64)AT_FDCWD;
	} else if (variant == 1) { // openat
		path = (const void *)p->args[1];
		flags = p->args[2];
		mode = p->args[3];
		dfd = p->args[0];
	} else if (variant == 2) { // creat: O_CREAT|O_WRONLY|O_TRUNC
		path = (const void *)p->args[0];
		flags = 01 | 0100 | 01000;
		mode = p->args[1];
		dfd = (u64)(s64)AT_FDCWD;
	} else { // openat2
		u64 how[2] = {};
		path = (const void *)p->args[1];
		bpf_probe_read_user(how, sizeof(how), (void *)p->args[2]);
		flags = how[0];
		mode = how[1];
		dfd = p->args[0];
	}
	u32 zero = 0;
	struct record *r = bpf_map_lookup_elem(&scratch, &zero);
	if (!r)
		return 0;
	r->len1 = 0;
	if (path) {
		long n = bpf_probe_read_user_str(r->s1, S1_LEN, path);
		r->len1 = n > 0 ? (u16)n : 0;
	}
	struct dir_key key = {};
	u64 gen = 0;
	bool keyed = false;
	if (f) {
		bool writing = flags & OPEN_WRITE_BITS;
		const struct pathset *ps = writing ? &f->write : &f->read;
		// bytes past the string are stale but harmless: masks only cover a prefix's own bytes, and a
		// path shorter than a prefix ends with its NUL where the prefix has a character
		if (!ps->active) {
			// every open of the class is sent
		} else if (plain_absolute(r->s1, r->len1)) {
			if (!path_match(ps, r, r->len1)) {
				count(2);
				return 0;
			}
		} else if (plain_relative(r->s1, r->len1) && base_dir(dfd, &key)) {
			u64 *g = dir_gen_now();
			gen = g ? *g : 0;
			keyed = true;
			struct dir_verdict *v = bpf_map_lookup_elem(&quiet_dirs, &key);
			if (v && v->gen == gen && (v->quiet & (writing ? 2 : 1))) {
				// the byte before the path stands for the separator after the directory, so a
				// suffix `/name` is compared as with the absolute path (the header is rewritten
				// below when the record is sent)
				((char *)r)[HDR_LEN - 1] = '/';
				if (!suffix_match(ps, r, r->len1)) {
					count(2);
					return 0;
				}
			}
		}
	}
	r = begin_exit_keep(K_OPEN, ctx, true);
	if (!r)
		return 0;
	r->a0 = flags;
	r->a1 = mode;
	r->a2 = dfd;
	if (keyed) {
		// the directory, for the agent to judge: mount and inode in raddr, the generation in laddr
		r->flags |= F_DIR_KEY;
		__builtin_memcpy(r->raddr, &key, sizeof(key));
		__builtin_memcpy(r->laddr, &gen, sizeof(gen));
	}
	submit(r);
	return 0;
}

// Two-path calls: rename(old, new), renameat(odfd, old, ndfd, new), renameat2(odfd, old, ndfd, new, flags)
static __always_inline int emit_rename(struct trace_event_raw_sys_exit *ctx, bool at)
{
	struct pending pa = {}, *p = &pa;
	if (!take(p, 5))
		return 0;
	struct record *r = begin_exit(K_RENAME, ctx);
	if (r) {
		if (at) {
			user_str1(r, (const void *)p->args[1]);
			user_str2(r, (const void *)p->args[3]);
			r->a0 = p->args[0];
			r->a1 = p->args[2];
		} else {
			user_str1(r, (const void *)p->args[0]);
			user_str2(r, (const void *)p->args[1]);
			r->a0 = (u64)(s64)AT_FDCWD;
			r->a1 = (u64)(s64)AT_FDCWD;
		}
		submit(r);
	}
	return 0;
}

// One-path calls: unlink(path), unlinkat(dfd, path, flags), mkdir(path, mode), mkdirat(dfd, path, mode)
static __always_inline int emit_path(struct trace_event_raw_sys_exit *ctx, u32 kind, bool at)
{
	struct pending pa = {}, *p = &pa;
	if (!take(p, 5))
		return 0;
	struct record *r = begin_exit(kind, ctx);
	if (r) {
		if (at) {
			user_str1(r, (const void *)p->args[1]);
			r->a0 = p->args[2];
			r->a2 = p->args[0];
		} else {
			user_str1(r, (const void *)p->args[0]);
			r->a0 = p->args[1];
			r->a2 = (u64)(s64)AT_FDCWD;
		}
		submit(r);
	}
	return 0;
}

// ---- sockets ------------------------------------------------------------------------------------

static __always_inline struct sock *sock_of_fd(long fd)
{
	struct file *f = file_of_fd(fd);
	if (!f)
		return NULL;
	umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	return BPF_CORE_READ(sock, sk);
}

// Local (and, when `remote`, remote) endpoint of a kernel socket.
static __always_inline void tuple_of_sock(struct record *r, struct sock *sk, bool remote)
{
	if (!sk)
		return;
	u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	r->family = (u8)family;
	u16 proto = BPF_CORE_READ(sk, sk_protocol);
	r->proto = (u8)proto;
	r->a1 = BPF_CORE_READ(sk, sk_type);
	r->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (family == AF_INET) {
		u32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__builtin_memcpy(r->laddr, &l, 4);
		if (remote) {
			u32 d = BPF_CORE_READ(sk, __sk_common.skc_daddr);
			__builtin_memcpy(r->raddr, &d, 4);
			r->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		}
	} else if (family == AF_INET6) {
		BPF_CORE_READ_INTO(&r->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		if (remote) {
			BPF_CORE_READ_INTO(&r->raddr, sk, __sk_common.skc_v6_daddr);
			r->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		}
	}
}

// A user-space sockaddr: into the remote (connect) or local (bind) endpoint.
static __always_inline void tuple_of_sockaddr(struct record *r, const void *uaddr, bool remote)
{
	u16 family = 0;
	if (!uaddr || bpf_probe_read_user(&family, sizeof(family), uaddr))
		return;
	r->family = (u8)family;
	u8 *addr = remote ? r->raddr : r->laddr;
	u16 port = 0;
	if (family == AF_INET) {
		struct sockaddr_in sin = {};
		bpf_probe_read_user(&sin, sizeof(sin), uaddr);
		__builtin_memcpy(addr, &sin.sin_addr.s_addr, 4);
		port = bpf_ntohs(sin.sin_port);
	} else if (family == AF_INET6) {
		struct sockaddr_in6 sin6 = {};
		bpf_probe_read_user(&sin6, sizeof(sin6), uaddr);
		__builtin_memcpy(addr, &sin6.sin6_addr, 16);
		port = bpf_ntohs(sin6.sin6_port);
	} else if (family == AF_UNIX) {
		user_str1(r, (const char *)uaddr + 2);
	}
	if (remote)
		r->rport = port;
	else
		r->lport = port;
}

// connect(fd, addr, len), bind(fd, addr, len), listen(fd, backlog), accept(fd, addr, len), accept4(…)
static __always_inline int emit_sock(struct trace_event_raw_sys_exit *ctx, u32 kind)
{
	struct pending pa = {}, *p = &pa;
	if (!take(p, 5))
		return 0;
	struct record *r = begin_exit(kind, ctx);
	if (r) {
		r->a0 = p->args[0];
		if (kind == K_CONNECT) {
			tuple_of_sock(r, sock_of_fd((long)p->args[0]), false);
			tuple_of_sockaddr(r, (const void *)p->args[1], true);
		} else if (kind == K_BIND) {
			tuple_of_sock(r, sock_of_fd((long)p->args[0]), false);
			tuple_of_sockaddr(r, (const void *)p->args[1], false);
		} else if (kind == K_LISTEN) {
			tuple_of_sock(r, sock_of_fd((long)p->args[0]), false);
		} else { // accept: the new connection
			tuple_of_sock(r, sock_of_fd(ctx->ret), true);
		}
		submit(r);
	}
	return 0;
}

// ---- identity, ptrace, mount, modules -----------------------------------------------------------

// setuid(uid) / setgid(gid): arg 0; setreuid(r, e) / setresuid(r, e, s): the effective id is arg 1.
static __always_inline int emit_id(struct trace_event_raw_sys_exit *ctx, u32 kind, int arg)
{
	struct pending pa = {}, *p = &pa;
	if (!take(p, 5))
		return 0;
	struct record *r = begin_exit(kind, ctx);
	if (r) {
		r->a0 = arg == 0 ? p->args[0] : p->args[1];
		submit(r);
	}
	return 0;
}

static __always_inline int emit_capset(struct trace_event_raw_sys_exit *ctx)
{
	struct pending pa = {}, *p = &pa;
	if (!take(p, 5))
		return 0;
	struct record *r = begin_exit(K_CAPSET, ctx);
	if (r) {
		u32 data[6] = {}; // two __user_cap_data_struct {effective, permitted, inheritable}
		if (p->args[1])
			bpf_probe_read_user(data, sizeof(data), (void *)p->args[1]);
		r->a0 = (u64)data[0] | ((u64)data[3] << 32);
		r->a1 = (u64)data[1] | ((u64)data[4] << 32);
		submit(r);
	}
	return 0;
}

static __always_inline int emit_ptrace(struct trace_event_raw_sys_exit *ctx)
{
	struct pending pa = {}, *p = &pa;
	if (!take(p, 5))
		return 0;
	struct record *r = begin_exit(K_PTRACE, ctx);
	if (r) {
		r->a0 = p->args[0];
		r->a1 = p->args[1];
		submit(r);
	}
	return 0;
}

// mount(source, target, fstype, flags, data): source in s1; target at s2[0], fstype at s2[512].
static __always_inline int emit_mount(struct trace_event_raw_sys_exit *ctx)
{
	struct pending pa = {}, *p = &pa;
	if (!take(p, 5))
		return 0;
	struct record *r = begin_exit(K_MOUNT, ctx);
	if (r) {
		user_str1(r, (const void *)p->args[0]);
		user_str2(r, (const void *)p->args[1]);
		r->s2[S1_LEN] = 0;
		if (p->args[2])
			bpf_probe_read_user_str(&r->s2[S1_LEN], S2_LEN - S1_LEN, (const void *)p->args[2]);
		r->len2 = S2_LEN;
		r->a0 = p->args[3];
		submit(r);
	}
	return 0;
}

// finit_module(fd, args, flags): the module file's name; init_module(image, len, args): no name.
static __always_inline int emit_module(struct trace_event_raw_sys_exit *ctx, bool from_fd)
{
	struct pending pa = {}, *p = &pa;
	if (!take(p, 5))
		return 0;
	struct record *r = begin_exit(K_MODULE, ctx);
	if (r) {
		if (from_fd) {
			struct file *f = file_of_fd((int)p->args[0]);
			if (f) {
				const unsigned char *name = BPF_CORE_READ(f, f_path.dentry, d_name.name);
				long n = bpf_probe_read_kernel_str(r->s1, S1_LEN, name);
				r->len1 = n > 0 ? (u16)n : 0;
			}
		}
		submit(r);
	}
	return 0;
}

// One program per syscall, at its exit: `first` (a statement run for every call), then the agent's filter
// (the agent's own process, then the kind), then the record.
#define EXIT_WITH(name, kind, first, exit_body)                                                              \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                                             \
	int exit_##name(struct trace_event_raw_sys_exit *ctx)                                                  \
	{                                                                                                      \
		first;                                                                                         \
		if (is_agent())                                                                                \
			return 0;                                                                              \
		struct interest *f = filter_for_task();                                                        \
		if (!wanted(kind, f))                                                                          \
			return 0;                                                                              \
		return exit_body;                                                                              \
	}
#define EXIT(name, kind, exit_body) EXIT_WITH(name, kind, (void)0, exit_body)

// A rename or a change of the mount table may move directories: judged directories count no more.
static __always_inline void paths_changed(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret != 0)
		return;
	u64 *g = dir_gen_now();
	if (g)
		__sync_fetch_and_add(g, 1);
}

// Calls that change paths: the generation first, whoever the caller and whatever is wanted.
#define EXIT_MOVING(name, kind, exit_body) EXIT_WITH(name, kind, paths_changed(ctx), exit_body)

// Calls that only move paths, with no record of their own.
#define EXIT_PATHS_CHANGED(name)                                                                             \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                                             \
	int exit_##name(struct trace_event_raw_sys_exit *ctx)                                                  \
	{                                                                                                      \
		paths_changed(ctx);                                                                            \
		return 0;                                                                                      \
	}

EXIT(open, K_OPEN, emit_open(ctx, 0, f))
EXIT(openat, K_OPEN, emit_open(ctx, 1, f))
EXIT(creat, K_OPEN, emit_open(ctx, 2, f))
EXIT(openat2, K_OPEN, emit_open(ctx, 3, f))
EXIT_MOVING(rename, K_RENAME, emit_rename(ctx, false))
EXIT_MOVING(renameat, K_RENAME, emit_rename(ctx, true))
EXIT_MOVING(renameat2, K_RENAME, emit_rename(ctx, true))
EXIT(unlink, K_UNLINK, emit_path(ctx, K_UNLINK, false))
EXIT(unlinkat, K_UNLINK, emit_path(ctx, K_UNLINK, true))
EXIT(rmdir, K_UNLINK, emit_path(ctx, K_UNLINK, false))
EXIT(mkdir, K_MKDIR, emit_path(ctx, K_MKDIR, false))
EXIT(mkdirat, K_MKDIR, emit_path(ctx, K_MKDIR, true))
EXIT(connect, K_CONNECT, emit_sock(ctx, K_CONNECT))
EXIT(accept, K_ACCEPT, emit_sock(ctx, K_ACCEPT))
EXIT(accept4, K_ACCEPT, emit_sock(ctx, K_ACCEPT))
EXIT(listen, K_LISTEN, emit_sock(ctx, K_LISTEN))
EXIT(bind, K_BIND, emit_sock(ctx, K_BIND))
EXIT(setuid, K_SETUID, emit_id(ctx, K_SETUID, 0))
EXIT(setreuid, K_SETUID, emit_id(ctx, K_SETUID, 1))
EXIT(setresuid, K_SETUID, emit_id(ctx, K_SETUID, 1))
EXIT(setgid, K_SETGID, emit_id(ctx, K_SETGID, 0))
EXIT(setregid, K_SETGID, emit_id(ctx, K_SETGID, 1))
EXIT(setresgid, K_SETGID, emit_id(ctx, K_SETGID, 1))
EXIT(capset, K_CAPSET, emit_capset(ctx))
EXIT(ptrace, K_PTRACE, emit_ptrace(ctx))
EXIT_MOVING(mount, K_MOUNT, emit_mount(ctx))
EXIT(init_module, K_MODULE, emit_module(ctx, false))
EXIT(finit_module, K_MODULE, emit_module(ctx, true))
EXIT_PATHS_CHANGED(umount)
EXIT_PATHS_CHANGED(move_mount)
EXIT_PATHS_CHANGED(pivot_root)

// ---- DNS answers ----------------------------------------------------------------------------------
//
// Two cgroup_skb programs, attached by the agent to the cgroup v2 root (every process) or to each
// container's cgroup (see src/sensor/dns_cgroups.rs), as its rules need names: egress remembers which thread
// sent a UDP datagram to port 53 on a socket (by socket cookie; a UDP send runs in the sender's context),
// ingress copies each UDP datagram from port 53 (the answer, up to S2_LEN - 1 bytes) into a K_DNS record
// with that thread and the socket's cgroup. User space parses the answer. Both always let the packet pass.

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, u64);
	__type(value, u64);
} dns_owners SEC(".maps");

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

// Offset of the UDP header in the packet (which starts at the IP header), 0 when not UDP.
static __always_inline u32 udp_offset(struct __sk_buff *skb, u8 *family)
{
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		u8 vihl = 0, proto = 0;
		if (bpf_skb_load_bytes(skb, 0, &vihl, 1) || bpf_skb_load_bytes(skb, 9, &proto, 1) || proto != 17)
			return 0;
		*family = AF_INET;
		return (u32)(vihl & 0x0f) * 4;
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		u8 next = 0;
		if (bpf_skb_load_bytes(skb, 6, &next, 1) || next != 17)
			return 0;
		*family = AF_INET6;
		return 40;
	}
	return 0;
}

SEC("cgroup_skb/egress")
int dns_egress(struct __sk_buff *skb)
{
	u8 family = 0;
	u32 off = udp_offset(skb, &family);
	u16 ports[2] = {};
	if (off == 0 || bpf_skb_load_bytes(skb, off, ports, sizeof(ports)) || ports[1] != bpf_htons(53))
		return 1;
	u64 cookie = bpf_get_socket_cookie(skb);
	u64 owner = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&dns_owners, &cookie, &owner, BPF_ANY);
	return 1;
}

SEC("cgroup_skb/ingress")
int dns_ingress(struct __sk_buff *skb)
{
	u8 family = 0;
	u32 off = udp_offset(skb, &family);
	u16 ports[2] = {};
	if (off == 0 || bpf_skb_load_bytes(skb, off, ports, sizeof(ports)) || ports[0] != bpf_htons(53))
		return 1;
	u32 zero = 0;
	struct record *r = bpf_map_lookup_elem(&scratch, &zero);
	if (!r)
		return 1;
	u64 cookie = bpf_get_socket_cookie(skb);
	u64 *owner = bpf_map_lookup_elem(&dns_owners, &cookie);
	u64 pid_tgid = owner ? *owner : 0;
	__builtin_memset(r, 0, HDR_LEN);
	r->kind = K_DNS;
	r->pid = pid_tgid >> 32;
	r->tid = (u32)pid_tgid;
	r->uid = bpf_get_socket_uid(skb);
	r->cgroup_id = bpf_skb_cgroup_id(skb);
	r->ts = bpf_ktime_get_boot_ns();
	r->loginuid = (u32)-1;
	r->family = family;
	r->proto = 17;
	r->rport = bpf_ntohs(ports[0]);
	r->lport = bpf_ntohs(ports[1]);
	if (family == AF_INET) {
		bpf_skb_load_bytes(skb, 12, r->raddr, 4);
		bpf_skb_load_bytes(skb, 16, r->laddr, 4);
	} else {
		bpf_skb_load_bytes(skb, 8, r->raddr, 16);
		bpf_skb_load_bytes(skb, 24, r->laddr, 16);
	}
	u32 start = off + 8;
	u64 len = skb->len > start ? skb->len - start : 0;
	if (len > S2_LEN - 1)
		len = S2_LEN - 1;
	// keep clang from dropping the mask the verifier needs to bound the length
	asm volatile("" : "+r"(len));
	len &= S2_LEN - 1;
	if (len == 0 || bpf_skb_load_bytes(skb, start, r->s2, len))
		return 1;
	r->len2 = (u16)len;
	r->s1[0] = 0;
	submit(r);
	return 1;
}
