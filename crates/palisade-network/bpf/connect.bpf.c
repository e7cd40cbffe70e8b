// SPDX-License-Identifier: Apache-2.0
// Per-cgroup egress firewall: cgroup/connect4 and cgroup/connect6 programs judge every connect() (TCP, and
// UDP sockets being connected) of the processes of one cgroup against its allow rules. Loaded and filled by
// crates/palisade-network/src/firewall/cgroup_bpf.rs, one object per cgroup. A connect no rule allows is
// counted and recorded; in protect mode it fails with EPERM. Loopback is always allowed.
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_RULES 256

struct rule {
	__u32 addr[4]; // network order; IPv4 rules use addr[0]
	__u32 mask[4];
	__u16 first, last; // destination ports, host order
	__u8 proto;        // 0: tcp and udp, else IPPROTO_TCP / IPPROTO_UDP
	__u8 pad[3];
};

struct config {
	__u32 n4, n6;
	__u32 protect;
};

struct violation {
	__u32 addr[4];
	__u16 port;
	__u8 proto;
	__u8 family; // 4 or 6
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_RULES);
	__type(key, __u32);
	__type(value, struct rule);
} rules4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_RULES);
	__type(key, __u32);
	__type(value, struct rule);
} rules6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct config);
} config SEC(".maps");

// 0: connects allowed by a rule, 1: connects outside the rules.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct violation);
	__type(value, __u64);
} violations SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *n = bpf_map_lookup_elem(&counters, &which);
	if (n)
		__sync_fetch_and_add(n, 1);
}

static __always_inline int outside(struct config *c, struct violation *v)
{
	count(1);
	__u64 *n = bpf_map_lookup_elem(&violations, v);
	if (n) {
		__sync_fetch_and_add(n, 1);
	} else {
		__u64 one = 1;
		bpf_map_update_elem(&violations, v, &one, BPF_ANY);
	}
	return c->protect ? 0 : 1;
}

static __always_inline int proto_ok(struct rule *r, __u8 proto)
{
	return r->proto == 0 || r->proto == proto;
}

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *ctx)
{
	__u32 zero = 0;
	struct config *c = bpf_map_lookup_elem(&config, &zero);
	if (!c)
		return 1;
	__u32 daddr = ctx->user_ip4;
	__u16 port = bpf_ntohs((__u16)ctx->user_port);
	__u8 proto = (__u8)ctx->protocol;
	if ((bpf_ntohl(daddr) >> 24) == 127)
		return 1;
	for (__u32 i = 0; i < MAX_RULES; i++) {
		if (i >= c->n4)
			break;
		struct rule *r = bpf_map_lookup_elem(&rules4, &i);
		if (!r)
			break;
		if ((daddr & r->mask[0]) == r->addr[0] && port >= r->first && port <= r->last && proto_ok(r, proto)) {
			count(0);
			return 1;
		}
	}
	struct violation v = {};
	v.addr[0] = daddr;
	v.port = port;
	v.proto = proto;
	v.family = 4;
	return outside(c, &v);
}

SEC("cgroup/connect6")
int connect6(struct bpf_sock_addr *ctx)
{
	__u32 zero = 0;
	struct config *c = bpf_map_lookup_elem(&config, &zero);
	if (!c)
		return 1;
	__u32 a[4];
	a[0] = ctx->user_ip6[0];
	a[1] = ctx->user_ip6[1];
	a[2] = ctx->user_ip6[2];
	a[3] = ctx->user_ip6[3];
	__u16 port = bpf_ntohs((__u16)ctx->user_port);
	__u8 proto = (__u8)ctx->protocol;
	if (a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == bpf_htonl(1))
		return 1;
	for (__u32 i = 0; i < MAX_RULES; i++) {
		if (i >= c->n6)
			break;
		struct rule *r = bpf_map_lookup_elem(&rules6, &i);
		if (!r)
			break;
		if ((a[0] & r->mask[0]) == r->addr[0] && (a[1] & r->mask[1]) == r->addr[1] &&
		    (a[2] & r->mask[2]) == r->addr[2] && (a[3] & r->mask[3]) == r->addr[3] && port >= r->first &&
		    port <= r->last && proto_ok(r, proto)) {
			count(0);
			return 1;
		}
	}
	struct violation v = {};
	v.addr[0] = a[0];
	v.addr[1] = a[1];
	v.addr[2] = a[2];
	v.addr[3] = a[3];
	v.port = port;
	v.proto = proto;
	v.family = 6;
	return outside(c, &v);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
