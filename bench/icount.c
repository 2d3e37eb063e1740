// SPDX-License-Identifier: GPL-2.0
/*
 * The instruction counter behind the benchmark's `insns` column (icount.h).
 * The kernel keeps no per-instruction count, and its xlated program cannot
 * be run in user space (the verifier inlines map lookups as kernel
 * addresses), so this interprets what libbpf loaded. Every access is checked
 * against the regions the program may touch (stack, frame, context, map
 * values): an access elsewhere stops the count with an error, never a wrong
 * figure. The caller checks the result against the kernel's own run.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "icount.h"

#define STACK_FRAME 512
#define MAX_FRAMES 8
#define MAX_MAPS 64
#define MAX_STEPS 1000000
#define HEADROOM 256 /* XDP_PACKET_HEADROOM, as BPF_PROG_TEST_RUN gives */
#define XDP_FRAME_SIZE 40 /* struct xdp_frame, which adjust_meta must leave room for */
#define MAX_META 32

struct emu_map {
	int fd;
	struct bpf_map_info info;
};

/* A map value read from the kernel (or created by an update) during one run. */
struct entry {
	struct emu_map *map;
	uint8_t key[64];
	bool present;
	uint8_t *value;
	struct entry *next;
};

struct vm {
	uint64_t r[11];
	uint8_t stack[STACK_FRAME * MAX_FRAMES];
	uint8_t pkt[HEADROOM + 2048];
	uint8_t *data, *data_end, *data_meta;
	uint8_t ctx[24]; /* struct xdp_md's size; loads from it are translated */
	struct emu_map maps[MAX_MAPS];
	int nmaps;
	struct entry *entries;
	char *err;
	size_t errlen;
	int cpu; /* whose slot of a per-CPU map the program sees */
};

static int fail(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt), vsnprintf(vm->err, vm->errlen, fmt, ap), va_end(ap);
	return -1;
}

static struct emu_map *map_of_fd(struct vm *vm, int fd)
{
	__u32 len = sizeof(struct bpf_map_info);
	struct emu_map *m;

	for (int i = 0; i < vm->nmaps; i++) {
		if (vm->maps[i].fd == fd)
			return &vm->maps[i];
	}
	if (vm->nmaps == MAX_MAPS)
		return NULL;
	m = &vm->maps[vm->nmaps];
	memset(m, 0, sizeof(*m));
	if (bpf_obj_get_info_by_fd(fd, &m->info, &len) || m->info.key_size > 64)
		return NULL;
	m->fd = fd;
	vm->nmaps++;
	return m;
}

static struct emu_map *map_of_ptr(struct vm *vm, uint64_t p)
{
	for (int i = 0; i < vm->nmaps; i++) {
		if ((uint64_t)(uintptr_t)&vm->maps[i] == p)
			return &vm->maps[i];
	}
	return NULL;
}

/* The run's copy of map[key], read from the kernel on first use. */
static struct entry *entry_get(struct vm *vm, struct emu_map *m, const void *key)
{
	size_t vsize = m->info.value_size, rsize = vsize;
	struct entry *e;
	uint8_t *buf;

	for (e = vm->entries; e; e = e->next) {
		if (e->map == m && !memcmp(e->key, key, m->info.key_size))
			return e;
	}
	if (m->info.type == BPF_MAP_TYPE_PERCPU_ARRAY || m->info.type == BPF_MAP_TYPE_PERCPU_HASH ||
	    m->info.type == BPF_MAP_TYPE_LRU_PERCPU_HASH)
		rsize = ((vsize + 7) & ~(size_t)7) * (size_t)libbpf_num_possible_cpus();
	e = calloc(1, sizeof(*e));
	buf = calloc(1, rsize);
	if (!e || !buf) {
		free(e);
		free(buf);
		return NULL;
	}
	e->map = m;
	memcpy(e->key, key, m->info.key_size);
	e->present = !bpf_map_lookup_elem(m->fd, key, buf);
	if (rsize != vsize) /* per-CPU: the value of the CPU the kernel runs on */
		memmove(buf, buf + ((vsize + 7) & ~(size_t)7) * (size_t)vm->cpu, vsize);
	e->value = buf;
	e->next = vm->entries;
	vm->entries = e;
	return e;
}

/* Is [p, p + n) inside memory the program may touch? */
static bool valid(struct vm *vm, uint64_t p, size_t n, bool write)
{
	uintptr_t a = (uintptr_t)p;

#define IN(lo, len) (a >= (uintptr_t)(lo) && a + n <= (uintptr_t)(lo) + (len))
	if (IN(vm->stack, sizeof(vm->stack)) || IN(vm->data_meta, vm->data_end - vm->data_meta))
		return true;
	if (!write && IN(vm->ctx, sizeof(vm->ctx)))
		return true;
	for (struct entry *e = vm->entries; e; e = e->next) {
		if (e->present && IN(e->value, e->map->info.value_size))
			return true;
	}
#undef IN
	return false;
}

static int load(struct vm *vm, uint64_t p, int size, uint64_t *v)
{
	if (!valid(vm, p, (size_t)size, false))
		return -1;
	if ((uintptr_t)p >= (uintptr_t)vm->ctx && (uintptr_t)p < (uintptr_t)vm->ctx + 24) {
		/* struct xdp_md: the verifier turns these u32 loads into pointer loads. */
		uint64_t md[6] = { (uintptr_t)vm->data, (uintptr_t)vm->data_end,
				   (uintptr_t)vm->data_meta, 1 /* ingress_ifindex: lo */ };
		size_t off = (uintptr_t)p - (uintptr_t)vm->ctx;

		*v = off % 4 ? 0 : md[off / 4];
		return 0;
	}
	*v = 0;
	memcpy(v, (void *)(uintptr_t)p, (size_t)size); /* little-endian host */
	return 0;
}

static int store(struct vm *vm, uint64_t p, int size, uint64_t v)
{
	if (!valid(vm, p, (size_t)size, true))
		return -1;
	memcpy((void *)(uintptr_t)p, &v, (size_t)size); /* little-endian host */
	return 0;
}

/* The helpers an XDP program of this project (or xdp-filter) calls. */
static int helper(struct vm *vm, int id)
{
	uint64_t *r = vm->r;
	struct emu_map *m;
	struct entry *e;

	switch (id) {
	case BPF_FUNC_map_lookup_elem:
	case BPF_FUNC_map_update_elem:
	case BPF_FUNC_map_delete_elem:
		m = map_of_ptr(vm, r[1]);
		if (!m || !valid(vm, r[2], m->info.key_size, false))
			return fail(vm, "helper %d: not a map or key out of bounds", id);
		e = entry_get(vm, m, (void *)(uintptr_t)r[2]);
		if (!e)
			return fail(vm, "out of memory");
		if (id == BPF_FUNC_map_lookup_elem) {
			r[0] = e->present ? (uintptr_t)e->value : 0;
		} else if (id == BPF_FUNC_map_delete_elem) {
			r[0] = e->present ? 0 : (uint64_t)-ENOENT;
			e->present = false;
		} else {
			if (!valid(vm, r[3], m->info.value_size, false))
				return fail(vm, "map_update_elem: value out of bounds");
			memcpy(e->value, (void *)(uintptr_t)r[3], m->info.value_size);
			e->present = true;
			r[0] = 0;
		}
		return 0;
	case BPF_FUNC_ktime_get_ns:
	case BPF_FUNC_ktime_get_coarse_ns: {
		struct timespec t;

		clock_gettime(CLOCK_MONOTONIC, &t);
		r[0] = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
		return 0;
	}
	case BPF_FUNC_get_smp_processor_id:
		r[0] = (uint64_t)vm->cpu;
		return 0;
	case BPF_FUNC_ringbuf_reserve:
		r[0] = 0; /* nobody reads the benchmark's ring buffer: as if full */
		return 0;
	case BPF_FUNC_xdp_get_buff_len:
		r[0] = (uint64_t)(vm->data_end - vm->data); /* one buffer here */
		return 0;
	case BPF_FUNC_xdp_adjust_meta: {
		uint8_t *meta = vm->data_meta + (int32_t)r[2];
		size_t len = (size_t)(vm->data - meta);

		if (meta < vm->pkt + XDP_FRAME_SIZE || meta > vm->data)
			r[0] = (uint64_t)-EINVAL;
		else if (len & 3 || len > MAX_META)
			r[0] = (uint64_t)-EACCES;
		else
			vm->data_meta = meta, r[0] = 0;
		return 0;
	}
	default:
		return fail(vm, "helper %d is not emulated", id);
	}
}

/* One line per operation reads as a table. */
/* clang-format off */
static uint64_t alu(uint8_t op, uint64_t d, uint64_t s, bool is64, bool *bad)
{
	if (!is64) {
		d = (uint32_t)d;
		s = (uint32_t)s;
	}
	switch (op) {
	case BPF_ADD: return d + s;
	case BPF_SUB: return d - s;
	case BPF_MUL: return d * s;
	case BPF_DIV: return s ? d / s : 0;
	case BPF_MOD: return s ? d % s : d;
	case BPF_OR: return d | s;
	case BPF_AND: return d & s;
	case BPF_XOR: return d ^ s;
	case BPF_LSH: return d << (s & (is64 ? 63 : 31));
	case BPF_RSH: return d >> (s & (is64 ? 63 : 31));
	case BPF_NEG: return -d;
	case BPF_MOV: return s;
	case BPF_ARSH:
		if (is64)
			return (uint64_t)((int64_t)d >> (s & 63));
		return (uint32_t)((int32_t)d >> (s & 31));
	}
	*bad = true;
	return 0;
}
/* clang-format on */

/* One line per operation reads as a table. */
/* clang-format off */
static int cond(uint8_t op, uint64_t d, uint64_t s, bool is64, bool *bad)
{
	int64_t sd = (int64_t)d, ss = (int64_t)s;

	if (!is64) {
		d = (uint32_t)d, s = (uint32_t)s;
		sd = (int32_t)d, ss = (int32_t)s;
	}
	switch (op) {
	case BPF_JEQ: return d == s;
	case BPF_JNE: return d != s;
	case BPF_JGT: return d > s;
	case BPF_JGE: return d >= s;
	case BPF_JLT: return d < s;
	case BPF_JLE: return d <= s;
	case BPF_JSET: return (d & s) != 0;
	case BPF_JSGT: return sd > ss;
	case BPF_JSGE: return sd >= ss;
	case BPF_JSLT: return sd < ss;
	case BPF_JSLE: return sd <= ss;
	}
	*bad = true;
	return 0;
}
/* clang-format on */

/* One line per operation reads as a table. */
/* clang-format off */
static uint64_t swap(uint64_t v, int bits)
{
	switch (bits) {
	case 16: return __builtin_bswap16((uint16_t)v);
	case 32: return __builtin_bswap32((uint32_t)v);
	default: return __builtin_bswap64(v);
	}
}
/* clang-format on */

static int atomic(struct vm *vm, const struct bpf_insn *in, int size)
{
	uint64_t p = vm->r[in->dst_reg] + (uint64_t)(int64_t)in->off, old, v = vm->r[in->src_reg];
	int op = in->imm & ~BPF_FETCH;
	bool bad = false;

	if (load(vm, p, size, &old))
		return fail(vm, "atomic access out of bounds");
	if (in->imm == BPF_XCHG) {
		vm->r[in->src_reg] = old;
	} else if (in->imm == BPF_CMPXCHG) {
		if (old == (size == 4 ? (uint32_t)vm->r[0] : vm->r[0]))
			store(vm, p, size, v);
		vm->r[0] = old;
		return 0;
	} else {
		v = alu((uint8_t)op, old, v, size == 8, &bad);
		if (in->imm & BPF_FETCH)
			vm->r[in->src_reg] = old;
	}
	if (bad)
		return fail(vm, "atomic op 0x%x", in->imm);
	return store(vm, p, size, v);
}

/* clang-format off */
static const int sizes[] = { [BPF_W >> 3] = 4, [BPF_H >> 3] = 2, [BPF_B >> 3] = 1, [BPF_DW >> 3] = 8 };
/* clang-format on */

static int ld_imm64(struct vm *vm, const struct bpf_insn *in, uint64_t *v)
{
	struct emu_map *m;
	struct entry *e;
	uint32_t zero = 0;

	switch (in->src_reg) {
	case 0:
		*v = (uint32_t)in[0].imm | (uint64_t)(uint32_t)in[1].imm << 32;
		return 0;
	case BPF_PSEUDO_MAP_FD:
	case BPF_PSEUDO_MAP_VALUE:
		m = map_of_fd(vm, in->imm);
		if (!m)
			return fail(vm, "map fd %d unreadable", in->imm);
		if (in->src_reg == BPF_PSEUDO_MAP_FD) {
			*v = (uintptr_t)m;
			return 0;
		}
		e = entry_get(vm, m, &zero); /* global data: the value of key 0 */
		if (!e || !e->present)
			return fail(vm, "global data map fd %d unreadable", in->imm);
		*v = (uintptr_t)e->value + (uint32_t)in[1].imm;
		return 0;
	}
	return fail(vm, "ld_imm64 kind %d", in->src_reg);
}

/* Runs to the final exit; counts in res. */
static int run(struct vm *vm, const struct bpf_insn *insns, size_t n, struct icount_result *res)
{
	uint64_t saved[MAX_FRAMES][5]; /* r6-r9, return pc */
	int depth = 0;
	size_t pc = 0;

	vm->r[10] = (uintptr_t)vm->stack + STACK_FRAME;
	for (unsigned long steps = 0; steps < MAX_STEPS; steps++) {
		const struct bpf_insn *in;
		uint8_t cls, op;
		uint64_t *d, s, v;
		bool bad = false;

		if (pc >= n)
			return fail(vm, "pc %zu past the end", pc);
		in = &insns[pc];
		cls = BPF_CLASS(in->code);
		op = BPF_OP(in->code);
		d = &vm->r[in->dst_reg];
		s = BPF_SRC(in->code) == BPF_X ? vm->r[in->src_reg] : (uint64_t)(int64_t)in->imm;
		res->insns++;
		switch (cls) {
		case BPF_ALU:
		case BPF_ALU64:
			if (in->off) {
				bad = true; /* signed division and sign-extending moves (cpu v4) */
			} else if (op == BPF_END) {
				/* ALU64 | END is v4's unconditional byte swap. */
				v = BPF_SRC(in->code) == BPF_TO_BE || cls == BPF_ALU64 ?
					    swap(*d, in->imm) :
					    *d;
				*d = in->imm == 64 ? v : v & ((1ull << in->imm) - 1);
			} else {
				v = alu(op, *d, s, cls == BPF_ALU64, &bad);
				*d = cls == BPF_ALU64 ? v : (uint32_t)v;
			}
			break;
		case BPF_LD:
			if (in->code != (BPF_LD | BPF_IMM | BPF_DW))
				return fail(vm, "insn %zu: opcode 0x%02x not interpreted", pc,
					    in->code);
			if (ld_imm64(vm, in, d))
				return -1;
			pc++;
			break;
		case BPF_LDX:
			if (BPF_MODE(in->code) != BPF_MEM ||
			    load(vm, vm->r[in->src_reg] + (uint64_t)(int64_t)in->off,
				 sizes[BPF_SIZE(in->code) >> 3], d))
				return fail(vm, "insn %zu: load out of bounds", pc);
			break;
		case BPF_ST:
		case BPF_STX:
			if (BPF_MODE(in->code) == BPF_ATOMIC && cls == BPF_STX) {
				if (atomic(vm, in, sizes[BPF_SIZE(in->code) >> 3]))
					return -1;
				break;
			}
			if (BPF_MODE(in->code) != BPF_MEM ||
			    store(vm, *d + (uint64_t)(int64_t)in->off,
				  sizes[BPF_SIZE(in->code) >> 3],
				  cls == BPF_STX ? vm->r[in->src_reg] : (uint64_t)(int64_t)in->imm))
				return fail(vm, "insn %zu: store out of bounds", pc);
			break;
		case BPF_JMP:
		case BPF_JMP32:
			if (op == BPF_JA) {
				pc += in->off;
			} else if (op == BPF_CALL && in->src_reg == BPF_PSEUDO_CALL) {
				if (depth + 1 == MAX_FRAMES)
					return fail(vm, "call depth");
				memcpy(saved[depth], &vm->r[6], 4 * sizeof(uint64_t));
				saved[depth][4] = pc;
				depth++;
				vm->r[10] += STACK_FRAME;
				pc += in->imm;
			} else if (op == BPF_CALL) {
				res->calls++;
				if (helper(vm, in->imm))
					return -1;
			} else if (op == BPF_EXIT) {
				if (!depth) {
					res->retval = (uint32_t)vm->r[0];
					return 0;
				}
				depth--;
				memcpy(&vm->r[6], saved[depth], 4 * sizeof(uint64_t));
				pc = saved[depth][4];
				vm->r[10] -= STACK_FRAME;
			} else if (cond(op, *d, s, cls == BPF_JMP, &bad)) {
				pc += in->off;
			}
			break;
		default:
			bad = true;
		}
		if (bad)
			return fail(vm, "insn %zu: opcode 0x%02x not interpreted", pc, in->code);
		pc++;
	}
	return fail(vm, "more than %d instructions", MAX_STEPS);
}

int icount_xdp(const struct bpf_program *prog, int cpu, const void *in, size_t in_len, void *out,
	       struct icount_result *res, char *err, size_t errlen)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	int ret;

	memset(res, 0, sizeof(*res));
	if (!vm || in_len > sizeof(vm->pkt) - HEADROOM || cpu < 0 ||
	    cpu >= libbpf_num_possible_cpus()) {
		free(vm);
		snprintf(err, errlen, vm ? "frame too long or no such CPU" : "out of memory");
		return -1;
	}
	vm->err = err;
	vm->errlen = errlen;
	vm->cpu = cpu;
	vm->data = vm->data_meta = vm->pkt + HEADROOM;
	vm->data_end = vm->data + in_len;
	memcpy(vm->data, in, in_len);
	vm->r[1] = (uintptr_t)vm->ctx;
	ret = run(vm, bpf_program__insns(prog), bpf_program__insn_cnt(prog), res);
	if (!ret) {
		res->len = (size_t)(vm->data_end - vm->data);
		res->meta_len = (size_t)(vm->data - vm->data_meta);
		memcpy(out, vm->data, res->len);
	}
	for (struct entry *e = vm->entries, *next; e; e = next) {
		next = e->next;
		free(e->value), free(e);
	}
	free(vm);
	return ret;
}
